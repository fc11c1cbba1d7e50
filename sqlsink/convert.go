package sqlsink

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
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
//	JSON       string holding compact JSON
func convertValue(t Type, v any, d Dialect) (any, error) {
	switch t {
	case Text:
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
			return tm, err
		}
		return tm.Format(sqliteTimestamp), nil
	case JSON:
		return toJSON(v)
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
	if !utf8.ValidString(s) {
		return "", errors.New("text is not valid UTF-8")
	}
	if strings.IndexByte(s, 0) >= 0 {
		return "", errors.New("text contains a NUL character")
	}
	return s, nil
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
	return s, nil
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

// parseTimestamp accepts RFC 3339 with a "T" or a space; an offset (or Z)
// is required, since a local time without one is ambiguous.
func parseTimestamp(s string) (time.Time, error) {
	if len(s) > 10 && s[10] == ' ' {
		s = s[:10] + "T" + s[11:]
	}
	return time.Parse(time.RFC3339Nano, s)
}

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
