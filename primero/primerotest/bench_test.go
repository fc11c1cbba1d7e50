package primerotest

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// BenchmarkAddSyntheticCases measures seeding 100,000 cases.
func BenchmarkAddSyntheticCases(b *testing.B) {
	for b.Loop() {
		s, err := Start()
		if err != nil {
			b.Fatal(err)
		}
		s.AddSyntheticCases(100_000)
		s.Close()
	}
}

// BenchmarkListAllPages reads 100,000 cases as 100 pages of 1000 in
// creation order, reporting cases/s.
func BenchmarkListAllPages(b *testing.B) {
	s, err := Start()
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	s.AddSyntheticCases(100_000)
	c := &http.Client{}
	for b.Loop() {
		for page := 1; page <= 100; page++ {
			req, _ := http.NewRequest(http.MethodGet,
				fmt.Sprintf("%s/api/v2/cases?order_by=created_at&order=asc&per=1000&page=%d", s.URL(), page), nil)
			req.SetBasicAuth(DefaultUser, DefaultPassword)
			res, err := c.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			_, _ = io.Copy(io.Discard, res.Body)
			res.Body.Close()
		}
		s.ResetRequests()
	}
	b.ReportMetric(float64(100_000*b.N)/b.Elapsed().Seconds(), "cases/s")
}

// BenchmarkListFiltered reads one filtered page out of 100,000 cases.
func BenchmarkListFiltered(b *testing.B) {
	s, err := Start()
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	s.AddSyntheticCases(100_000)
	c := &http.Client{}
	for b.Loop() {
		req, _ := http.NewRequest(http.MethodGet, s.URL()+"/api/v2/cases?sex=male&age=5..9&loc:location_current=XX01&per=100", nil)
		req.SetBasicAuth(DefaultUser, DefaultPassword)
		res, err := c.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
	}
}

// feedPagePath is the query of a page of primero's Changes feed (and of
// the dashboard's floor client): a last_updated_at window from the epoch,
// ordered by last_updated_at, 1000 per page, a few fields.
func feedPagePath(page int) string {
	return fmt.Sprintf("/api/v2/cases?last_updated_at=1970-01-01T00:00:00Z..&order_by=last_updated_at&order=asc"+
		"&per=1000&fields=id,sex,age,location_current,record_state&page=%d", page)
}

// BenchmarkListFeedPage serves one page of 1000 cases of the feed's query
// over fakes holding 10,000 and 100,000 cases, straight through
// ServeHTTP (no network), pages in turn, after one warm-up pass. Beside it,
// memcopy is the floor of serving a page: the same page's bytes, already
// rendered, copied into a fresh buffer and written to the recorder. A
// fake whose page cost does not depend on how many cases it holds reports
// about the same at both sizes.
func BenchmarkListFeedPage(b *testing.B) {
	for _, n := range []int{10_000, 100_000} {
		s, err := Start()
		if err != nil {
			b.Fatal(err)
		}
		s.AddSyntheticCases(n)
		pages := n / 1000
		reqs := make([]*http.Request, pages)
		bodies := make([][]byte, pages)
		for p := range reqs {
			reqs[p] = httptest.NewRequest(http.MethodGet, feedPagePath(p+1), nil)
			reqs[p].SetBasicAuth(DefaultUser, DefaultPassword)
			w := httptest.NewRecorder()
			s.ServeHTTP(w, reqs[p])
			if w.Code != http.StatusOK {
				b.Fatalf("status %d", w.Code)
			}
			bodies[p] = w.Body.Bytes()
		}
		s.ResetRequests()
		b.Run(fmt.Sprintf("fake/cases=%d", n), func(b *testing.B) {
			k := 0
			for b.Loop() {
				w := httptest.NewRecorder()
				s.ServeHTTP(w, reqs[k%pages])
				if w.Code != http.StatusOK {
					b.Fatalf("status %d", w.Code)
				}
				if k++; k%pages == 0 {
					s.ResetRequests()
				}
			}
		})
		// A write before every page: each page is then a new generation's
		// first answer to the query, one pass over every case.
		id := s.Cases()[0]["id"].(string)
		b.Run(fmt.Sprintf("fake-after-write/cases=%d", n), func(b *testing.B) {
			k := 0
			for b.Loop() {
				patch := httptest.NewRequest(http.MethodPatch, "/api/v2/cases/"+id,
					strings.NewReader(fmt.Sprintf(`{"data":{"workflow":"w%d"}}`, k%2)))
				patch.SetBasicAuth(DefaultUser, DefaultPassword)
				patch.Header.Set("Content-Type", "application/json")
				w := httptest.NewRecorder()
				s.ServeHTTP(w, patch)
				if w.Code != http.StatusOK {
					b.Fatalf("patch status %d", w.Code)
				}
				w = httptest.NewRecorder()
				s.ServeHTTP(w, reqs[k%pages])
				if w.Code != http.StatusOK {
					b.Fatalf("status %d", w.Code)
				}
				if k++; k%pages == 0 {
					s.ResetRequests()
				}
			}
		})
		b.Run(fmt.Sprintf("memcopy/cases=%d", n), func(b *testing.B) {
			k := 0
			for b.Loop() {
				w := httptest.NewRecorder()
				body := bodies[k%pages]
				writeRawJSON(w, http.StatusOK, append(make([]byte, 0, len(body)), body...))
				k++
			}
		})
		s.Close()
	}
}
