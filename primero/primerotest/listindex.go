package primerotest

import (
	"net/url"
	"slices"
	"strings"
)

// listIndex holds what list requests computed from the stored cases, so
// that serving page after page of one query costs a page, not a pass over
// every case: the matching case indexes of recent queries, in their order.
// It is valid for one write generation (Server.gen): any change to a case,
// the schema, the users or the locations starts a new generation and
// empties it. Nothing in it changes what a request answers; Primero too
// evaluates a query against the records as they are when it runs.
type listIndex struct {
	gen     uint64
	matches map[matchKey][]int32 // a query -> its matching case indexes, in order_by order
}

// matchKey names the result of one query: who asked (scope and view
// decide what matches), the order and the filters. Page, per, order and
// fields are not in it: they choose and render a slice of the result.
type matchKey struct {
	user    *userState
	view    *view
	orderBy string // "" for creation order
	query   string // the query parameters without page, per, order, fields
	all     bool   // no filter, scope or query: every case
}

// maxCachedMatches bounds the queries whose results are kept per
// generation (each is up to 4 bytes per case).
const maxCachedMatches = 8

// invalidateLists starts a new write generation, under s.mu: call it on
// every change that can change what a list request matches, how it sorts
// or what it renders.
func (s *Server) invalidateLists() { s.gen++ }

// matching returns the indexes of the cases that pass keep (nil: every
// case), stably sorted in ascending order by key.orderBy (compareValues:
// missing values last; "": creation order), computed once per generation
// and cached under key, under s.mu. The caller must not modify it.
//
// It filters first and sorts what matched, as a database would with no
// index on the order field: a query that matches a few cases sorts a few,
// however many are stored, and a write between two pages costs one pass.
func (s *Server) matching(key matchKey, keep func(rec map[string]any) bool) []int32 {
	if s.listIdx == nil || s.listIdx.gen != s.gen {
		s.listIdx = &listIndex{gen: s.gen, matches: map[matchKey][]int32{}}
	}
	li := s.listIdx
	if idx, ok := li.matches[key]; ok {
		return idx
	}
	type entry struct {
		i int32
		v any
	}
	var es []entry
	for i, rec := range s.cases {
		if keep == nil || keep(rec) {
			es = append(es, entry{int32(i), rec[key.orderBy]})
		}
	}
	if key.orderBy != "" {
		slices.SortStableFunc(es, func(a, b entry) int { return compareValues(a.v, b.v) })
	}
	idx := make([]int32, len(es))
	for k, e := range es {
		idx[k] = e.i
	}
	if len(li.matches) >= maxCachedMatches {
		clear(li.matches)
	}
	li.matches[key] = idx
	return idx
}

// queryKey is the canonical form of a list query's matching part: its
// parameters in sorted order, without page, per, order and fields.
func queryKey(q url.Values) string {
	rest := make(url.Values, len(q))
	for k, v := range q {
		switch k {
		case "page", "per", "order", "fields":
		default:
			rest[k] = v
		}
	}
	return rest.Encode()
}

// fieldsKey is the canonical form of a fields selection for the render
// cache: "" for nil (every readable field), "=" and the sorted names
// otherwise, so that no selection, the empty one included, reads as nil.
func fieldsKey(fields map[string]bool) string {
	if fields == nil {
		return ""
	}
	names := make([]string, 0, len(fields))
	for f := range fields {
		names = append(names, f)
	}
	slices.Sort(names)
	return "=" + strings.Join(names, ",")
}
