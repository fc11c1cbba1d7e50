package primerotest

import (
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

// filter is one parsed query filter (docs/systems/primero.md,
// app/services/search_filter_service.rb).
type filter interface {
	match(rec map[string]any) bool
}

// matchAll reports whether rec satisfies every filter.
func matchAll(fs []filter, rec map[string]any) bool {
	for _, f := range fs {
		if !f.match(rec) {
			return false
		}
	}
	return true
}

// paramKey splits "f", "f[x]", "or[f]", "or[f][from]", "loc:f" keys.
var bracketRe = regexp.MustCompile(`^([^\[\]]+)((?:\[[^\[\]]*\])*)$`)

// fieldParams are the parts of a query naming one field.
type fieldParams struct {
	value    *string // f=v
	from, to *string // f[from], f[to]
	list     map[int]string
	loc      bool
}

// parseFilters turns the query parameters of GET /cases into filters,
// under s.mu. Parameters that are not filterable for the caller's view are
// ignored, as Primero ignores them (pitfall 3): unknown fields, and fields
// the role cannot read, ID fields included.
func (s *Server) parseFilters(q url.Values, v *view) []filter {
	return s.parseFilterGroup(q, v, true)
}

// filterable reports whether a field may be used as a filter by v's user.
func (v *view) filterable(name string) bool {
	if v.denied[name] {
		return false
	}
	return v.read[name] || (alwaysFilterable[name] && !neverRendered[name])
}

func (s *Server) parseFilterGroup(q url.Values, v *view, top bool) []filter {
	groups := map[string]*fieldParams{}
	orParams := url.Values{}
	notParams := url.Values{}
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, key := range keys {
		if top && listParams[key] {
			continue
		}
		vals := q[key]
		if len(vals) == 0 {
			continue
		}
		m := bracketRe.FindStringSubmatch(key)
		if m == nil {
			continue
		}
		name, rest := m[1], m[2]
		if top && (name == "or" || name == "not") && rest != "" {
			inner := rest[1:strings.Index(rest, "]")] + rest[strings.Index(rest, "]")+1:]
			if name == "or" {
				orParams[inner] = vals
			} else {
				notParams[inner] = vals
			}
			continue
		}
		loc := false
		if strings.HasPrefix(name, "loc:") {
			name, loc = strings.TrimPrefix(name, "loc:"), true
		}
		g := groups[name]
		if g == nil {
			g = &fieldParams{list: map[int]string{}}
			groups[name] = g
		}
		g.loc = g.loc || loc
		v := vals[len(vals)-1]
		switch rest {
		case "":
			g.value = &v
		case "[from]":
			g.from = &v
		case "[to]":
			g.to = &v
		default:
			if n, err := strconv.Atoi(strings.Trim(rest, "[]")); err == nil && strings.Count(rest, "[") == 1 {
				g.list[n] = v
			} else if rest == "[]" {
				for i, vv := range vals {
					g.list[i] = vv
				}
			}
		}
	}

	var out []filter
	names := make([]string, 0, len(groups))
	for n := range groups {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		if !v.filterable(name) {
			continue // unknown or unreadable: silently ignored
		}
		if f := s.fieldFilter(name, groups[name]); f != nil {
			out = append(out, f)
		}
	}
	if len(orParams) > 0 {
		if inner := s.parseFilterGroup(orParams, v, false); len(inner) > 0 {
			out = append(out, orFilter(inner))
		}
	}
	if len(notParams) > 0 {
		for _, f := range s.parseFilterGroup(notParams, v, false) {
			out = append(out, notFilter{f})
		}
	}
	return out
}

// fieldFilter builds the filter of one field, or nil when it is dropped.
func (s *Server) fieldFilter(name string, g *fieldParams) filter {
	if g.loc {
		var codes []string
		if g.value != nil {
			codes = strings.Split(*g.value, ",")
		}
		for _, v := range g.list {
			codes = append(codes, v)
		}
		return locFilter{field: name, codes: codes, s: s}
	}
	if idFields[name] {
		// ID fields: exact strings, never split or converted.
		var vals []string
		if g.value != nil {
			vals = append(vals, *g.value)
		}
		for _, v := range g.list {
			vals = append(vals, v)
		}
		if len(vals) == 0 {
			return nil
		}
		return idFilter{field: name, values: vals}
	}
	switch {
	case g.from != nil:
		to := ""
		if g.to != nil {
			to = *g.to
		}
		return s.rangeFilter(name, *g.from, to)
	case len(g.list) > 0:
		var items []filter
		for _, v := range g.list {
			items = append(items, s.scalarFilter(name, v))
		}
		return orFilter(items)
	case g.value != nil:
		return s.valueFilter(name, *g.value)
	}
	return nil
}

// valueFilter converts one query value in Primero's order: empty, list
// (",", checked before ".."), range (".."), boolean, integer, date/time,
// string.
func (s *Server) valueFilter(field, v string) filter {
	switch {
	case v == "":
		// Compared with null (unconfirmed): expect no results.
		if s.cfg.quirks.EmptyFilterMatchesNothing {
			return nothing{}
		}
		return nil
	case strings.Contains(v, ","):
		var items []filter
		for p := range strings.SplitSeq(v, ",") {
			items = append(items, s.scalarFilter(field, p))
		}
		return orFilter(items)
	case strings.Contains(v, ".."):
		lo, hi, _ := strings.Cut(v, "..")
		return s.rangeFilter(field, lo, hi)
	}
	return s.scalarFilter(field, v)
}

var digitsRe = regexp.MustCompile(`^[0-9]+$`)

// scalarFilter converts a single value: boolean, integer, date/time, else
// an exact, case-sensitive string.
func (s *Server) scalarFilter(field, v string) filter {
	switch {
	case v == "true":
		return eqFilter{field: field, want: true}
	case v == "false":
		// false also matches records lacking the field, except on a
		// boolean srch_ column (search_filters/boolean_value.rb).
		return boolFalse{field: field, orMissing: !srchBoolean[field]}
	case digitsRe.MatchString(v):
		n, _ := strconv.ParseFloat(v, 64)
		return eqFilter{field: field, want: n}
	}
	if t, dateOnly, ok := parseDateOrTime(v); ok {
		b := timeBound{t: t, date: dateOnly, set: true}
		if dateOnly && !srchTimestamp[field] {
			return newTimeRange(field, b, b)
		}
		hi := b
		if dateOnly {
			hi = timeBound{t: t.Add(24*time.Hour - time.Nanosecond), set: true}
		}
		return newTimeRange(field, b, hi)
	}
	return eqFilter{field: field, want: v}
}

// rangeFilter builds an inclusive range whose type comes from the lower
// bound: numeric when it is digits only, or date/time. An empty or untyped
// lower bound drops the filter, so `..b`, `-1..10` and `1.5..3` are
// silently ignored (pitfall 4).
func (s *Server) rangeFilter(field, lo, hi string) filter {
	if digitsRe.MatchString(lo) {
		l, _ := strconv.ParseFloat(lo, 64)
		if hi == "" {
			// `a..` on a srch_ integer column compares with NULL
			// (search_filters/numeric_range.rb; Quirks.OpenNumericRangeMatchesNothing).
			if srchInteger[field] && s.cfg.quirks.OpenNumericRangeMatchesNothing {
				return nothing{}
			}
			return numRange{field: field, lo: l}
		}
		h, err := strconv.ParseFloat(hi, 64)
		if err != nil {
			return nothing{}
		}
		return numRange{field: field, lo: l, hi: h, hasHi: true}
	}
	if t, dateOnly, ok := parseDateOrTime(lo); ok {
		lb := timeBound{t: t, date: dateOnly && !srchTimestamp[field], set: true}
		if hi == "" {
			return newTimeRange(field, lb, timeBound{})
		}
		h, dateOnly, ok := parseDateOrTime(hi)
		if !ok {
			return nothing{}
		}
		// On a srch_ timestamp column a date-only bound is midnight: the
		// end day itself is left out.
		return newTimeRange(field, lb, timeBound{t: h, date: dateOnly && !srchTimestamp[field], set: true})
	}
	return nil // range class nil: no filter
}

// anyElem applies pred to v, or to each element when v is an array
// (multi-selects match when any selected value matches).
func anyElem(v any, pred func(any) bool) bool {
	if arr, ok := v.([]any); ok {
		for _, e := range arr {
			if pred(e) {
				return true
			}
		}
		return false
	}
	return pred(v)
}

type nothing struct{}

func (nothing) match(map[string]any) bool { return false }

type orFilter []filter

func (o orFilter) match(rec map[string]any) bool {
	for _, f := range o {
		if f.match(rec) {
			return true
		}
	}
	return false
}

type notFilter struct{ f filter }

func (n notFilter) match(rec map[string]any) bool { return !n.f.match(rec) }

type idFilter struct {
	field  string
	values []string
}

func (f idFilter) match(rec map[string]any) bool {
	return anyElem(rec[f.field], func(v any) bool {
		s, ok := v.(string)
		if !ok {
			return false
		}
		for _, w := range f.values {
			if s == w {
				return true
			}
		}
		return false
	})
}

type eqFilter struct {
	field string
	want  any // bool, float64 or string
}

func (f eqFilter) match(rec map[string]any) bool {
	return anyElem(rec[f.field], func(v any) bool { return v == f.want })
}

type numRange struct {
	field  string
	lo, hi float64
	hasHi  bool
}

func (f numRange) match(rec map[string]any) bool {
	return anyElem(rec[f.field], func(v any) bool {
		n, ok := v.(float64)
		return ok && n >= f.lo && (!f.hasHi || n <= f.hi)
	})
}

// boolFalse is `f=false`.
type boolFalse struct {
	field     string
	orMissing bool
}

func (f boolFalse) match(rec map[string]any) bool {
	v, ok := rec[f.field]
	if !ok || v == nil {
		return f.orMissing
	}
	return anyElem(v, func(e any) bool { return e == false })
}

// timeBound is one end of a time range: a date compares the value's date,
// a time compares the value at whole seconds, unless the field has a srch_
// timestamp column, where it compares exactly.
type timeBound struct {
	t    time.Time
	date bool // compare dates only
	set  bool
}

type timeRange struct {
	field  string
	lo, hi timeBound
	exact  bool // a srch_ timestamp column: no truncation to seconds
}

func newTimeRange(field string, lo, hi timeBound) timeRange {
	exact := srchTimestamp[field]
	if !exact {
		// TO_TIMESTAMP(x, 'YYYY-MM-DD"T"HH24:MI:SS') on both sides.
		lo.t, hi.t = lo.t.Truncate(time.Second), hi.t.Truncate(time.Second)
	}
	return timeRange{field: field, lo: lo, hi: hi, exact: exact}
}

func (f timeRange) match(rec map[string]any) bool {
	return anyElem(rec[f.field], func(v any) bool {
		s, ok := v.(string)
		if !ok {
			return false
		}
		t, _, ok := parseDateOrTime(s)
		if !ok {
			return false
		}
		if !f.exact {
			t = t.Truncate(time.Second)
		}
		return f.lo.below(t) && f.hi.above(t)
	})
}

// below reports t >= the lower bound.
func (b timeBound) below(t time.Time) bool {
	if !b.set {
		return true
	}
	if b.date {
		return !dateOf(t).Before(b.t)
	}
	return !t.Before(b.t)
}

// above reports t <= the upper bound.
func (b timeBound) above(t time.Time) bool {
	if !b.set {
		return true
	}
	if b.date {
		return !dateOf(t).After(b.t)
	}
	return !t.After(b.t)
}

func dateOf(t time.Time) time.Time {
	t = t.UTC()
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}

// locFilter matches a location and its descendants.
type locFilter struct {
	field string
	codes []string
	s     *Server // read under s.mu by the caller
}

func (f locFilter) match(rec map[string]any) bool {
	return anyElem(rec[f.field], func(v any) bool {
		code, ok := v.(string)
		return ok && f.s.withinAny(code, f.codes)
	})
}
