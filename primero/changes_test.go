package primero_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/casebridge/casebridge/primero"
	"github.com/casebridge/casebridge/primero/primerotest"
)

// steppingClock returns a server clock that moves step forward at every
// reading, from a fixed instant, so that the fake's timestamps are spread
// (or packed) as a test needs.
func steppingClock(step time.Duration) func() time.Time {
	var mu sync.Mutex
	now := time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
	return func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		now = now.Add(step)
		return now
	}
}

// feedServers runs a test against the fake, which compares
// last_updated_at ranges at whole seconds as Primero does.
func feedServers(t *testing.T, step time.Duration, run func(t *testing.T, s *primerotest.Server, c *primero.Client)) {
	s := primerotest.NewServer(t, primerotest.WithClock(steppingClock(step)))
	c, err := primero.New(s.URL(), primero.WithBasicAuth(primerotest.DefaultUser, primerotest.DefaultPassword),
		primero.WithRetry(fastRetry))
	require.NoError(t, err)
	run(t, s, c)
}

// drain ranges over a feed and returns the cases in order.
func drain(t *testing.T, f *primero.Feed) []*primero.Case {
	t.Helper()
	var out []*primero.Case
	for c, err := range f.All(context.Background()) {
		require.NoError(t, err)
		out = append(out, c)
	}
	return out
}

// current returns id -> last_updated_at of every case in the fake.
func current(s *primerotest.Server) map[string]string {
	out := map[string]string{}
	for _, c := range s.Cases() {
		out[c["id"].(string)] = c["last_updated_at"].(string)
	}
	return out
}

func stamp(c *primero.Case) string { return c.LastUpdatedAt.UTC().Format("2006-01-02T15:04:05.000Z") }

func TestChangesYieldsEveryCaseOnceInAscendingOrder(t *testing.T) {
	// 1 ms apart: 2,500 cases over 2.5 s, so each second holds 1000 cases,
	// ten times the page size.
	feedServers(t, 0, func(t *testing.T, s *primerotest.Server, c *primero.Client) {
		s.AddSyntheticCases(2500)
		f := c.Cases.Changes(&primero.ChangesOptions{Per: 100})
		got := drain(t, f)
		require.Len(t, got, 2500)
		seen := map[string]bool{}
		for i, k := range got {
			require.False(t, seen[k.ID], "case %s yielded twice", k.ID)
			seen[k.ID] = true
			if i > 0 {
				require.False(t, k.LastUpdatedAt.Before(got[i-1].LastUpdatedAt), "not ascending at %d", i)
			}
		}
		assert.Equal(t, 2500, f.Total())
		last := got[len(got)-1]
		assert.True(t, f.Watermark().At.Equal(last.LastUpdatedAt), "the watermark is the newest timestamp read")
		assert.Equal(t, []string{last.ID}, f.Watermark().IDs)
	})
}

func TestChangesResumesFromWatermarkWithOnlyWhatChanged(t *testing.T) {
	// One second between stamps, no overlap: a resumed feed reads again only
	// the watermark's own second, whose case the watermark names.
	feedServers(t, time.Second, func(t *testing.T, s *primerotest.Server, c *primero.Client) {
		s.AddSyntheticCases(30)
		first := drain(t, c.Cases.Changes(&primero.ChangesOptions{Per: 7, Overlap: -1}))
		require.Len(t, first, 30)
		wm := primero.Watermark{At: first[29].LastUpdatedAt, IDs: []string{first[29].ID}}

		ctx := context.Background()
		for _, k := range []*primero.Case{first[3], first[17], first[29]} {
			_, err := c.Cases.Update(ctx, k.ID, primero.Patch{"workflow": "case_plan"})
			require.NoError(t, err)
		}
		again := drain(t, c.Cases.Changes(&primero.ChangesOptions{Since: wm, Per: 7, Overlap: -1}))
		ids := make([]string, len(again))
		for i, k := range again {
			ids[i] = k.ID
		}
		assert.Equal(t, []string{first[3].ID, first[17].ID, first[29].ID}, ids)
	})
}

func TestChangesOverlapYieldsRecentCasesAgain(t *testing.T) {
	feedServers(t, 100*time.Millisecond, func(t *testing.T, s *primerotest.Server, c *primero.Client) {
		s.AddSyntheticCases(100) // 10 s of stamps
		first := drain(t, c.Cases.Changes(nil))
		require.Len(t, first, 100)
		f := c.Cases.Changes(&primero.ChangesOptions{Since: primero.Watermark{At: first[99].LastUpdatedAt, IDs: []string{first[99].ID}}})
		again := drain(t, f)
		from := first[99].LastUpdatedAt.Truncate(time.Second).Add(-primero.DefaultOverlap)
		want := 0
		for _, k := range first[:99] {
			if !k.LastUpdatedAt.Before(from) {
				want++
			}
		}
		assert.Len(t, again, want, "the overlap re-reads the last seconds, except the case the watermark names")
		assert.Greater(t, want, 10)
	})
}

