package mapping

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Output types a rule can coerce to.
const (
	// TypeString renders scalars as strings.
	TypeString = "string"
	// TypeInt accepts whole numbers and numeric strings.
	TypeInt = "int"
	// TypeFloat accepts numbers and numeric strings.
	TypeFloat = "float"
	// TypeBool accepts booleans, true/false/yes/no/1/0 and the numbers 1 and 0.
	TypeBool = "bool"
	// TypeDate parses a date or datetime and writes the date (Format,
	// default "2006-01-02"); an ISO datetime keeps its date as written.
	TypeDate = "date"
	// TypeDatetime parses a date or datetime and writes it in Format
	// (default RFC 3339).
	TypeDatetime = "datetime"
	// TypeList wraps a single value in a list; lists stay as they are.
	TypeList = "list"
)

var knownTypes = map[string]bool{"": true, TypeString: true, TypeInt: true, TypeFloat: true,
	TypeBool: true, TypeDate: true, TypeDatetime: true, TypeList: true}

// defaultLayouts are tried, in order, when a date rule has no Layout.
var defaultLayouts = []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02"}

// isEmpty reports whether v counts as missing: nil, a blank string or an
// empty list.
func isEmpty(v any) bool {
	switch x := v.(type) {
	case nil:
		return true
	case string:
		if len(x) == 0 {
			return true
		}
		if x[0] > ' ' && x[0] < 0x80 {
			return false
		}
		return strings.TrimSpace(x) == ""
	case []any:
		return len(x) == 0
	}
	return false
}

// toString renders a scalar as a string; ok is false for maps and lists.
func toString(v any) (string, bool) {
	switch x := v.(type) {
	case string:
		return x, true
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64), true
	case float32:
		return strconv.FormatFloat(float64(x), 'f', -1, 32), true
	case json.Number:
		return x.String(), true
	case int:
		return strconv.Itoa(x), true
	case int64:
		return strconv.FormatInt(x, 10), true
	case int32:
		return strconv.FormatInt(int64(x), 10), true
	case uint64:
		return strconv.FormatUint(x, 10), true
	case bool:
		return strconv.FormatBool(x), true
	case time.Time:
		return x.Format(time.RFC3339Nano), true
	}
	return "", false
}

// stepKind is a transform.
type stepKind uint8

const (
	stepTrim stepKind = iota + 1
	stepUpper
	stepLower
	stepSplit
	stepJoin
)

// step is one compiled transform.
type step struct {
	kind stepKind
	arg  string
}

// parseTransform parses "trim", "upper", "lower", `split(",")`, `join(" ")`.
func parseTransform(s string) (step, error) {
	s = strings.TrimSpace(s)
	name, arg, hasArg := s, "", false
	if i := strings.IndexByte(s, '('); i >= 0 {
		if !strings.HasSuffix(s, ")") {
			return step{}, fmt.Errorf("transform %q: missing )", s)
		}
		name = strings.TrimSpace(s[:i])
		raw := strings.TrimSpace(s[i+1 : len(s)-1])
		a, err := strconv.Unquote(raw)
		if err != nil {
			return step{}, fmt.Errorf("transform %q: argument must be a quoted string", name)
		}
		arg, hasArg = a, true
	}
	var st step
	switch name {
	case "trim":
		st.kind = stepTrim
	case "upper":
		st.kind = stepUpper
	case "lower":
		st.kind = stepLower
	case "split":
		st.kind = stepSplit
	case "join":
		st.kind = stepJoin
	default:
		return step{}, fmt.Errorf("unknown transform %q", name)
	}
	needArg := st.kind == stepSplit || st.kind == stepJoin
	if needArg != hasArg {
		if needArg {
			return step{}, fmt.Errorf("transform %q needs a quoted separator, e.g. %s(\" \")", name, name)
		}
		return step{}, fmt.Errorf("transform %q takes no argument", name)
	}
	if st.kind == stepSplit && arg == "" {
		return step{}, errors.New("transform split needs a non-empty separator")
	}
	st.arg = arg
	return st, nil
}

