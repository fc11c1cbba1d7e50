package mapping

import (
	"errors"
	"strconv"
	"strings"
)

type segKind uint8

const (
	segKey segKind = iota
	segIndex
	segStar
)

// seg is one precompiled path segment. For a key segment, joins holds the
// candidate keys made of this segment and the following key segments of
// the same run joined with dots, longest first, so that flattened keys such
// as "individuals.progres_id" are found without allocating.
type seg struct {
	kind  segKind
	key   string
	index int
	joins []string
}

// path is a precompiled dotted path.
type path struct {
	raw    string
	segs   []seg
	stars  int
	starAt int // index of the first [*] segment, when stars > 0
}

var errBadPath = errors.New("bad path")

// parsePath compiles a dotted path with [n] and [*] segments.
func parsePath(s string) (path, error) {
	p := path{raw: s}
	if strings.TrimSpace(s) == "" {
		return p, errors.New("empty path")
	}
	i := 0
	expectKey := true
	for i < len(s) {
		switch s[i] {
		case '[':
			end := strings.IndexByte(s[i:], ']')
			if end < 0 {
				return p, errors.New("unclosed [ in path")
			}
			in := s[i+1 : i+end]
			if in == "*" {
				if p.stars == 0 {
					p.starAt = len(p.segs)
				}
				p.segs = append(p.segs, seg{kind: segStar})
				p.stars++
			} else {
				n, err := strconv.Atoi(in)
				if err != nil || n < 0 || n > 1<<20 {
					return p, errors.New("list index must be a number or *")
				}
				p.segs = append(p.segs, seg{kind: segIndex, index: n})
			}
			i += end + 1
			expectKey = false
			if i < len(s) {
				switch s[i] {
				case '.':
					i++
					expectKey = true
					if i == len(s) {
						return p, errors.New("path ends with a dot")
					}
				case '[':
				default:
					return p, errors.New("expected . or [ after ]")
				}
			}
		case ']':
			return p, errors.New("unexpected ] in path")
		default:
			if !expectKey {
				return p, errBadPath
			}
			j := i
			for j < len(s) && s[j] != '.' && s[j] != '[' && s[j] != ']' {
				j++
			}
			if j == i {
				return p, errors.New("empty segment in path")
			}
			p.segs = append(p.segs, seg{kind: segKey, key: s[i:j]})
			i = j
			expectKey = false
			if i < len(s) && s[i] == '.' {
				i++
				expectKey = true
				if i == len(s) {
					return p, errors.New("path ends with a dot")
				}
			}
		}
	}
	if expectKey && len(p.segs) == 0 {
		return p, errors.New("empty path")
	}
	// Precompute the joined candidates of each run of key segments.
	for i := range p.segs {
		if p.segs[i].kind != segKey {
			continue
		}
		end := i
		for end+1 < len(p.segs) && p.segs[end+1].kind == segKey {
			end++
		}
		joins := make([]string, 0, end-i+1)
		for k := end; k >= i; k-- {
			parts := make([]string, 0, k-i+1)
			for x := i; x <= k; x++ {
				parts = append(parts, p.segs[x].key)
			}
			joins = append(joins, strings.Join(parts, "."))
		}
		p.segs[i].joins = joins
	}
	return p, nil
}

// normalized renders the path with every index and star as [*]: the form
// used to match schema fields and detect duplicate targets.
func (p path) normalized() string { return segsString(p.segs, true) }

// segsString renders path segments as written (a.b[0][*]), or with every
// index as [*] when starIndexes is set.
func segsString(segs []seg, starIndexes bool) string {
	var b strings.Builder
	for i, s := range segs {
		switch {
		case s.kind == segKey:
			if i > 0 {
				b.WriteByte('.')
			}
			b.WriteString(s.key)
		case s.kind == segIndex && !starIndexes:
			b.WriteString("[" + strconv.Itoa(s.index) + "]")
		default:
			b.WriteString("[*]")
		}
	}
	return b.String()
}

// asMap returns v as a map when it is one of the map types a Record holds.
func asMap(v any) (map[string]any, bool) {
	switch m := v.(type) {
	case map[string]any:
		return m, true
	case Record:
		return m, true
	}
	return nil, false
}

// asList returns v as a list when it is one of the list types a Record holds.
func asList(v any) ([]any, bool) {
	switch l := v.(type) {
	case []any:
		return l, true
	case []map[string]any:
		out := make([]any, len(l))
		for i := range l {
			out[i] = l[i]
		}
		return out, true
	case []Record:
		out := make([]any, len(l))
		for i := range l {
			out[i] = l[i]
		}
		return out, true
	case []string:
		out := make([]any, len(l))
		for i := range l {
			out[i] = l[i]
		}
		return out, true
	}
	return nil, false
}

// get reads the path from v. Without [*] it returns the single value; with
// [*] it returns a list of the values found under every element (elements
// where the rest of the path is missing give nil, so positions line up with
// the source list for one [*]).
func (p *path) get(v any) (any, bool) {
	if p.stars == 0 {
		return getSegs(v, p.segs)
	}
	var out []any
	collect(v, p.segs, &out)
	if out == nil {
		return nil, false
	}
	return out, true
}

func getSegs(v any, segs []seg) (any, bool) {
	for i := 0; i < len(segs); {
		s := &segs[i]
		switch s.kind {
		case segKey:
			m, ok := asMap(v)
			if !ok {
				return nil, false
			}
			found := false
			for k, key := range s.joins {
				if x, ok := m[key]; ok {
					v = x
					i += len(s.joins) - k
					found = true
					break
				}
			}
			if !found {
				return nil, false
			}
		case segIndex:
			l, ok := asList(v)
			if !ok || s.index >= len(l) {
				return nil, false
			}
			v = l[s.index]
			i++
		default:
			return nil, false
		}
	}
	return v, true
}

// collect walks segs, fanning out at [*], and appends what it finds.
func collect(v any, segs []seg, out *[]any) {
	for i := 0; i < len(segs); i++ {
		if segs[i].kind != segStar {
			continue
		}
		head, ok := getSegs(v, segs[:i])
		if !ok {
			return
		}
		l, ok := asList(head)
		if !ok {
			return
		}
		if *out == nil {
			*out = make([]any, 0, len(l))
		}
		for _, e := range l {
			if hasStar(segs[i+1:]) {
				collect(e, segs[i+1:], out)
				continue
			}
			x, _ := getSegs(e, segs[i+1:])
			*out = append(*out, x)
		}
		return
	}
}

func hasStar(segs []seg) bool {
	for _, s := range segs {
		if s.kind == segStar {
			return true
		}
	}
	return false
}