// TestChangesLosesNoCaseWhenAnEarlierCaseChangesMidRun is the moving-set
// case: a case already read is updated between two pages, so it moves to
// the end and every later page shifts by one. Naive page-number paging
// skips the case that slides onto the page already read.
func TestChangesLosesNoCaseWhenAnEarlierCaseChangesMidRun(t *testing.T) {
	feedServers(t, 10*time.Millisecond, func(t *testing.T, s *primerotest.Server, c *primero.Client) {
		s.AddSyntheticCases(1000)
		ctx := context.Background()
		f := c.Cases.Changes(&primero.ChangesOptions{Per: 50, Overlap: -1})
		seen := map[string]string{}
		n := 0
		var updated []string
		for k, err := range f.All(ctx) {
			require.NoError(t, err)
			seen[k.ID+"@"+stamp(k)] = k.ID
			n++
			if n%120 == 0 { // between pages, change a case read long ago
				_, err := c.Cases.Update(ctx, k.ID, primero.Patch{"workflow": "case_plan"})
				require.NoError(t, err)
				updated = append(updated, k.ID)
			}
		}
		ids := map[string]bool{}
		for _, id := range seen {
			ids[id] = true
		}
		for id := range current(s) {
			require.True(t, ids[id], "case %s was never yielded", id)
		}
		// A second run from the watermark yields the latest version of
		// every updated case the first did not already yield.
		for k, err := range c.Cases.Changes(&primero.ChangesOptions{Since: f.Watermark(), Per: 50, Overlap: -1}).All(ctx) {
			require.NoError(t, err)
			seen[k.ID+"@"+stamp(k)] = k.ID
		}
		for id, ts := range current(s) {
			require.Contains(t, seen, id+"@"+ts, "latest version of case %s never yielded", id)
		}
		require.NotEmpty(t, updated)
	})
}

// TestChangesResumedAfterEveryBreakConverges stops the feed after n new
// cases (not counting those the overlap reads again) for many n, resumes from the watermark each time, and checks that every
// case is yielded by some run.
func TestChangesResumedAfterEveryBreakConverges(t *testing.T) {
	feedServers(t, 0, func(t *testing.T, s *primerotest.Server, c *primero.Client) {
		s.AddSyntheticCases(300) // 1 ms apart: every page shares its second
		ctx := context.Background()
		for _, stopAfter := range []int{1, 49, 50, 51, 99, 150, 299} {
			var wm primero.Watermark
			got := map[string]bool{}
			for run := 0; run < 400; run++ {
				f := c.Cases.Changes(&primero.ChangesOptions{Since: wm, Per: 50})
				n, complete := 0, true
				for k, err := range f.All(ctx) {
					require.NoError(t, err)
					got[k.ID] = true
					if wm.Covers(k.ID, k.LastUpdatedAt) {
						continue // read again through the overlap: no progress
					}
					if n++; n == stopAfter {
						complete = false
						break
					}
				}
				require.True(t, wm.IsZero() || !f.Watermark().At.Before(wm.At), "the watermark never goes back")
				wm = f.Watermark()
				if complete {
					break
				}
			}
			assert.Equal(t, 300, len(got), "stopping after %d cases", stopAfter)
		}
	})
}

func TestChangesSendsTheCallersFilters(t *testing.T) {
	s := primerotest.NewServer(t)
	s.AddSyntheticCases(12)
	c := newClient(t, s)
	got := drain(t, c.Cases.Changes(&primero.ChangesOptions{Filters: []primero.Filter{primero.Sex("male")}}))
	require.Len(t, got, 6)
	for _, k := range got {
		assert.Equal(t, "male", k.Sex)
	}
	for _, r := range s.Requests() {
		if r.Method == http.MethodGet && strings.HasSuffix(r.Path, "/cases") {
			q := r.Query
			assert.Equal(t, "male", q.Get("sex"), "every query carries the caller's filters (pitfall 16)")
			assert.Equal(t, "last_updated_at", q.Get("order_by"))
			assert.NotEmpty(t, q.Get("last_updated_at"))
		}
	}
}

func TestChangesRefusesALastUpdatedAtFilter(t *testing.T) {
	s := primerotest.NewServer(t)
	c := newClient(t, s)
	f := c.Cases.Changes(&primero.ChangesOptions{Filters: []primero.Filter{primero.UpdatedSince(time.Now())}})
	var err error
	for _, err = range f.All(context.Background()) {
	}
	var ve *primero.ValidationError
	require.ErrorAs(t, err, &ve)
	assert.Zero(t, countMethod(s, http.MethodGet), "nothing is sent")
}

