package consenttest

import (
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/casebridge/casebridge/consent"
	"github.com/casebridge/casebridge/mapping"
)

// MinLen is the shortest value (in characters) Scan searches for. Shorter
// values ("m", "12", "no") occur by chance in any text and would only give
// false positives; a field that holds them cannot be checked this way.
const MinLen = 3

// Leak is one personal value found in one text. It names the field, never
// the value.
type Leak struct {
	// Field is the path of the personal field.
	Field string
	// Text is the index of the text (in the order given) it was found in.
	Text int
	// Offset is the byte offset in that text.
	Offset int
	// Form says how the value was written: "string" (as is), "joined"
	// (its words joined by '_', '.', '-', several spaces or nothing, as in
	// "Firstname_Lastname"), "number", "digits" (a phone number's digits
	// with any spaces, '-', '.', '/', brackets or '+' between them), or a
	// date layout such as "02/01/2006".
	Form string
}

// String describes the leak without the value.
func (l Leak) String() string {
	return fmt.Sprintf("field %s leaked in text %d at offset %d (form %s)", l.Field, l.Text, l.Offset, l.Form)
}

// needle is one searchable form of a value: a lower-case text, or a
// pattern over lower-case text.
type needle struct {
	field, form, text string
	re                *regexp.Regexp
}

// find returns the byte offset of every occurrence of n in t.
func (n needle) find(t string) []int {
	var offs []int
	if n.re != nil {
		for _, m := range n.re.FindAllStringIndex(t, -1) {
			offs = append(offs, m[0])
		}
		return offs
	}
	for off := 0; ; {
		j := strings.Index(t[off:], n.text)
		if j < 0 {
			return offs
		}
		offs = append(offs, off+j)
		off += j + len(n.text)
	}
}

// wordSep is what may stand between the words of a value when it is
// written as an identifier: "Testname Synthetic" as "testname_synthetic",
// "testname.synthetic", "testname-synthetic" or "testnamesynthetic".
const wordSep = `[\s_.\-]*`

// digitSep is what may stand between the digits of a phone number:
// spaces, '-', '.', '/', brackets and '+'.
const digitSep = `[\s\-.()/+]*`

// spacedPattern matches the words (or digits) of parts joined by sep.
func spacedPattern(parts []string, sep string) *regexp.Regexp {
	q := make([]string, len(parts))
	for i, p := range parts {
		q[i] = regexp.QuoteMeta(p)
	}
	return regexp.MustCompile(strings.Join(q, sep))
}

// dateLayouts are the forms a date is searched in.
var dateLayouts = []string{
	"2006-01-02", "02/01/2006", "01/02/2006", "2/1/2006", "1/2/2006",
	"02-01-2006", "01-02-2006", "02.01.2006", "2006/01/02", "20060102",
	"2 January 2006", "January 2, 2006", "02 Jan 2006", "2 Jan 2006",
	"Jan 2, 2006", "2-Jan-2006", "02-Jan-2006",
}

// Scan returns every place a value of one of rec's fields (paths as in a
// consent policy: "a.b", "list[*].c") occurs in texts, case-insensitively:
// as written, in the shapes that would pass for an identifier in an audit
// event (a name's words joined by '_', '.', '-' or nothing; a phone
// number's digits with other punctuation or none; an email as is), and a
// date in the common layouts. Each place is reported once. Malformed paths are
// reported as a leak with Form "bad_path" so they cannot silently check
// nothing.
func Scan(rec mapping.Record, fields []string, texts ...string) []Leak {
	var needles []needle
	var leaks []Leak
	for _, f := range fields {
		vals, err := consent.Lookup(rec, f)
		if err != nil {
			leaks = append(leaks, Leak{Field: f, Text: -1, Offset: -1, Form: "bad_path"})
			continue
		}
		for _, v := range vals {
			needles = appendNeedles(needles, f, v)
		}
	}
	lowered := make([]string, len(texts))
	for i, t := range texts {
		lowered[i] = strings.ToLower(t)
	}
	// One leak per field and place: the first form that found it.
	type place struct {
		field     string
		text, off int
	}
	seen := map[place]bool{}
	for _, n := range needles {
		for i, t := range lowered {
			for _, off := range n.find(t) {
				if pl := (place{n.field, i, off}); !seen[pl] {
					seen[pl] = true
					leaks = append(leaks, Leak{Field: n.field, Text: i, Offset: off, Form: n.form})
				}
			}
		}
	}
	slices.SortStableFunc(leaks, func(a, b Leak) int {
		if a.Text != b.Text {
			return a.Text - b.Text
		}
		return a.Offset - b.Offset
	})
	return leaks
}