// apply runs the transform; scalar transforms map over lists.
func (st step) apply(v any) any {
	switch st.kind {
	case stepSplit:
		s, ok := v.(string)
		if !ok {
			return v
		}
		parts := strings.Split(s, st.arg)
		out := make([]any, 0, len(parts))
		for _, p := range parts {
			if p = strings.TrimSpace(p); p != "" {
				out = append(out, p)
			}
		}
		return out
	case stepJoin:
		l, ok := v.([]any)
		if !ok {
			return v
		}
		var b strings.Builder
		for _, e := range l {
			s, ok := toString(e)
			if !ok || strings.TrimSpace(s) == "" {
				continue
			}
			if b.Len() > 0 {
				b.WriteString(st.arg)
			}
			b.WriteString(s)
		}
		return b.String()
	}
	if l, ok := v.([]any); ok {
		out := make([]any, len(l))
		for i, e := range l {
			out[i] = st.apply(e)
		}
		return out
	}
	s, ok := v.(string)
	if !ok {
		return v
	}
	switch st.kind {
	case stepTrim:
		return strings.TrimSpace(s)
	case stepUpper:
		return strings.ToUpper(s)
	case stepLower:
		return strings.ToLower(s)
	}
	return v
}

// coercer converts a value to a rule's type.
type coercer struct {
	typ            string
	layouts        []string
	defaultLayouts bool
	format         string
}

// isoLayout guesses which default layout fits s.
func isoLayout(s string) string {
	if len(s) <= 10 {
		return "2006-01-02"
	}
	tail := s[10:]
	if strings.HasSuffix(tail, "Z") || strings.ContainsAny(tail, "+") || strings.Count(tail, "-") > 0 {
		return time.RFC3339Nano
	}
	return "2006-01-02T15:04:05.999999999"
}

func newCoercer(r *Rule) coercer {
	c := coercer{typ: r.Type, format: r.Format}
	if r.Layout != "" {
		c.layouts = []string{r.Layout}
	} else {
		c.layouts = defaultLayouts
		c.defaultLayouts = true
	}
	if c.format == "" {
		switch r.Type {
		case TypeDate:
			c.format = "2006-01-02"
		case TypeDatetime:
			c.format = time.RFC3339
		}
	}
	return c
}

// coerce converts v; on failure it returns a reason code.
func (c *coercer) coerce(v any) (any, string) {
	if c.typ == "" || v == nil {
		return v, ""
	}
	if c.typ == TypeList {
		if l, ok := asList(v); ok {
			return l, ""
		}
		return []any{v}, ""
	}
	if l, ok := v.([]any); ok {
		out := make([]any, len(l))
		for i, e := range l {
			x, code := c.coerce(e)
			if code != "" {
				return nil, code
			}
			out[i] = x
		}
		return out, ""
	}
	switch c.typ {
	case TypeString:
		s, ok := toString(v)
		if !ok {
			return nil, CodeInvalidType
		}
		return s, ""
	case TypeInt:
		return toInt(v)
	case TypeFloat:
		return toFloat(v)
	case TypeBool:
		return toBool(v)
	case TypeDate, TypeDatetime:
		if s, ok := v.(string); ok && c.typ == TypeDate && c.defaultLayouts && c.format == "2006-01-02" &&
			len(s) >= 10 && s[4] == '-' && s[7] == '-' {
			// The date part of an ISO date or datetime, kept as written
			// ("the date before T") once the whole value has parsed.
			if _, _, _, _, _, ok := isoDate(s); ok || c.parseTimeOK(s) {
				if len(s) == 10 {
					return v, "" // already boxed: no allocation
				}
				return s[:10], ""
			}
			return nil, CodeInvalidDate
		}
		if s, ok := v.(string); ok && c.typ == TypeDatetime && c.defaultLayouts && c.format == time.RFC3339 {
			// An RFC 3339 input without fraction is already in the output
			// format, unless its offset is +00:00, which Go writes as Z.
			if _, _, _, zoned, frac, ok := isoDate(s); ok && zoned && !frac && !strings.HasSuffix(s, "+00:00") && !strings.HasSuffix(s, "-00:00") {
				return v, ""
			}
		}
		t, ok := c.parseTime(v)
		if !ok {
			return nil, CodeInvalidDate
		}
		var buf [64]byte
		out := appendTime(buf[:0], t, c.format)
		if s, ok := v.(string); ok && s == string(out) {
			return v, "" // the input is already in the output format
		}
		return string(out), ""
	}
	return v, ""
}