func TestFeedCanBeRangedOnce(t *testing.T) {
	s := primerotest.NewServer(t)
	s.AddSyntheticCases(2)
	c := newClient(t, s)
	f := c.Cases.Changes(nil)
	drain(t, f)
	var err error
	for _, err = range f.All(context.Background()) {
	}
	require.Error(t, err)
}

// churn sits in front of the fake and, before every case list request,
// updates one of the given cases through the fake's own API: Primero
// changing under the feed independently of its progress.
type churn struct {
	next http.Handler
	ids  []string
	mu   sync.Mutex
	n    int
}

func (h *churn) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, "/api/v2/cases") && r.URL.Query().Get("per") != "1" {
		h.mu.Lock()
		id := h.ids[h.n%len(h.ids)]
		h.n++
		h.mu.Unlock()
		req := httptest.NewRequest(http.MethodPatch, "/api/v2/cases/"+id, strings.NewReader(`{"data":{"workflow":"case_plan"}}`))
		req.Header.Set("Content-Type", "application/json")
		req.SetBasicAuth(primerotest.DefaultUser, primerotest.DefaultPassword)
		h.next.ServeHTTP(httptest.NewRecorder(), req)
	}
	h.next.ServeHTTP(w, r)
}

func TestChangesKeepsUpWithConstantChanges(t *testing.T) {
	s := primerotest.NewServer(t, primerotest.WithClock(steppingClock(0))) // 1 ms apart: dense
	s.AddSyntheticCases(600)
	var ids []string
	for _, c := range s.Cases()[:200] {
		ids = append(ids, c["id"].(string))
	}
	proxy := httptest.NewServer(&churn{next: s, ids: ids})
	defer proxy.Close()
	c, err := primero.New(proxy.URL, primero.WithBasicAuth(primerotest.DefaultUser, primerotest.DefaultPassword))
	require.NoError(t, err)

	seen := map[string]bool{}
	var wm primero.Watermark
	for run := 0; run < 5; run++ {
		f := c.Cases.Changes(&primero.ChangesOptions{Since: wm, Per: 50})
		for k, err := range f.All(context.Background()) {
			require.NoError(t, err)
			seen[k.ID+"@"+stamp(k)] = true
		}
		wm = f.Watermark()
	}
	// Every case was yielded in some version, and every case the churn left
	// alone in its only version.
	ids2 := map[string]bool{}
	for key := range seen {
		ids2[key[:strings.IndexByte(key, '@')]] = true
	}
	for id, ts := range current(s) {
		require.True(t, ids2[id], "case %s never yielded", id)
		if !slices.Contains(ids, id) {
			require.True(t, seen[id+"@"+ts], "case %s: its only version never yielded", id)
		}
	}
}

func TestChangesReadsTimestampsInAnyRFC3339Layout(t *testing.T) {
	s := primerotest.NewServer(t)
	s.AddSyntheticCases(3)
	odd := s.AddCase(map[string]any{"module_id": "primeromodule-cp", "last_updated_at": "2099-03-01T08:00:00.5+00:00"})
	c := newClient(t, s)
	f := c.Cases.Changes(nil)
	got := drain(t, f)
	require.Len(t, got, 4)
	assert.Equal(t, odd["id"], got[3].ID, "ordered by its instant")
	assert.True(t, f.Watermark().At.Equal(time.Date(2099, 3, 1, 8, 0, 0, 500_000_000, time.UTC)))
}

// ignoreOrder sits in front of the fake and drops order_by and order, as a
// server that cannot sort on last_updated_at would: the fake then answers
// newest created first.
type ignoreOrder struct{ next http.Handler }

func (h ignoreOrder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if q.Get("per") != "1" { // leave the probe alone
		q.Del("order_by")
		q.Del("order")
		r.URL.RawQuery = q.Encode()
	}
	h.next.ServeHTTP(w, r)
}

func TestChangesStopsWhenTheServerDoesNotSort(t *testing.T) {
	s := primerotest.NewServer(t, primerotest.WithClock(steppingClock(time.Second)))
	s.AddSyntheticCases(30)
	proxy := httptest.NewServer(ignoreOrder{s})
	defer proxy.Close()
	c, err := primero.New(proxy.URL, primero.WithBasicAuth(primerotest.DefaultUser, primerotest.DefaultPassword))
	require.NoError(t, err)
	f := c.Cases.Changes(&primero.ChangesOptions{Per: 10})
	var last error
	for _, err := range f.All(context.Background()) {
		last = err
	}
	require.ErrorIs(t, last, primero.ErrUnsorted)
	assert.True(t, f.Watermark().IsZero() || f.Watermark().At.Before(time.Date(2026, 3, 1, 8, 0, 2, 0, time.UTC)),
		"the watermark does not pass cases it has not read")
}
