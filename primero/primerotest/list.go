package primerotest

import (
	"bytes"
	"fmt"
	"net/http"
	"strconv"
	"strings"
)

// shortFields is `fields=short` (app/services/field_selection_service.rb).
var shortFields = setOf("created_at", "owned_by", "owned_by_agency_id", "photos", "flag_count",
	"status", "record_in_scope", "short_id", "alert_count", "case_id_display", "name",
	"survivor_code_no", "age", "sex", "registration_date", "hidden_name", "workflow",
	"case_status_reopened", "module_id", "registry_record_id", "client_code", "gender",
	"reporting_location_hierarchy", "location_current")

// pageParams reads page and per: page defaults to 1, per to def, capped at
// 1000 (app/controllers/api/v2/concerns/pagination.rb).
func pageParams(r *http.Request, def int) (page, per int) {
	q := r.URL.Query()
	page, _ = strconv.Atoi(q.Get("page"))
	if page < 1 {
		page = 1
	}
	per, _ = strconv.Atoi(q.Get("per"))
	if per < 1 {
		per = def
	}
	if per > 1000 {
		per = 1000
	}
	return page, per
}

// listParams are the query parameters of GET /cases that are not filters.
var listParams = setOf("page", "per", "order_by", "order", "fields", "query", "id_search",
	"phonetic", "phone_number", "locale", "format")

// handleListCases implements GET /api/v2/cases.
func (s *Server) handleListCases(w http.ResponseWriter, r *http.Request, u *userState) {
	q := r.URL.Query()
	page, per := pageParams(r, 20)
	query := strings.ToLower(q.Get("query"))
	idSearch := q.Get("id_search") == "true" && query != ""
	orderBy := q.Get("order_by")
	if orderBy == "" {
		orderBy = "created_at"
	}
	desc := true
	if o := q.Get("order"); o != "" {
		// ActiveRecord accepts asc/desc in either case; anything else is asc.
		desc = o == "desc" || o == "DESC"
	}
	fields := selectedFields(q.Get("fields"))
	if idSearch {
		fields = shortFields
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	v := s.viewFor(u, "")
	filters := s.parseFilters(q, v)
	scoped := !idSearch && u.Permission != "" && u.Permission != "all"
	// Stable ascending order by orderBy (creation order among equals);
	// creation order is created_at order while no case was stored out of
	// it. desc reads it from the end.
	sortBy := orderBy
	if orderBy == "created_at" && s.createdSorted {
		sortBy = ""
	}
	var idx []int32 // nil: every case, in creation order
	switch {
	case len(filters) > 0 || scoped || query != "":
		key := matchKey{user: u, view: v, orderBy: sortBy, query: queryKey(q)}
		if idSearch {
			key.query += "&\x00id_search" // unscoped: never the same result as a scoped query
		}
		idx = s.matching(key, func(rec map[string]any) bool {
			return (!scoped || inScope(u, rec)) &&
				(query == "" || matchesQuery(rec, query)) &&
				matchAll(filters, rec)
		})
	case sortBy != "":
		idx = s.matching(matchKey{orderBy: sortBy, all: true}, nil)
	}
	n := len(s.cases)
	if idx != nil {
		n = len(idx)
	}

	// The page is its cases' cached JSON, joined: one buffer of the exact size.
	fkey := fieldsKey(fields)
	start := (page - 1) * per
	recs := make([][]byte, 0, max(0, min(per, n-start)))
	size := 0
	for k := 0; k < per && start+k < n; k++ {
		pos := start + k
		if desc {
			pos = n - 1 - pos
		}
		i := pos
		if idx != nil {
			i = int(idx[pos])
		}
		b, err := s.encode(i, v, fields, fkey)
		if err != nil {
			writeError(w, r, http.StatusInternalServerError, err.Error(), nil)
			return
		}
		recs = append(recs, b)
		size += len(b) + 1
	}
	var buf bytes.Buffer
	buf.Grow(size + 96)
	buf.WriteString(`{"data":[`)
	for k, b := range recs {
		if k > 0 {
			buf.WriteByte(',')
		}
		buf.Write(b)
	}
	fmt.Fprintf(&buf, `],"metadata":{"total":%d,"per":%d,"page":%d}}`, n, per, page)
	writeRawJSON(w, http.StatusOK, buf.Bytes())
}

// selectedFields parses the fields parameter; nil means every readable
// field.
func selectedFields(v string) map[string]bool {
	if v == "" {
		return nil
	}
	if v == "short" {
		return shortFields
	}
	out := map[string]bool{}
	for f := range strings.SplitSeq(v, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out[f] = true
		}
	}
	return out
}

// matchesQuery is `query`: a case-insensitive substring over the ID fields.
func matchesQuery(rec map[string]any, lowerQuery string) bool {
	for f := range idFields {
		if v, ok := rec[f].(string); ok && strings.Contains(strings.ToLower(v), lowerQuery) {
			return true
		}
	}
	return false
}

// compareValues orders JSON values for order_by: numbers, strings
// (datetimes sort as strings, as the server renders them uniformly) and
// booleans, then missing values last, as PostgreSQL sorts NULLs last
// ascending (and so first descending).
func compareValues(a, b any) int {
	ra, rb := rank(a), rank(b)
	if ra != rb {
		return ra - rb
	}
	switch x := a.(type) {
	case float64:
		y := b.(float64)
		switch {
		case x < y:
			return -1
		case x > y:
			return 1
		}
	case string:
		return strings.Compare(x, b.(string))
	case bool:
		y := b.(bool)
		if x == y {
			return 0
		}
		if !x {
			return -1
		}
		return 1
	}
	return 0
}

func rank(v any) int {
	switch v.(type) {
	case float64:
		return 1
	case string:
		return 2
	case bool:
		return 3
	case nil:
		return 5
	}
	return 4
}
