package sqlsink

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzConvertText feeds record text (outside input) to every column type:
// no panic; an error never quotes the text; an accepted value converts
// again to itself (the stored form is canonical), and a Numeric's key text
// does not depend on how the number was written.
func FuzzConvertText(f *testing.F) {
	for _, s := range []string{
		"", "0", "-0", "1.0", "01.00", "1e3", "1e131071", "1e-16384", "9e99999999999", ".5", "+.5e-3",
		"true", "f", "2024-02-29", "2024-02-30", "2024-03-01T10:11:12.123456789+02:00",
		"2024-03-01 10:11:12.5+07", "0B7C5A4E-2F1D-4C3B-9A8E-1D2C3B4A5F60",
		"{0b7c5a4e-2f1d-4c3b-9a8e-1d2c3b4a5f60}", "urn:uuid:0b7c5a4e-2f1d-4c3b-9a8e-1d2c3b4a5f60",
		`{"a":[1,"x"]}`, "\xff", "a\x00b", "Test Child 1",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for typ := range typeNames {
			for _, d := range []Dialect{Postgres, SQLite} {
				v, err := convertValue(typ, s, d)
				if err != nil {
					if len(s) >= 6 && utf8.ValidString(s) && strings.Contains(err.Error(), s) {
						t.Fatalf("%s: error quotes the value: %v", typ, err)
					}
					continue
				}
				again, err := convertValue(typ, v, d)
				if err != nil {
					t.Fatalf("%s on %s: converted value %#v refused: %v", typ, d, v, err)
				}
				if typ != TextArray && typ != JSON && keyText(typ, again) != keyText(typ, v) {
					t.Fatalf("%s on %s: %#v converts again to %#v", typ, d, v, again)
				}
			}
		}
		if _, err := checkDecimal(s); err == nil {
			_, digits, exp, _ := splitDecimal(s)
			plain := digits + strings.Repeat("0", max(exp, 0))
			if exp < 0 || digits == "" || len(plain) > 200 {
				return
			}
			if canonicalDecimal(plain) != canonicalDecimal(s) && canonicalDecimal("-"+plain) != canonicalDecimal(s) {
				t.Fatalf("%q and %q are the same number but key differently", s, plain)
			}
		}
	})
}
