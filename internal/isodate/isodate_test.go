package isodate

import (
	"testing"
	"time"
)

// FuzzDate checks that Date accepts and rejects exactly what
// time.Parse(time.DateOnly, s) does, with the same date.
func FuzzDate(f *testing.F) {
	for _, s := range []string{
		"2000-03-04", "0000-01-01", "9999-12-31",
		"2000-02-29", "2012-02-29", "1900-02-29", "2013-02-29", "2012-02-30",
		"2026-04-30", "2026-04-31", "2026-01-31", "2026-01-32",
		"2026-00-10", "2026-13-01", "2026-01-00",
		"2026-1-01", "2026-01-1", "20260-1-01", "+026-01-01", "-026-01-01",
		"2026/01/01", "2026-01-01 ", " 2026-01-01", "2026-01-01T00:00:00Z",
		"abcd-01-01", "2026-0a-01", "2026-01-0\x00", "", "01/02/2000",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		y, m, d, ok := Date(s)
		want, err := time.Parse(time.DateOnly, s)
		if ok != (err == nil) {
			t.Fatalf("Date(%q) ok=%v, time.Parse err=%v", s, ok, err)
		}
		if ok && (y != want.Year() || m != int(want.Month()) || d != want.Day()) {
			t.Fatalf("Date(%q) = %d-%d-%d, time.Parse gives %v", s, y, m, d, want)
		}
	})
}
