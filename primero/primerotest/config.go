package primerotest

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// handleForms implements GET /api/v2/forms (not paginated).
func (s *Server) handleForms(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []any{}
	for _, f := range s.forms {
		if v := q.Get("record_type"); v != "" && stringOf(f["parent_form"]) != v && f["parent_form"] != nil {
			continue
		}
		if v := q.Get("unique_id"); v != "" && stringOf(f["unique_id"]) != v {
			continue
		}
		if v := q.Get("module_id"); v != "" {
			mods, _ := f["module_ids"].([]any)
			if !slices.Contains(mods, any(v)) {
				continue
			}
		}
		if q.Get("exclude_subforms") == "true" {
			if nested, _ := f["is_nested"].(bool); nested {
				continue
			}
		}
		out = append(out, f)
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": out})
}

// handleForm implements GET /api/v2/forms/:id (the int id).
func (s *Server) handleForm(w http.ResponseWriter, r *http.Request, id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, f := range s.forms {
		if jsonIntString(f["id"]) == id {
			writeJSON(w, http.StatusOK, map[string]any{"data": f})
			return
		}
	}
	writeError(w, r, http.StatusNotFound, "Not Found", "Couldn't find FormSection with 'id'="+id)
}

func jsonIntString(v any) string {
	switch x := v.(type) {
	case int:
		return strconv.Itoa(x)
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case string:
		return x
	}
	return ""
}

// writePage writes items[page] with Primero's metadata.
func writePage(w http.ResponseWriter, r *http.Request, items []any, def int, extra map[string]any) {
	page, per := pageParams(r, def)
	start := min((page-1)*per, len(items))
	end := min(start+per, len(items))
	meta := map[string]any{"total": len(items), "per": per, "page": page}
	for k, v := range extra {
		meta[k] = v
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": items[start:end], "metadata": meta})
}

// handleLookups implements GET /api/v2/lookups (paginated, per 20).
func (s *Server) handleLookups(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	items := make([]any, len(s.lookups))
	for i, l := range s.lookups {
		items[i] = l
	}
	writePage(w, r, items, 20, nil)
}

// handleLookup implements GET /api/v2/lookups/:id (int id or unique_id).
func (s *Server) handleLookup(w http.ResponseWriter, r *http.Request, id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, l := range s.lookups {
		if jsonIntString(l["id"]) == id || l["unique_id"] == id {
			writeJSON(w, http.StatusOK, map[string]any{"data": l})
			return
		}
	}
	writeError(w, r, http.StatusNotFound, "Not Found", "Couldn't find Lookup with 'id'="+id)
}

// handleLocations implements GET /api/v2/locations (paginated, per 100;
// hierarchy=true adds admin_level, placename and hierarchy; disabled[0]
// filters).
func (s *Server) handleLocations(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	hier := q.Get("hierarchy") == "true"
	disabledFilter := q.Get("disabled[0]")
	if disabledFilter == "" {
		disabledFilter = q.Get("disabled")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	items := []any{}
	for _, l := range s.locations {
		if disabledFilter != "" && strconv.FormatBool(l.disabled) != disabledFilter {
			continue
		}
		m := map[string]any{"id": l.id, "code": l.code, "type": l.typ, "disabled": l.disabled,
			"name": map[string]any{"en": l.name}}
		if hier {
			anc := s.ancestry(l.code)
			slices.Reverse(anc)
			m["admin_level"] = l.adminLevel
			m["placename"] = map[string]any{"en": l.name}
			m["hierarchy"] = anc
		}
		items = append(items, m)
	}
	writePage(w, r, items, 100, nil)
}

// handleAgencies implements GET /api/v2/agencies (paginated).
func (s *Server) handleAgencies(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	items := make([]any, len(s.agencies))
	for i, a := range s.agencies {
		items[i] = a
	}
	writePage(w, r, items, 20, nil)
}

// userJSON renders a user as GET /api/v2/users does (never the password).
func (s *Server) userJSON(u *userState) map[string]any {
	return map[string]any{"id": u.id, "user_name": u.UserName, "full_name": u.FullName,
		"email": u.Email, "phone": u.Phone, "position": u.Position, "agency_id": s.agencyID(u.Agency),
		"agency": u.Agency, "location": u.Location, "disabled": u.Disabled, "services": stringsToAny(u.Services),
		"user_group_unique_ids": stringsToAny(u.Groups), "code": u.UserName}
}

func (s *Server) agencyID(uniqueID string) any {
	for _, a := range s.agencies {
		if a["unique_id"] == uniqueID {
			return a["id"]
		}
	}
	return nil
}

// handleUsers implements GET /api/v2/users (paginated; filters user_name,
// agency[], disabled[], services, location, query, ids).
func (s *Server) handleUsers(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	s.mu.Lock()
	defer s.mu.Unlock()
	items := []any{}
	enabled := 0
	for _, name := range s.userOrder {
		u := s.users[name]
		if v := q.Get("user_name"); v != "" && u.UserName != v {
			continue
		}
		if v := firstOf(q, "agency"); v != "" && u.Agency != v {
			continue
		}
		if v := firstOf(q, "disabled"); v != "" && strconv.FormatBool(u.Disabled) != v {
			continue
		}
		if v := q.Get("services"); v != "" && !slices.Contains(u.Services, v) {
			continue
		}
		if v := q.Get("location"); v != "" && u.Location != v {
			continue
		}
		if v := strings.ToLower(q.Get("query")); v != "" &&
			!strings.Contains(strings.ToLower(u.UserName), v) && !strings.Contains(strings.ToLower(u.FullName), v) {
			continue
		}
		if v := q.Get("ids"); v != "" && !slices.Contains(strings.Split(v, ","), strconv.Itoa(u.id)) {
			continue
		}
		if !u.Disabled {
			enabled++
		}
		items = append(items, s.userJSON(u))
	}
	writePage(w, r, items, 20, map[string]any{"total_enabled": enabled})
}

// firstOf returns q[k] or q[k[0]] (array-style parameters).
func firstOf(q map[string][]string, k string) string {
	for _, key := range []string{k, k + "[0]", k + "[]"} {
		if v := q[key]; len(v) > 0 {
			return v[0]
		}
	}
	return ""
}

// handleReferTo implements GET /api/v2/users/refer-to: enabled users
// holding receive_referral, other than the caller, filtered by agency,
// service and location.
func (s *Server) handleReferTo(w http.ResponseWriter, r *http.Request, caller *userState) {
	q := r.URL.Query()
	s.mu.Lock()
	defer s.mu.Unlock()
	items := []any{}
	for _, name := range s.userOrder {
		u := s.users[name]
		if !u.CanReceiveReferrals || u.Disabled || u.UserName == caller.UserName {
			continue
		}
		if v := q.Get("agency"); v != "" && u.Agency != v {
			continue
		}
		if v := q.Get("service"); v != "" && !slices.Contains(u.Services, v) {
			continue
		}
		if v := q.Get("location"); v != "" && u.Location != v {
			continue
		}
		items = append(items, map[string]any{"id": u.id, "user_name": u.UserName, "code": u.UserName,
			"position": u.Position, "location": u.Location, "agency": u.Agency, "disabled": u.Disabled,
			"services": stringsToAny(u.Services)})
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": items})
}
