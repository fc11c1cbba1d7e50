package primero

import (
	"errors"
	"slices"
	"strings"
	"time"
)

// MaxWatermarkIDs is the most record ids a Watermark keeps for its instant.
// When more cases than this share one last_updated_at, the others are
// simply not remembered: a feed resumed from the watermark yields them
// again, which an idempotent consumer (an upsert) absorbs.
const MaxWatermarkIDs = 20

// maxWatermarkLen bounds the text form, which is stored as a state cursor
// (at most 1024 bytes).
const maxWatermarkLen = 1024

// Watermark says how far a consumer of case changes has got: every case
// whose last_updated_at is before At, and the cases with IDs whose
// last_updated_at is exactly At, have been processed. The zero Watermark
// means nothing has been processed yet.
//
// A Watermark is a server timestamp, never the consumer's clock (pitfall 9):
// it only ever moves to the greatest last_updated_at actually processed.
// String and ParseWatermark convert it to and from text, so that it can be
// kept as a sqlsink.State cursor.
type Watermark struct {
	// At is the greatest last_updated_at processed.
	At time.Time
	// IDs are record ids (the "id" UUIDs) processed at exactly At,
	// sorted, at most MaxWatermarkIDs of them.
	IDs []string
}

// IsZero reports whether w is the zero Watermark (nothing processed).
func (w Watermark) IsZero() bool { return w.At.IsZero() && len(w.IDs) == 0 }

// Covers reports whether the case id, last updated at ts, is known to be
// processed: ts is before At, or equal to At and id is one of IDs.
func (w Watermark) Covers(id string, ts time.Time) bool {
	if w.At.IsZero() {
		return false
	}
	if ts.Before(w.At) {
		return true
	}
	if !ts.Equal(w.At) {
		return false
	}
	_, found := slices.BinarySearch(w.IDs, id)
	return found
}

// String renders w as "<RFC 3339 timestamp, UTC, nanoseconds>" followed,
// when IDs is not empty, by ";" and the ids joined by ",". The zero
// Watermark renders as "".
func (w Watermark) String() string {
	if w.IsZero() {
		return ""
	}
	var b strings.Builder
	b.WriteString(w.At.UTC().Format(time.RFC3339Nano))
	if len(w.IDs) > 0 {
		b.WriteByte(';')
		for i, id := range w.IDs {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(id)
		}
	}
	return b.String()
}

// ParseWatermark reads the text form of String. "" is the zero Watermark.
// It refuses anything else that String would not produce: a timestamp that
// is not RFC 3339, ids that are empty, repeated, unsorted or hold
// characters other than letters, digits, '-' and '_', a year outside
// 1970..9999 (in UTC), more than
// MaxWatermarkIDs ids, or more than 1024 bytes. Errors never quote the text.
func ParseWatermark(s string) (Watermark, error) {
	if s == "" {
		return Watermark{}, nil
	}
	if len(s) > maxWatermarkLen {
		return Watermark{}, errors.New("primero: watermark: longer than 1024 bytes")
	}
	ts, ids, hasIDs := strings.Cut(s, ";")
	at, err := time.Parse(time.RFC3339Nano, ts)
	if err != nil {
		return Watermark{}, errors.New("primero: watermark: the timestamp is not RFC 3339")
	}
	if at = at.UTC(); at.Year() < 1970 || at.Year() > 9999 {
		return Watermark{}, errors.New("primero: watermark: the timestamp is outside the years 1970 to 9999")
	}
	w := Watermark{At: at.UTC()}
	if !hasIDs {
		return w, nil
	}
	w.IDs = strings.Split(ids, ",")
	if len(w.IDs) > MaxWatermarkIDs {
		return Watermark{}, errors.New("primero: watermark: more than 20 ids")
	}
	for i, id := range w.IDs {
		if !validRecordID(id) {
			return Watermark{}, errors.New("primero: watermark: ids[" + itoa(i) + "] is not a record id")
		}
		if i > 0 && w.IDs[i-1] >= id {
			return Watermark{}, errors.New("primero: watermark: ids are not sorted and distinct")
		}
	}
	return w, nil
}

// validRecordID accepts the characters of UUIDs and similar opaque ids.
func validRecordID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if (c < 'a' || c > 'z') && (c < 'A' || c > 'Z') && (c < '0' || c > '9') && c != '-' && c != '_' {
			return false
		}
	}
	return true
}

// advance returns w moved to cover the case id at ts (w is not changed).
// An id that is not a valid record id is covered only by a later instant.
func (w Watermark) advance(id string, ts time.Time) Watermark {
	switch {
	case ts.After(w.At):
		out := Watermark{At: ts}
		if validRecordID(id) {
			out.IDs = []string{id}
		}
		return out
	case ts.Equal(w.At):
		i, found := slices.BinarySearch(w.IDs, id)
		if found || len(w.IDs) >= MaxWatermarkIDs || !validRecordID(id) {
			return w
		}
		ids := make([]string, 0, len(w.IDs)+1)
		ids = append(ids, w.IDs[:i]...)
		ids = append(ids, id)
		ids = append(ids, w.IDs[i:]...)
		return Watermark{At: w.At, IDs: ids}
	}
	return w
}
