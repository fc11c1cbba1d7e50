package primero_test

import (
	"context"
	"runtime"
	"testing"
	"time"
	"weak"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/casebridge/casebridge/primero"
	"github.com/casebridge/casebridge/primero/primerotest"
)

// TestChangesRemembersOnlyTheOverlapWindow checks that what a feed keeps
// to de-duplicate the overlap depends on the page size and the overlap,
// not on how many cases it reads: on a first load of thousands of cases
// spread over minutes, it must not keep every case id it has seen.
func TestChangesRemembersOnlyTheOverlapWindow(t *testing.T) {
	// 3,000 cases 100 ms apart (5 minutes of stamps), pages of 100: the
	// overlap (2 s, ~30 cases) and the pages a step back may read again
	// (RecentPages, and one more before a prune) is all it needs.
	feedServers(t, 100*time.Millisecond, func(t *testing.T, s *primerotest.Server, c *primero.Client) {
		s.AddSyntheticCases(3000)
		const per = 100
		f := c.Cases.Changes(&primero.ChangesOptions{Per: per})
		most, n := 0, 0
		seen := map[string]bool{}
		for k, err := range f.All(context.Background()) {
			require.NoError(t, err)
			require.False(t, seen[k.ID], "case %s yielded twice", k.ID)
			seen[k.ID] = true
			n++
			most = max(most, f.RememberedCases())
		}
		require.Equal(t, 3000, n)
		assert.LessOrEqual(t, most, (primero.RecentPages+2)*per, "cases remembered at most (of %d read)", n)
	})
}

// TestChangesLetsGoOfTheCasesItHasYielded checks that a feed does not hold
// the cases of a page it has already handed over: a consumer that keeps
// none of them lets them be collected while the rest of the page is read,
// so what the feed holds shrinks as a page is consumed.
func TestChangesLetsGoOfTheCasesItHasYielded(t *testing.T) {
	feedServers(t, 100*time.Millisecond, func(t *testing.T, s *primerotest.Server, c *primero.Client) {
		s.AddSyntheticCases(300)
		const per = 100
		var first weak.Pointer[primero.Case]
		checked := 0
		n := 0
		for k, err := range c.Cases.Changes(&primero.ChangesOptions{Per: per}).All(context.Background()) {
			require.NoError(t, err)
			switch n % per {
			case 0:
				first = weak.Make(k)
			case per - 1:
				runtime.GC()
				assert.True(t, first.Value() == nil, "the first case of page %d is still held at its last case", n/per+1)
				checked++
			}
			n++
		}
		require.Equal(t, 300, n)
		require.Equal(t, 3, checked)
	})
}
