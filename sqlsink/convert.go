package sqlsink

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Value conversion: a record's field (whatever Go type a client or the
// mapping layer put there) becomes the Go value bound for its column.
// Every error reason names types and rules only, never the value.

// sqliteTimestamp is how SQLite stores a Timestamp: UTC, fixed width (so
// text order is time order), parsed back into time.Time by the driver.
const sqliteTimestamp = "2006-01-02 15:04:05.000000Z"

// sqliteDate is how SQLite stores a Date.
const sqliteDate = "2006-01-02"

var decimalRE = regexp.MustCompile(`^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?$`)

// convertValue converts v (not nil) for a column of type t on dialect d.
//
//	Text       string (valid UTF-8, no NUL)
//	Integer    int64
//	Float      float64 (finite)
//	Numeric    string holding a decimal number
//	Bool       bool on PostgreSQL; int64 0/1 on SQLite
//	Date       time.Time, UTC midnight, on PostgreSQL; "2006-01-02" on SQLite
//	Timestamp  time.Time, UTC, microseconds, on PostgreSQL; fixed-width UTC text on SQLite
//	JSON       string holding compact JSON (valid UTF-8)
//	UUID       string, lower-case 8-4-4-4-12
//	TextArray  []string on PostgreSQL; a JSON array of strings on SQLite
func convertValue(t Type, v any, d Dialect) (any, error) {
	switch t {
	case Text:
		if s, ok := v.(string); ok {
			// The same interface back, not the string boxed again: text
			// is most of a row, and each box was an allocation.
			return v, checkText(s)
		}
		return toText(v)
	case Integer:
		return toInt(v)
	case Float:
		return toFloat(v)
	case Numeric:
		return toNumeric(v)
	case Bool:
		b, err := toBool(v)
		if err != nil || d == Postgres {
			return b, err
		}
		if b {
			return int64(1), nil
		}
		return int64(0), nil
	case Date:
		tm, err := toDate(v)
		if err != nil || d == Postgres {
			return tm, err
		}
		return tm.Format(sqliteDate), nil
	case Timestamp:
		tm, err := toTimestamp(v)
		if err != nil || d == Postgres {
			// Already in UTC, to the microsecond: not boxed again. ==, not
			// Equal: the same representation, not only the same instant.
			if x, ok := v.(time.Time); ok && x == tm { //nolint:staticcheck // see above
				return v, err
			}
			return tm, err
		}
		return tm.Format(sqliteTimestamp), nil
	case JSON:
		return toJSON(v)
	case UUID:
		if s, ok := v.(string); ok {
			if _, canonical := parseUUID(s); canonical {
				return v, nil // as for Text: not boxed again
			}
		}
		return toUUID(v)
	case TextArray:
		a, err := toTextArray(v)
		if err != nil || d == Postgres {
			return a, err
		}
		b, _ := json.Marshal(a) // strings only: cannot fail
		return string(b), nil
	}
	return nil, errors.New("unknown column type")
}

// cannot is the reason for a Go type a column type does not accept.
func cannot(v any, t Type) error {
	return fmt.Errorf("a %T does not convert to %s", v, t)
}

func toText(v any) (string, error) {
	var s string
	switch x := v.(type) {
	case string:
		s = x
	case []byte:
		s = string(x)
	case json.Number:
		s = x.String()
	case time.Time:
		s = x.Format(time.RFC3339Nano)
	case int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64:
		s = fmt.Sprint(x)
	case float64:
		s = strconv.FormatFloat(x, 'f', -1, 64)
	case float32:
		s = strconv.FormatFloat(float64(x), 'f', -1, 32)
	default:
		return "", cannot(v, Text)
	}
	return s, checkText(s)
}

// checkText refuses text that neither dialect stores as written.
func checkText(s string) error {
	if !utf8.ValidString(s) {
		return errors.New("text is not valid UTF-8")
	}
	if strings.IndexByte(s, 0) >= 0 {
		return errors.New("text contains a NUL character")
	}
	return nil
}

var errRange = errors.New("number out of range for a 64-bit Integer")

