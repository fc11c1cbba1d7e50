package consent

import (
	"encoding/json"
	"math"
	"strings"
	"time"

	"github.com/casebridge/casebridge/internal/isodate"
)

// tri is the reading of a consent value.
type tri uint8

const (
	triMissing tri = iota // absent, null or empty string
	triInvalid            // present but not a boolean the policy can read
	triFalse
	triTrue
)

// readBool reads a consent value. Only a Go bool is a boolean; a string is
// read only through the policy's declared true/false values (trimmed,
// case-insensitive); everything else is invalid.
func (p *Policy) readBool(v any, present bool) tri {
	if !present || v == nil {
		return triMissing
	}
	switch b := v.(type) {
	case bool:
		if b {
			return triTrue
		}
		return triFalse
	case string:
		if strings.TrimSpace(b) == "" {
			return triMissing
		}
		if p.trueValues == nil {
			return triInvalid
		}
		n := normString(b)
		switch {
		case p.trueValues[n]:
			return triTrue
		case p.falseValues[n]:
			return triFalse
		}
	}
	return triInvalid
}

// field reads a compiled condition field from rec.
func (p *Policy) field(rec map[string]any, f *condField) tri {
	v, ok := lookupFirst(rec, f.segs)
	return p.readBool(v, ok)
}

// readRevoked reads the policy's revoked_field, failing closed: consent
// stands (revoked false) only when the field, or an object on its path, is
// absent or null, or when it holds false or a declared false string. A
// declared true value revokes; any other value revokes and is invalid.
func (p *Policy) readRevoked(rec map[string]any) (revoked, invalid bool) {
	var cur any = rec
	for _, s := range p.revoked.segs {
		if cur == nil {
			return false, false
		}
		m, ok := asMap(cur)
		if !ok {
			return true, true // a path through a non-object
		}
		cur = m[s.key]
	}
	if cur == nil {
		return false, false
	}
	switch p.readBool(cur, true) {
	case triFalse:
		return false, false
	case triTrue:
		return true, false
	}
	return true, true
}

// ageAt returns the age in whole years on the date asOf, from the date of
// birth when it can be read, else from the age field. ok is false when
// neither gives a plausible age (0 to 150 years, birth not in the future).
func (p *Policy) ageAt(rec map[string]any, asOf date) (int, bool) {
	if p.dob != nil {
		if v, ok := lookupFirst(rec, p.dob.segs); ok {
			if dob, ok := parseDate(v); ok {
				if a, ok := yearsBetween(dob, asOf); ok {
					return a, true
				}
			}
		}
	}
	if p.age != nil {
		if v, ok := lookupFirst(rec, p.age.segs); ok {
			if a, ok := wholeYears(v); ok {
				return a, true
			}
		}
	}
	return 0, false
}

// date is a calendar date. Ages are computed on dates rather than on
// time.Time values, which are costly to build and take apart per record.
type date struct {
	year  int
	month time.Month
	day   int
}

// dateOf returns the calendar date of t in t's location.
func dateOf(t time.Time) date {
	y, m, d := t.Date()
	return date{y, m, d}
}

// parseDate accepts a time.Time, "2006-01-02", or an RFC 3339 timestamp
// (its date part is used).
func parseDate(v any) (date, bool) {
	switch d := v.(type) {
	case time.Time:
		if d.IsZero() {
			return date{}, false
		}
		return dateOf(d), true
	case string:
		if len(d) > 10 && (d[10] == 'T' || d[10] == ' ') {
			d = d[:10]
		}
		return parseDateOnly(d)
	}
	return date{}, false
}

// parseDateOnly reads exactly "YYYY-MM-DD" (as time.DateOnly does).
func parseDateOnly(s string) (date, bool) {
	y, m, d, ok := isodate.Date(s)
	return date{y, time.Month(m), d}, ok
}

func yearsBetween(dob, asOf date) (int, bool) {
	y := asOf.year - dob.year
	if asOf.month < dob.month || (asOf.month == dob.month && asOf.day < dob.day) {
		y--
	}
	if y < 0 || y > 150 {
		return 0, false
	}
	return y, true
}

// wholeYears reads an age field: a non-negative whole number up to 150.
func wholeYears(v any) (int, bool) {
	var f float64
	switch n := v.(type) {
	case float64:
		f = n
	case float32:
		f = float64(n)
	case int:
		f = float64(n)
	case int32:
		f = float64(n)
	case int64:
		f = float64(n)
	case json.Number:
		x, err := n.Float64()
		if err != nil {
			return 0, false
		}
		f = x
	default:
		return 0, false
	}
	if f < 0 || f > 150 || f != math.Trunc(f) {
		return 0, false
	}
	return int(f), true
}
