package mapping

// isoDate checks that s is an ISO 8601 date or datetime in one of the
// default layouts (YYYY-MM-DD, optionally followed by THH:MM:SS, a
// fraction, and Z or ±HH:MM) and returns its date. It replaces time.Parse on
// the hot path; anything it rejects still goes through time.Parse.
func isoDate(s string) (y, m, d int, zoned, frac, ok bool) {
	if len(s) < 10 || s[4] != '-' || s[7] != '-' {
		return
	}
	var okY, okM, okD bool
	y, okY = digits(s[0:4])
	m, okM = digits(s[5:7])
	d, okD = digits(s[8:10])
	if !okY || !okM || !okD || m < 1 || m > 12 || d < 1 || d > daysIn(m, y) {
		return
	}
	rest := s[10:]
	if rest == "" {
		return y, m, d, false, false, true
	}
	if len(rest) < 9 || rest[0] != 'T' || rest[3] != ':' || rest[6] != ':' {
		return
	}
	hh, ok1 := digits(rest[1:3])
	mm, ok2 := digits(rest[4:6])
	ss, ok3 := digits(rest[7:9])
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
		oh, ok1 := digits(rest[1:3])
		om, ok2 := digits(rest[4:6])
		if !ok1 || !ok2 || oh > 23 || om > 59 {
			return
		}
		zoned = true
	default:
		return
	}
	return y, m, d, zoned, frac, true
}

func digits(s string) (int, bool) {
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

func daysIn(m, y int) int {
	switch m {
	case 2:
		if y%4 == 0 && (y%100 != 0 || y%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}