func toInt(v any) (int64, error) {
	switch x := v.(type) {
	case int:
		return int64(x), nil
	case int8:
		return int64(x), nil
	case int16:
		return int64(x), nil
	case int32:
		return int64(x), nil
	case int64:
		return x, nil
	case uint8:
		return int64(x), nil
	case uint16:
		return int64(x), nil
	case uint32:
		return int64(x), nil
	case uint:
		if uint64(x) > math.MaxInt64 {
			return 0, errRange
		}
		return int64(x), nil
	case uint64:
		if x > math.MaxInt64 {
			return 0, errRange
		}
		return int64(x), nil
	case float32:
		return floatToInt(float64(x))
	case float64:
		return floatToInt(x)
	case json.Number:
		return parseInt(string(x))
	case string:
		return parseInt(x)
	}
	return 0, cannot(v, Integer)
}

func floatToInt(f float64) (int64, error) {
	if f != math.Trunc(f) || math.IsInf(f, 0) || math.IsNaN(f) {
		return 0, errors.New("number is not a whole number")
	}
	if f < -(1<<63) || f >= 1<<63 {
		return 0, errors.New("number out of range for a 64-bit Integer")
	}
	return int64(f), nil
}

func parseInt(s string) (int64, error) {
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return n, nil
	} else if errors.Is(err, strconv.ErrRange) {
		return 0, errors.New("number out of range for a 64-bit Integer")
	}
	// "12.0" or "1e3" from a JSON decoder: whole numbers are fine.
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0, errors.New("text is not an integer")
	}
	return floatToInt(f)
}

func toFloat(v any) (float64, error) {
	var f float64
	switch x := v.(type) {
	case float64:
		f = x
	case float32:
		f = float64(x)
	case uint:
		f = float64(x)
	case uint64:
		f = float64(x)
	case int, int8, int16, int32, int64, uint8, uint16, uint32:
		n, _ := toInt(x) // cannot fail for these types
		f = float64(n)
	case json.Number:
		return parseFloat(string(x))
	case string:
		return parseFloat(x)
	default:
		return 0, cannot(v, Float)
	}
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return 0, errors.New("number is not finite")
	}
	return f, nil
}

