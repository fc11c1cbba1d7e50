package primero_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/casebridge/casebridge/primero"
)

func TestWatermarkRoundTrip(t *testing.T) {
	at := time.Date(2026, 3, 1, 8, 0, 0, 570_000_000, time.UTC)
	for _, w := range []primero.Watermark{
		{},
		{At: at},
		{At: at, IDs: []string{"0a30b142-3906-46d3-bbb4-f28c44b357d7", "6f1d7c57-40b3-4f65-9d0e-2a6d95a2c111"}},
	} {
		got, err := primero.ParseWatermark(w.String())
		require.NoError(t, err)
		assert.True(t, got.At.Equal(w.At))
		assert.Equal(t, len(w.IDs), len(got.IDs))
		assert.Equal(t, w.String(), got.String())
	}
	assert.Equal(t, "2026-03-01T08:00:00.57Z;a,b", primero.Watermark{At: at, IDs: []string{"a", "b"}}.String())
}

func TestWatermarkCovers(t *testing.T) {
	at := time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
	w := primero.Watermark{At: at, IDs: []string{"b"}}
	assert.True(t, w.Covers("x", at.Add(-time.Millisecond)), "earlier instants are covered")
	assert.True(t, w.Covers("b", at), "an id named at the instant is covered")
	assert.False(t, w.Covers("a", at), "another id at the instant is not")
	assert.False(t, w.Covers("b", at.Add(time.Millisecond)), "later instants are not")
	assert.False(t, primero.Watermark{}.Covers("b", at), "the zero watermark covers nothing")
}

func TestParseWatermarkRefusesWhatStringWouldNotWrite(t *testing.T) {
	ids := make([]string, primero.MaxWatermarkIDs+1)
	for i := range ids {
		ids[i] = "id" + string(rune('a'+i))
	}
	for name, s := range map[string]string{
		"not a time":      "yesterday",
		"date only":       "2026-03-01",
		"empty id":        "2026-03-01T08:00:00Z;",
		"unsorted ids":    "2026-03-01T08:00:00Z;b,a",
		"repeated ids":    "2026-03-01T08:00:00Z;a,a",
		"id with a space": "2026-03-01T08:00:00Z;a b",
		"too many ids":    "2026-03-01T08:00:00Z;" + strings.Join(ids, ","),
		"too long":        "2026-03-01T08:00:00Z;" + strings.Repeat("a", 1100),
		"zero time":       "0001-01-01T00:00:00Z",
	} {
		t.Run(name, func(t *testing.T) {
			_, err := primero.ParseWatermark(s)
			require.Error(t, err)
			assert.NotContains(t, err.Error(), s, "errors never quote the text")
		})
	}
}

func FuzzParseWatermark(f *testing.F) {
	for _, s := range []string{"", "2026-03-01T08:00:00Z", "2026-03-01T08:00:00.570Z;a,b",
		"2026-03-01T08:00:00+07:00;0a30b142-3906-46d3-bbb4-f28c44b357d7", "x;y", ";", "2026-03-01T08:00:00Z;b,a"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		w, err := primero.ParseWatermark(s)
		if err != nil {
			return
		}
		again, err := primero.ParseWatermark(w.String())
		if err != nil {
			t.Fatalf("String of a parsed watermark does not parse: %v", err)
		}
		if !again.At.Equal(w.At) || again.String() != w.String() {
			t.Fatalf("round trip changed the watermark")
		}
		if len(w.String()) > 1024 {
			t.Fatalf("watermark text longer than a cursor may be")
		}
	})
}
