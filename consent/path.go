package consent

import (
	"fmt"
	"strings"

	"github.com/casebridge/casebridge/mapping"
)

// segment is one step of a field path: a key, optionally followed by [*]
// meaning "every element of the list under this key".
type segment struct {
	key  string
	list bool
}

// parsePath parses a dotted field path such as "services_section[*].service_type".
// Keys are non-empty and may not contain '.', '[' or ']'; the only index form
// is [*].
func parsePath(p string) ([]segment, error) {
	if p == "" {
		return nil, fmt.Errorf("empty path")
	}
	parts := strings.Split(p, ".")
	segs := make([]segment, 0, len(parts))
	for _, part := range parts {
		s := segment{key: part}
		if k, ok := strings.CutSuffix(part, "[*]"); ok {
			s = segment{key: k, list: true}
		}
		if s.key == "" {
			return nil, fmt.Errorf("empty key in path %q", p)
		}
		if strings.ContainsAny(s.key, "[]* \t") {
			return nil, fmt.Errorf("invalid key %q in path %q (only name or name[*] is allowed)", s.key, p)
		}
		segs = append(segs, s)
	}
	return segs, nil
}

// asMap returns v as a map when it is a JSON object.
func asMap(v any) (map[string]any, bool) {
	switch m := v.(type) {
	case map[string]any:
		return m, true
	case mapping.Record:
		return m, true
	}
	return nil, false
}

// asList returns v as a list when it is a JSON array.
func asList(v any) ([]any, bool) {
	switch l := v.(type) {
	case []any:
		return l, true
	case []map[string]any:
		out := make([]any, len(l))
		for i, m := range l {
			out[i] = m
		}
		return out, true
	case []mapping.Record:
		out := make([]any, len(l))
		for i, m := range l {
			out[i] = map[string]any(m)
		}
		return out, true
	}
	return nil, false
}

// lookupFirst returns the value at a path without list steps. ok is false
// when a step is missing or not an object.
func lookupFirst(rec map[string]any, segs []segment) (any, bool) {
	var cur any = rec
	for _, s := range segs {
		m, ok := asMap(cur)
		if !ok {
			return nil, false
		}
		cur, ok = m[s.key]
		if !ok {
			return nil, false
		}
		if s.list {
			return nil, false
		}
	}
	return cur, true
}

// collect appends every value found at segs under cur to out.
func collect(cur any, segs []segment, out []any) []any {
	if len(segs) == 0 {
		return append(out, cur)
	}
	m, ok := asMap(cur)
	if !ok {
		return out
	}
	v, ok := m[segs[0].key]
	if !ok {
		return out
	}
	if !segs[0].list {
		return collect(v, segs[1:], out)
	}
	l, ok := asList(v)
	if !ok {
		return out
	}
	for _, e := range l {
		out = collect(e, segs[1:], out)
	}
	return out
}

// Lookup returns every value found at path in rec: one value for a plain
// path, one per list element for a path with [*]. Missing steps yield
// nothing. It returns an error only for a malformed path.
func Lookup(rec mapping.Record, path string) ([]any, error) {
	segs, err := parsePath(path)
	if err != nil {
		return nil, err
	}
	return collect(map[string]any(rec), segs, nil), nil
}
