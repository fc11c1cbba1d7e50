// Package isodate reads ISO 8601 calendar dates without time.Parse, which
// dominated the per-record hot paths of mapping and consent.
package isodate

// Date reads s as exactly "YYYY-MM-DD": it accepts what
// time.Parse(time.DateOnly, s) accepts (a four-digit year, a two-digit
// month and a two-digit day that exists in that month) and nothing else.
func Date(s string) (year, month, day int, ok bool) {
	if len(s) != 10 || s[4] != '-' || s[7] != '-' {
		return 0, 0, 0, false
	}
	y, okY := Digits(s[0:4])
	m, okM := Digits(s[5:7])
	d, okD := Digits(s[8:10])
	if !okY || !okM || !okD || m < 1 || m > 12 || d < 1 || d > daysIn(m, y) {
		return 0, 0, 0, false
	}
	return y, m, d, true
}

// Digits reads s as an unsigned decimal number; ok is false unless every
// byte is an ASCII digit.
func Digits(s string) (int, bool) {
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

// daysIn is the number of days in month m of year y (proleptic Gregorian).
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