func parseFloat(s string) (float64, error) {
	if !decimalRE.MatchString(s) {
		return 0, errors.New("text is not a number")
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsInf(f, 0) {
		return 0, errors.New("number out of range for Float")
	}
	return f, nil
}

func toNumeric(v any) (string, error) {
	switch x := v.(type) {
	case json.Number:
		return checkDecimal(string(x))
	case string:
		return checkDecimal(x)
	case float64, float32:
		f, err := toFloat(x)
		if err != nil {
			return "", err
		}
		return strconv.FormatFloat(f, 'f', -1, 64), nil
	case int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64:
		return fmt.Sprint(x), nil
	}
	return "", cannot(v, Numeric)
}

func checkDecimal(s string) (string, error) {
	if !decimalRE.MatchString(s) {
		return "", errors.New("text is not a decimal number")
	}
	if _, _, _, err := splitDecimal(s); err != nil {
		return "", err
	}
	return s, nil
}

// PostgreSQL numeric holds up to 131072 digits before the decimal point
// and 16383 after it.
const (
	maxNumericWhole = 131072
	maxNumericScale = 16383
)

// splitDecimal reads a decimal text (matched by decimalRE) as
// neg × digits × 10^exp, with digits free of leading and trailing zeros
// ("" for zero, which is never negative). It refuses numbers outside what
// PostgreSQL's numeric stores, before anything large is allocated.
func splitDecimal(s string) (neg bool, digits string, exp int, err error) {
	if s != "" && (s[0] == '-' || s[0] == '+') {
		neg = s[0] == '-'
		s = s[1:]
	}
	mant, e, hasExp := strings.Cut(strings.ToLower(s), "e")
	if hasExp {
		if exp, err = strconv.Atoi(e); err != nil || exp > 1<<20 || exp < -(1<<20) {
			return false, "", 0, errNumericRange
		}
	}
	whole, frac, _ := strings.Cut(mant, ".")
	digits = strings.TrimLeft(whole+frac, "0")
	exp -= len(frac)
	trimmed := strings.TrimRight(digits, "0")
	exp += len(digits) - len(trimmed)
	digits = trimmed
	if digits == "" {
		return false, "", 0, nil
	}
	if exp+len(digits) > maxNumericWhole || exp < -maxNumericScale {
		return false, "", 0, errNumericRange
	}
	return neg, digits, exp, nil
}

var errNumericRange = errors.New("number outside the range of PostgreSQL numeric")

// canonicalDecimal is one text per decimal value: "1", "1.0" and "1e0"
// give the same, so keys equal as numbers are equal as text.
func canonicalDecimal(s string) string {
	neg, digits, exp, err := splitDecimal(s)
	if err != nil || digits == "" {
		return "0"
	}
	sign := ""
	if neg {
		sign = "-"
	}
	return sign + digits + "e" + strconv.Itoa(exp)
}

func toBool(v any) (bool, error) {
	switch x := v.(type) {
	case bool:
		return x, nil
	case string:
		switch strings.ToLower(x) {
		case "true", "t", "1":
			return true, nil
		case "false", "f", "0":
			return false, nil
		}
		return false, errors.New("text is not a boolean (true/false/t/f/1/0)")
	case json.Number:
		return toBool(string(x))
	case int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64, float32, float64:
		n, err := toInt(x)
		if err != nil || (n != 0 && n != 1) {
			return false, errors.New("number is not a boolean (0 or 1)")
		}
		return n == 1, nil
	}
	return false, cannot(v, Bool)
}

// checkYear keeps times within what both dialects store and print alike.
func checkYear(t time.Time) error {
	if t.Year() < 1 || t.Year() > 9999 {
		return errors.New("year outside 1..9999")
	}
	return nil
}

// toDate returns UTC midnight of the date, taken as written (a time.Time's
// date in its own location; the date part of an RFC 3339 text).
func toDate(v any) (time.Time, error) {
	var t time.Time
	switch x := v.(type) {
	case time.Time:
		t = x
	case string:
		var err error
		if t, err = time.Parse(time.DateOnly, x); err != nil {
			if t, err = parseTimestamp(x); err != nil {
				return time.Time{}, errors.New("text is not a date (2006-01-02 or RFC 3339)")
			}
		}
	default:
		return time.Time{}, cannot(v, Date)
	}
	if err := checkYear(t); err != nil {
		return time.Time{}, err
	}
	y, m, d := t.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC), nil
}

// toTimestamp returns the instant in UTC, truncated to microseconds (what
// PostgreSQL keeps).
func toTimestamp(v any) (time.Time, error) {
	var t time.Time
	switch x := v.(type) {
	case time.Time:
		t = x
	case string:
		var err error
		if t, err = parseTimestamp(x); err != nil {
			if t, err = time.Parse(time.DateOnly, x); err != nil {
				return time.Time{}, errors.New("text is not a timestamp with offset (RFC 3339) or a date")
			}
		}
	default:
		return time.Time{}, cannot(v, Timestamp)
	}
	t = t.UTC().Truncate(time.Microsecond)
	if err := checkYear(t); err != nil {
		return time.Time{}, err
	}
	return t, nil
}

