package primerotest

import (
	"net/url"
	"slices"
	"strings"
)

// listIndex holds what list requests computed from the stored cases, so
// that serving page after page of one query costs a page, not a pass over
// every case: the case indexes sorted by an order_by field, and the
// matching indexes of recent queries. It is valid for one write generation
// (Server.gen): any change to a case, the schema, the users or the
// locations starts a new generation and empties it. Nothing in it changes
// what a request answers; Primero too evaluates a query against the
// records as they are when it runs.
type listIndex struct {
	gen     uint64
	sorted  map[string][]int32   // order_by field -> every case index, stably sorted by it
	matches map[matchKey][]int32 // a query -> its matching case indexes, in order_by order
}

// matchKey names the result of one query: who asked (scope and view
// decide what matches), the order and the filters. Page, per, order and
// fields are not in it: they choose and render a slice of the result.
type matchKey struct {
	user    *userState
	view    *view
	orderBy string
	query   string // the query parameters without page, per, order, fields
}

// maxCachedMatches bounds the queries whose results are kept per
// generation (each is up to 4 bytes per case).
const maxCachedMatches = 8

// invalidateLists starts a new write generation, under s.mu: call it on
// every change that can change what a list request matches, how it sorts
// or what it renders.
func (s *Server) invalidateLists() { s.gen++ }

// lists returns the list index of the current generation, under s.mu.
func (s *Server) lists() *listIndex {
	if s.listIdx == nil || s.listIdx.gen != s.gen {
		s.listIdx = &listIndex{gen: s.gen, sorted: map[string][]int32{}, matches: map[matchKey][]int32{}}
	}
	return s.listIdx
}

// sortedBy returns every case index stably sorted by field in ascending
// order (compareValues: missing values last), computed once per
// generation, under s.mu. The caller must not modify it.
func (s *Server) sortedBy(field string) []int32 {
	li := s.lists()
	if idx, ok := li.sorted[field]; ok {
		return idx
	}
	vals := make([]any, len(s.cases))
	idx := make([]int32, len(s.cases))
	for i, rec := range s.cases {
		vals[i], idx[i] = rec[field], int32(i)
	}
	slices.SortStableFunc(idx, func(a, b int32) int { return compareValues(vals[a], vals[b]) })
	li.sorted[field] = idx
	return idx
}

// matching returns the indexes of the cases that pass keep, in the order
// of order (nil: creation order), cached under key for the generation;
// under s.mu. The caller must not modify it.
func (s *Server) matching(key matchKey, order []int32, keep func(rec map[string]any) bool) []int32 {
	li := s.lists()
	if idx, ok := li.matches[key]; ok {
		return idx
	}
	idx := make([]int32, 0, 64)
	if order == nil {
		for i, rec := range s.cases {
			if keep(rec) {
				idx = append(idx, int32(i))
			}
		}
	} else {
		for _, i := range order {
			if keep(s.cases[i]) {
				idx = append(idx, i)
			}
		}
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
