package consent

import (
	"encoding/json"
	"math"
	"strings"
	"time"
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

// ageAt returns the age in whole years on the date asOf, from the date of
// birth when it can be read, else from the age field. ok is false when
// neither gives a plausible age (0 to 150 years, birth not in the future).
func (p *Policy) ageAt(rec map[string]any, asOf time.Time) (int, bool) {
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

// parseDate accepts a time.Time, "2006-01-02", or an RFC 3339 timestamp
// (its date part is used).
func parseDate(v any) (time.Time, bool) {
	switch d := v.(type) {
	case time.Time:
		if d.IsZero() {
			return time.Time{}, false
		}
		return time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, time.UTC), true
	case string:
		if len(d) > 10 && (d[10] == 'T' || d[10] == ' ') {
			d = d[:10]
		}
		t, err := time.Parse(time.DateOnly, d)
		return t, err == nil
	}
	return time.Time{}, false
}

func yearsBetween(dob, asOf time.Time) (int, bool) {
	y := asOf.Year() - dob.Year()
	if asOf.Month() < dob.Month() || (asOf.Month() == dob.Month() && asOf.Day() < dob.Day()) {
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
