package primerotest

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
)

// listAllocs measures the allocations of one filtered and one unfiltered
// list request over a fake holding n cases.
func listAllocs(t *testing.T, n int, path string) float64 {
	s := NewServer(t)
	s.AddSyntheticCases(n)
	req := httptest.NewRequest(http.MethodGet, path, nil)
	req.SetBasicAuth(DefaultUser, DefaultPassword)
	return testing.AllocsPerRun(5, func() {
		s.ResetRequests()
		w := httptest.NewRecorder()
		s.ServeHTTP(w, req)
		if w.Code != http.StatusOK {
			t.Fatalf("status %d", w.Code)
		}
	})
}

// TestListAllocationsDoNotScaleWithCases proves that a list request does
// not allocate per stored case: only the slice of matching indexes grows.
func TestListAllocationsDoNotScaleWithCases(t *testing.T) {
	if testing.Short() {
		t.Skip("seeds 20,000 cases")
	}
	for _, path := range []string{
		"/api/v2/cases?per=50&order=asc",
		"/api/v2/cases?per=50&sex=male&age=3..9&loc:location_current=XX01&created_at=2000-01-01..",
		"/api/v2/cases?per=50&order_by=age",
	} {
		small := listAllocs(t, 2_000, path)
		large := listAllocs(t, 20_000, path)
		// Growing the index slice from 2k to 20k entries costs a few
		// doublings, not thousands of allocations.
		assert.Less(t, large, small+40, "%s: %v allocs at 2k cases, %v at 20k", path, small, large)
	}
}