// appendNeedles adds the searchable forms of v (recursing into lists and
// objects found at a path).
func appendNeedles(ns []needle, field string, v any) []needle {
	add := func(form, s string) {
		s = strings.ToLower(strings.TrimSpace(s))
		if len([]rune(s)) >= MinLen {
			ns = append(ns, needle{field: field, form: form, text: s})
		}
	}
	addDate := func(d time.Time) {
		for _, l := range dateLayouts {
			add(l, d.Format(l))
		}
	}
	switch x := v.(type) {
	case string:
		add("string", x)
		if d, ok := parseDate(x); ok {
			addDate(d)
		}
		digits := onlyDigits(x)
		if len(digits) >= 7 {
			ns = append(ns, needle{field: field, form: "digits", re: spacedPattern(strings.Split(digits, ""), digitSep)})
		} else if words := strings.Fields(strings.ToLower(x)); len(words) > 1 && len([]rune(strings.Join(words, ""))) >= MinLen {
			ns = append(ns, needle{field: field, form: "joined", re: spacedPattern(words, wordSep)})
		}
	case time.Time:
		add("string", x.Format(time.RFC3339Nano))
		addDate(x)
	case float64:
		add("number", formatFloat(x))
	case float32:
		add("number", formatFloat(float64(x)))
	case int:
		add("number", strconv.Itoa(x))
	case int64:
		add("number", strconv.FormatInt(x, 10))
	case int32:
		add("number", strconv.FormatInt(int64(x), 10))
	case json.Number:
		add("number", x.String())
	case []any:
		for _, e := range x {
			ns = appendNeedles(ns, field, e)
		}
	case []string:
		for _, e := range x {
			ns = appendNeedles(ns, field, e)
		}
	case map[string]any:
		for _, e := range x {
			ns = appendNeedles(ns, field, e)
		}
	case mapping.Record:
		for _, e := range x {
			ns = appendNeedles(ns, field, e)
		}
	case fmt.Stringer:
		add("string", x.String())
	}
	return ns
}

func formatFloat(f float64) string {
	if f == math.Trunc(f) && math.Abs(f) < 1e15 {
		return strconv.FormatInt(int64(f), 10)
	}
	return strconv.FormatFloat(f, 'f', -1, 64)
}

func parseDate(s string) (time.Time, bool) {
	s = strings.TrimSpace(s)
	if len(s) > 10 && (s[10] == 'T' || s[10] == ' ') {
		s = s[:10]
	}
	d, err := time.Parse(time.DateOnly, s)
	return d, err == nil
}

func onlyDigits(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case r == ' ' || r == '-' || r == '+' || r == '(' || r == ')' || r == '.' || r == '/':
		default:
			return "" // not phone-like
		}
	}
	return b.String()
}

// LeafPaths returns the path of every leaf of rec (lists as [*]), sorted,
// except the paths in except (identifiers the texts may legitimately
// carry, such as "case_id"). Use it to treat a whole synthetic record as
// personal.
func LeafPaths(rec mapping.Record, except ...string) []string {
	set := map[string]bool{}
	leaves("", map[string]any(rec), set)
	for _, e := range except {
		delete(set, e)
	}
	out := make([]string, 0, len(set))
	for p := range set {
		out = append(out, p)
	}
	slices.Sort(out)
	return out
}

func leaves(prefix string, v any, out map[string]bool) {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			leaves(join(prefix, k), e, out)
		}
		return
	case mapping.Record:
		leaves(prefix, map[string]any(x), out)
		return
	case []map[string]any:
		for _, e := range x {
			leaves(prefix+"[*]", e, out)
		}
		return
	case []any:
		if len(x) == 0 {
			out[prefix] = true
		}
		for _, e := range x {
			if _, isMap := e.(map[string]any); isMap {
				leaves(prefix+"[*]", e, out)
			} else {
				out[prefix] = true // a list of scalars: the list is the leaf
			}
		}
		return
	}
	if prefix != "" {
		out[prefix] = true
	}
}

func join(prefix, k string) string {
	if prefix == "" {
		return k
	}
	return prefix + "." + k
}

// AssertNoPersonalData fails t for every value of rec's fields found in
// texts, naming field, text and offset (never the value). It returns true
// when nothing leaked.
func AssertNoPersonalData(t testing.TB, rec mapping.Record, fields []string, texts ...string) bool {
	t.Helper()
	leaks := Scan(rec, fields, texts...)
	for _, l := range leaks {
		t.Errorf("personal data: %s", l)
	}
	return len(leaks) == 0
}

// AssertPolicyFieldsNotLeaked is AssertNoPersonalData for the need-to-know
// fields of policy p: whatever the policy lets through must still never
// appear in logs, audit output or errors.
func AssertPolicyFieldsNotLeaked(t testing.TB, p *consent.Policy, rec mapping.Record, texts ...string) bool {
	t.Helper()
	return AssertNoPersonalData(t, rec, p.Fields(), texts...)
}
