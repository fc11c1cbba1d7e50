package referral

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"

	"github.com/casebridge/casebridge/mapping"
	"github.com/casebridge/casebridge/primero"
)

// What an update writes into an existing case, and what it leaves alone,
// is documented on IntakeConfig; mergePatch implements it.

// errCaseOutOfScope: the case the stable id names exists, but the account
// cannot read it.
var errCaseOutOfScope = errors.New("referral: the case exists outside the account's scope")

// neverUpdated are case fields an update never writes.
var neverUpdated = map[string]bool{"owned_by": true, "module_id": true, "status": true, "id": true, "case_id": true}

// find returns the case the item belongs to: nil when there is none, or a
// failure code (several cases carry the person's id).
func (c *intakeCore) find(ctx context.Context, it intakeItem) (*primero.Case, string, error) {
	var ids []string
	opts := &primero.ListOptions{Per: 100, Fields: []string{"id", c.matchField}, Filters: []primero.Filter{primero.Raw(c.matchField, it.person(c.system))}}
	for hit, err := range c.cfg.Primero.Cases.All(ctx, opts) {
		if err != nil {
			return nil, "", fmt.Errorf("referral: %s: search cases: %w", c.flow, err)
		}
		if got, _ := hit.Get(c.matchField); got != it.person(c.system) {
			// The server answered a case without the key: it ignored the
			// filter (pitfall 3). Matching on that would be a guess.
			return nil, "", fmt.Errorf("referral: %s: search cases: %w", c.flow, primero.ErrFilterIgnored)
		}
		ids = append(ids, hit.ID)
	}
	switch len(ids) {
	case 0:
		return nil, "", nil
	case 1:
		got, err := c.cfg.Primero.Cases.Get(ctx, ids[0])
		if err != nil {
			return nil, "", fmt.Errorf("referral: %s: read case: %w", c.flow, err)
		}
		return got, "", nil
	default:
		// Several cases for one child: do not guess (pitfall 2).
		return nil, codeAmbiguous, nil
	}
}

// write creates the case or updates existing with rec (gated and mapped,
// its service row named).
func (c *intakeCore) write(ctx context.Context, it intakeItem, rec mapping.Record, existing *primero.Case) (intakeOutcome, error) {
	if existing == nil {
		return c.create(ctx, it, rec)
	}
	p := mergePatch(existing, rec, c.matchField)
	out := intakeOutcome{RecordID: existing.ID, CaseID: existing.CaseID, Owner: existing.OwnedBy,
		ServiceID: serviceRowID(existing, c.serviceID(it.Key), it.Key.ID)}
	if len(p) == 0 {
		return out, nil
	}
	if _, err := c.cfg.Primero.Cases.Update(ctx, existing.ID, p); err != nil {
		return intakeOutcome{}, fmt.Errorf("referral: %s: update case: %w", c.flow, err)
	}
	out.Updated = true
	return out, nil
}

// create creates the case under its stable id. A 409 means an earlier
// attempt whose answer was lost created it (or another process did): it is
// read back and updated like any existing case, never created again.
func (c *intakeCore) create(ctx context.Context, it intakeItem, rec mapping.Record) (intakeOutcome, error) {
	if err := c.checkOwners(ctx); err != nil {
		return intakeOutcome{}, err
	}
	body := maps.Clone(rec)
	body["id"] = c.caseID(it.person(c.system))
	body["owned_by"] = c.owner(it.Agency)
	nc, err := primero.FromRecord(body)
	if err != nil {
		return intakeOutcome{}, fmt.Errorf("referral: %s: case body: %w", c.flow, err)
	}
	got, err := c.cfg.Primero.Cases.Create(ctx, nc)
	if errors.Is(err, primero.ErrConflict) {
		existing, gerr := c.cfg.Primero.Cases.Get(ctx, c.caseID(it.person(c.system)))
		if errors.Is(gerr, primero.ErrNotFound) || errors.Is(gerr, primero.ErrForbidden) {
			// The case the stable id names exists but this account cannot
			// read it (outside its scope, pitfall 5): a person must look,
			// so the referral is answered as failed, not retried for ever.
			return intakeOutcome{}, errCaseOutOfScope
		}
		if gerr != nil {
			return intakeOutcome{}, fmt.Errorf("referral: %s: read back case after 409: %w", c.flow, gerr)
		}
		return c.write(ctx, it, rec, existing)
	}
	if err != nil {
		return intakeOutcome{}, fmt.Errorf("referral: %s: create case: %w", c.flow, err)
	}
	return intakeOutcome{RecordID: got.ID, CaseID: got.CaseID, Owner: got.OwnedBy, ServiceID: c.serviceID(it.Key), Created: true}, nil
}

