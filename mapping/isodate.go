package mapping

import "github.com/casebridge/casebridge/internal/isodate"

// isoDate checks that s is an ISO 8601 date or datetime in one of the
// default layouts (YYYY-MM-DD, optionally followed by THH:MM:SS, a
// fraction, and Z or ±HH:MM) and returns its date. It replaces time.Parse on
// the hot path; anything it rejects still goes through time.Parse.
func isoDate(s string) (y, m, d int, zoned, frac, ok bool) {
	if len(s) < 10 {
		return
	}
	var dateOK bool
	if y, m, d, dateOK = isodate.Date(s[:10]); !dateOK {
		return
	}
	rest := s[10:]
	if rest == "" {
		return y, m, d, false, false, true
	}
	if len(rest) < 9 || rest[0] != 'T' || rest[3] != ':' || rest[6] != ':' {
		return
	}
	hh, ok1 := isodate.Digits(rest[1:3])
	mm, ok2 := isodate.Digits(rest[4:6])
	ss, ok3 := isodate.Digits(rest[7:9])
	if !ok1 || !ok2 || !ok3 || hh > 23 || mm > 59 || ss > 59 {
		return
	}
	rest = rest[9:]
	if len(rest) > 0 && rest[0] == '.' {
		n := 1
		for n < len(rest) && rest[n] >= '0' && rest[n] <= '9' {
			n++
		}
		if n == 1 || n > 10 {
			return
		}
		frac = true
		rest = rest[n:]
	}
	switch {
	case rest == "":
	case rest == "Z":
		zoned = true
	case len(rest) == 6 && (rest[0] == '+' || rest[0] == '-') && rest[3] == ':':
		oh, ok1 := isodate.Digits(rest[1:3])
		om, ok2 := isodate.Digits(rest[4:6])
		if !ok1 || !ok2 || oh > 23 || om > 59 {
			return
		}
		zoned = true
	default:
		return
	}
	return y, m, d, zoned, frac, true
}