// parseTimestamp accepts RFC 3339 with a "T" or a space, and fractional
// seconds of any length; an offset (or Z) is required, since a local time
// without one is ambiguous. PostgreSQL's own output, with an hour-only
// offset ("2024-03-01 10:11:12.5+07"), is accepted too.
func parseTimestamp(s string) (time.Time, error) {
	if len(s) > 10 && s[10] == ' ' {
		s = s[:10] + "T" + s[11:]
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil && len(s) > 19 && (s[len(s)-3] == '+' || s[len(s)-3] == '-') {
		return time.Parse(time.RFC3339Nano, s+":00")
	}
	return t, err
}

// errJSONUTF8 refuses what encoding/json would silently turn into U+FFFD.
var errJSONUTF8 = errors.New("JSON holds text that is not valid UTF-8")

func toJSON(v any) (string, error) {
	var b []byte
	switch x := v.(type) {
	case json.RawMessage:
		b = x
	case []byte:
		b = x
	default:
		var err error
		if b, err = json.Marshal(v); err != nil {
			return "", fmt.Errorf("a %T does not encode as JSON", v)
		}
		// Marshal silently replaces invalid UTF-8 with U+FFFD: look at the
		// input itself (Marshal has refused cycles already).
		if hasInvalidUTF8(reflect.ValueOf(v)) {
			return "", errJSONUTF8
		}
	}
	if !utf8.Valid(b) {
		return "", errJSONUTF8
	}
	if !json.Valid(b) {
		return "", errors.New("bytes are not valid JSON")
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, b); err != nil {
		return "", errors.New("bytes are not valid JSON")
	}
	if bytes.Contains(buf.Bytes(), []byte(`\u0000`)) {
		return "", errors.New("JSON holds a NUL character, which PostgreSQL refuses")
	}
	return buf.String(), nil
}

// hasInvalidUTF8 reports whether a string reachable from v, as
// encoding/json walks it (map keys, elements, exported fields), is not
// valid UTF-8. It runs only after json.Marshal succeeded, so v has no
// cycles.
func hasInvalidUTF8(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.String:
		return !utf8.ValidString(v.String())
	case reflect.Interface, reflect.Pointer:
		return !v.IsNil() && hasInvalidUTF8(v.Elem())
	case reflect.Map:
		for it := v.MapRange(); it.Next(); {
			if hasInvalidUTF8(it.Key()) || hasInvalidUTF8(it.Value()) {
				return true
			}
		}
	case reflect.Slice, reflect.Array:
		if v.Type().Elem().Kind() == reflect.Uint8 {
			return false // []byte marshals as base64
		}
		for i := range v.Len() {
			if hasInvalidUTF8(v.Index(i)) {
				return true
			}
		}
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() && hasInvalidUTF8(v.Field(i)) {
				return true
			}
		}
	}
	return false
}

// toUUID accepts the 8-4-4-4-12 hexadecimal form (either case, optionally
// in braces or as a urn:uuid:) or 16 bytes, and returns it lower-case with
// dashes.
func toUUID(v any) (string, error) {
	var s string
	switch x := v.(type) {
	case string:
		s = x
	case [16]byte:
		return formatUUID(x), nil
	default:
		return "", cannot(v, UUID)
	}
	if _, ok := parseUUID(s); ok {
		return s, nil // already canonical: formatUUID(parseUUID(s)) is s
	}
	s = strings.TrimPrefix(strings.ToLower(s), "urn:uuid:")
	if len(s) == 38 && s[0] == '{' && s[37] == '}' {
		s = s[1:37]
	}
	b, ok := parseUUID(s)
	if !ok {
		return "", errors.New("text is not a UUID (8-4-4-4-12 hexadecimal digits)")
	}
	return formatUUID(b), nil
}

// lowerHex is the value of a lower-case hexadecimal digit.
func lowerHex(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	}
	return 0, false
}

// parseUUID reads the lower-case 8-4-4-4-12 form.
func parseUUID(s string) (b [16]byte, ok bool) {
	if len(s) != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-' {
		return b, false
	}
	j := 0
	for i := 0; i < 36; i += 2 {
		if i == 8 || i == 13 || i == 18 || i == 23 {
			i-- // skip the dash: the next pair starts one further on
			continue
		}
		hi, ok1 := lowerHex(s[i])
		lo, ok2 := lowerHex(s[i+1])
		if !ok1 || !ok2 {
			return b, false
		}
		b[j] = hi<<4 | lo
		j++
	}
	return b, true
}

func formatUUID(b [16]byte) string {
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// toTextArray accepts []string or []any of strings; each element follows
// Text's rules, and none may be nil.
func toTextArray(v any) ([]string, error) {
	var out []string
	switch x := v.(type) {
	case []string:
		out = make([]string, len(x))
		copy(out, x)
	case []any:
		out = make([]string, len(x))
		for i, e := range x {
			s, ok := e.(string)
			if !ok {
				return nil, fmt.Errorf("element %d: a %T is not a string", i, e)
			}
			out[i] = s
		}
	default:
		return nil, cannot(v, TextArray)
	}
	for i, s := range out {
		if _, err := toText(s); err != nil {
			return nil, fmt.Errorf("element %d: %w", i, err)
		}
	}
	return out, nil
}