// mergePatch is the update of existing with rec, by the rules at the top
// of this file; empty when there is nothing to add.
func mergePatch(existing *primero.Case, rec mapping.Record, matchField string) primero.Patch {
	p := primero.Patch{}
	for _, k := range slices.Sorted(maps.Keys(rec)) {
		v := rec[k]
		switch {
		case neverUpdated[k] || k == matchField || k == "services_section":
		case k == "language":
			have, _ := existing.Get(k)
			merged := union(asList(have), asList(v))
			if len(merged) > len(asList(have)) {
				p.Set(k, merged)
			}
		default:
			if have, _ := existing.Get(k); isBlank(have) && !isBlank(v) {
				p.Set(k, v)
			}
		}
	}
	for _, r := range asList(rec["services_section"]) {
		row, ok := r.(map[string]any)
		if !ok {
			continue
		}
		if fields := mergeRow(existing.Services, row); fields != nil {
			id, _ := fields["unique_id"].(string)
			delete(fields, "unique_id")
			if len(fields) > 0 {
				p.UpdateRow("services_section", id, fields)
			}
		}
	}
	return p
}

// mergeRow returns the fields to write for row: all of them when the case
// has no such service, its empty ones otherwise, nil when nothing. The
// result carries the unique_id to write under.
func mergeRow(services []primero.Service, row map[string]any) map[string]any {
	id, _ := row["unique_id"].(string)
	num, _ := row["progres_interventionnumber"].(string)
	have := findRow(services, id, num)
	if have == nil {
		return maps.Clone(row)
	}
	stored := map[string]any{}
	if b, err := have.MarshalJSON(); err == nil {
		_ = json.Unmarshal(b, &stored)
	}
	out := map[string]any{"unique_id": have.UniqueID}
	for k, v := range row {
		if k == "unique_id" {
			continue
		}
		if isBlank(stored[k]) && !isBlank(v) {
			out[k] = v
		}
	}
	if len(out) == 1 {
		return nil
	}
	return out
}

// findRow returns the case's service row for the referral: the one with
// its stable unique_id, else one an earlier integration made for the same
// intervention number; nil when there is none.
func findRow(services []primero.Service, id, num string) *primero.Service {
	for i := range services {
		if services[i].UniqueID == id {
			return &services[i]
		}
	}
	for i := range services {
		if n, _ := services[i].Fields["progres_interventionnumber"].(string); num != "" && n == num && services[i].UniqueID != "" {
			return &services[i]
		}
	}
	return nil
}

// serviceRowID is the unique_id the referral's service has in the case
// after the write: the row found in existing, else the stable id.
func serviceRowID(existing *primero.Case, id, num string) string {
	if existing != nil {
		if r := findRow(existing.Services, id, num); r != nil {
			return r.UniqueID
		}
	}
	return id
}

// isBlank reports a missing value: nil, a blank string or an empty list.
func isBlank(v any) bool {
	switch x := v.(type) {
	case nil:
		return true
	case string:
		for _, r := range x {
			if r != ' ' && r != '\t' && r != '\n' && r != '\r' {
				return false
			}
		}
		return true
	case []any:
		return len(x) == 0
	}
	return false
}
