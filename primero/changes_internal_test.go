package primero

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/casebridge/casebridge/primero/primerotest"
)

// TestFeedMemoryDoesNotGrowWithTheCasesRead reads 3000 cases spread over
// five minutes in one closed window (a first load) and checks that the
// feed's record of cases read stays a few pages long: a first load of a
// million cases must not keep a million ids.
func TestFeedMemoryDoesNotGrowWithTheCasesRead(t *testing.T) {
	var mu sync.Mutex
	now := time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
	s := primerotest.NewServer(t, primerotest.WithClock(func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		now = now.Add(100 * time.Millisecond)
		return now
	}))
	s.AddSyntheticCases(3000)
	c, err := New(s.URL(), WithBasicAuth(primerotest.DefaultUser, primerotest.DefaultPassword))
	require.NoError(t, err)
	const per = 50
	f := c.Cases.Changes(&ChangesOptions{Per: per})
	n, most := 0, 0
	for _, err := range f.All(context.Background()) {
		require.NoError(t, err)
		n++
		most = max(most, len(f.recent))
	}
	require.Equal(t, 3000, n)
	assert.LessOrEqual(t, most, 2*recentPages*per+per, "the feed kept %d of %d cases read", most, n)
}
