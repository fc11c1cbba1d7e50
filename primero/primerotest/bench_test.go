package primerotest

import (
	"fmt"
	"io"
	"net/http"
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
