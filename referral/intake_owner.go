package referral

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"

	"github.com/casebridge/casebridge/primero"
)

// errNoIntakeUser is a configured intake user that Primero does not know
// or has disabled: cases given to it would be seen by nobody.
var errNoIntakeUser = errors.New("referral: an intake user (DefaultOwner or an Owners entry) does not exist or is disabled in Primero")

// checkOwners verifies, once per process, that every configured intake
// user exists and is enabled, before the first case is created. Until it
// succeeds, creating fails (a transient error: the item comes again once
// the configuration or Primero is fixed).
func (c *intakeCore) checkOwners(ctx context.Context) error {
	c.mu.Lock()
	ok := c.ownersOK
	c.mu.Unlock()
	if ok {
		return nil
	}
	names := map[string]bool{c.cfg.DefaultOwner: true}
	for _, u := range c.cfg.Owners {
		names[u] = true
	}
	for _, n := range slices.Sorted(maps.Keys(names)) {
		u, err := c.cfg.Primero.Users.Get(ctx, n)
		if errors.Is(err, primero.ErrNotFound) || (err == nil && u.Disabled) {
			return fmt.Errorf("referral: %s: %w", c.flow, errNoIntakeUser)
		}
		if err != nil {
			return fmt.Errorf("referral: %s: read intake users: %w", c.flow, err)
		}
	}
	c.mu.Lock()
	c.ownersOK = true
	c.mu.Unlock()
	return nil
}