// appendTime is t.AppendFormat(b, layout), with the layout of a date
// (2006-01-02) written directly: the general formatter parses its layout on
// every call.
func appendTime(b []byte, t time.Time, layout string) []byte {
	if layout != "2006-01-02" {
		return t.AppendFormat(b, layout)
	}
	y, m, d := t.Date()
	if y < 0 || y > 9999 {
		return t.AppendFormat(b, layout)
	}
	return append(b, byte('0'+y/1000), byte('0'+y/100%10), byte('0'+y/10%10), byte('0'+y%10),
		'-', byte('0'+m/10), byte('0'+m%10), '-', byte('0'+d/10), byte('0'+d%10))
}

func (c *coercer) parseTimeOK(s string) bool {
	_, ok := c.parseTime(s)
	return ok
}

func (c *coercer) parseTime(v any) (time.Time, bool) {
	switch x := v.(type) {
	case time.Time:
		return x, true
	case string:
		s := strings.TrimSpace(x)
		if c.defaultLayouts {
			// Pick the ISO layout by shape first: a failed time.Parse
			// allocates its error, which dominated the cost of dates.
			if t, err := time.Parse(isoLayout(s), s); err == nil {
				return t, true
			}
		}
		for _, l := range c.layouts {
			if t, err := time.Parse(l, s); err == nil {
				return t, true
			}
		}
	}
	return time.Time{}, false
}

func toInt(v any) (any, string) {
	switch x := v.(type) {
	case int:
		return x, ""
	case int64:
		return int(x), ""
	case int32:
		return int(x), ""
	case float64:
		if x != math.Trunc(x) || math.IsInf(x, 0) || math.Abs(x) > 1<<53 {
			return nil, CodeInvalidType
		}
		return int(x), ""
	case json.Number:
		n, err := x.Int64()
		if err != nil {
			return nil, CodeInvalidType
		}
		return int(n), ""
	case string:
		n, err := strconv.Atoi(strings.TrimSpace(x))
		if err != nil {
			return nil, CodeInvalidType
		}
		return n, ""
	}
	return nil, CodeInvalidType
}

func toFloat(v any) (any, string) {
	switch x := v.(type) {
	case float64:
		return x, ""
	case int:
		return float64(x), ""
	case int64:
		return float64(x), ""
	case json.Number:
		f, err := x.Float64()
		if err != nil {
			return nil, CodeInvalidType
		}
		return f, ""
	case string:
		f, err := strconv.ParseFloat(strings.TrimSpace(x), 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			return nil, CodeInvalidType
		}
		return f, ""
	}
	return nil, CodeInvalidType
}

// toBool accepts booleans, true/false/yes/no/1/0 in any case, and the
// numbers 1 and 0.
func toBool(v any) (any, string) {
	switch x := v.(type) {
	case bool:
		return x, ""
	case float64:
		switch x {
		case 1:
			return true, ""
		case 0:
			return false, ""
		}
	case int:
		switch x {
		case 1:
			return true, ""
		case 0:
			return false, ""
		}
	case json.Number:
		return toBool(x.String())
	case string:
		switch strings.ToLower(strings.TrimSpace(x)) {
		case "true", "yes", "1":
			return true, ""
		case "false", "no", "0":
			return false, ""
		}
	}
	return nil, CodeInvalidType
}
