package primerotest

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"
	"time"

	"github.com/casebridge/casebridge/mapping"
)

// nextStamp returns a strictly increasing server timestamp (millisecond
// precision, as Primero renders it), under s.mu.
func (s *Server) nextStamp() time.Time {
	t := s.now().Truncate(time.Millisecond)
	if !t.After(s.lastStamp) {
		t = s.lastStamp.Add(time.Millisecond)
	}
	s.lastStamp = t
	return t
}

func formatTime(t time.Time) string { return t.UTC().Format(timeLayout) }

// AddCase stores a case as if created through the API by its owned_by (or
// DefaultUser) and returns it as GET renders it for DefaultUser (Case shows
// what is stored, unique_identifier included). The server fills the
// server-set fields that fields does not preset (id, unique_identifier,
// case_id, short_id, case_id_display, created_at, last_updated_at,
// owned_by, record_state, status, registration_date, ...), and module_id
// "primeromodule-cp" when absent, since every real case has a module.
// Unlike a write through the API, a seed keeps every field it is given;
// fields no form defines are stored but not rendered. Values are normalised
// through JSON. It panics on a duplicate id or case_id.
func (s *Server) AddCase(fields map[string]any) map[string]any {
	var rec map[string]any
	b, err := json.Marshal(fields)
	if err == nil {
		err = json.Unmarshal(b, &rec)
	}
	if err != nil {
		panic("primerotest: AddCase: fields are not JSON: " + err.Error())
	}
	if rec == nil {
		rec = map[string]any{}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	caller := DefaultUser
	if o, ok := rec["owned_by"].(string); ok && o != "" {
		caller = o
	}
	if id, ok := rec["id"].(string); ok {
		if _, dup := s.byID[id]; dup {
			panic("primerotest: AddCase: duplicate id " + id)
		}
	}
	if cid, ok := rec["case_id"].(string); ok {
		if _, dup := s.byCaseID[cid]; dup {
			panic("primerotest: AddCase: duplicate case_id " + cid)
		}
	}
	if _, ok := rec["module_id"]; !ok {
		rec["module_id"] = "primeromodule-cp"
	}
	s.fillServerFields(rec, s.users[caller], caller)
	s.insert(rec)
	return deepCopyMap(renderRecord(rec, s.viewFor(s.users[DefaultUser], "")))
}

// fillServerFields sets the server-set fields that rec lacks, under s.mu.
func (s *Server) fillServerFields(rec map[string]any, u *userState, caller string) {
	stamp := formatTime(s.nextStamp())
	setDefault := func(k string, v any) {
		if _, ok := rec[k]; !ok {
			rec[k] = v
		}
	}
	setDefault("id", randomUUID())
	setDefault("unique_identifier", randomUUID())
	uid, _ := rec["unique_identifier"].(string)
	setDefault("case_id", uid)
	short := uid
	if len(short) > 7 {
		short = short[len(short)-7:]
	}
	setDefault("short_id", short)
	setDefault("case_id_display", short)
	setDefault("created_at", stamp)
	setDefault("last_updated_at", stamp)
	setDefault("posted_at", stamp)
	setDefault("created_by", caller)
	setDefault("last_updated_by", caller)
	setDefault("owned_by", caller)
	agency := ""
	if u != nil {
		agency = u.Agency
		setDefault("created_by_full_name", u.FullName)
		setDefault("created_organization", u.Agency)
	}
	setDefault("record_state", true)
	setDefault("status", "open")
	setDefault("registration_date", s.now().Format("2006-01-02"))
	setDefault("notes_section", []any{})
	setDefault("assigned_user_names", []any{})
	if owner, ok := s.users[stringOf(rec["owned_by"])]; ok {
		setDefault("owned_by_full_name", owner.FullName)
		setDefault("owned_by_agency_id", owner.Agency)
		setDefault("owned_by_groups", stringsToAny(owner.Groups))
	} else {
		setDefault("owned_by_agency_id", agency)
	}
	s.normalise(rec)
}

// normalise recomputes the derived fields of a stored case, under s.mu.
func (s *Server) normalise(rec map[string]any) {
	s.dirty(rec)
	rec["enabled"] = rec["record_state"]
	computeName(rec)
	owner := stringOf(rec["owned_by"])
	if u, ok := s.users[owner]; ok {
		// The owned_by_* fields come from the owner's user record.
		rec["owned_by_full_name"] = u.FullName
		rec["owned_by_agency_id"] = u.Agency
		rec["owned_by_groups"] = stringsToAny(u.Groups)
	}
	if by := stringOf(rec["last_updated_by"]); by != "" {
		rec["not_edited_by_owner"] = by != owner
	}
	names := []string{}
	if owner != "" {
		names = append(names, owner)
	}
	if arr, ok := rec["assigned_user_names"].([]any); ok {
		for _, a := range arr {
			if n, ok := a.(string); ok && !slices.Contains(names, n) {
				names = append(names, n)
			}
		}
	}
	var groups, agencies []string
	for _, n := range names {
		if u, ok := s.users[n]; ok {
			for _, g := range u.Groups {
				if !slices.Contains(groups, g) {
					groups = append(groups, g)
				}
			}
			if u.Agency != "" && !slices.Contains(agencies, u.Agency) {
				agencies = append(agencies, u.Agency)
			}
		}
	}
	rec["associated_user_names"] = stringsToAny(names)
	rec["associated_user_groups"] = stringsToAny(groups)
	rec["associated_user_agencies"] = stringsToAny(agencies)
	if svcs, ok := rec["services_section"].([]any); ok {
		for _, e := range svcs {
			m, ok := e.(map[string]any)
			if !ok {
				continue
			}
			if _, ok := m["unique_id"]; !ok {
				m["unique_id"] = randomUUID()
			}
			// service_implemented is derived on save from the implemented time.
			if t, _ := m["service_implemented_day_time"].(string); t != "" {
				m["service_implemented"] = "implemented"
			} else {
				m["service_implemented"] = "not_implemented"
			}
		}
	}
	if lu, ok := parseTime(stringOf(rec["last_updated_at"])); ok && lu.After(s.lastStamp) {
		s.lastStamp = lu
	}
}

// computeName sets name from name_first, name_middle and name_last, blanks
// skipped, when any of them is set (Primero's auto-populated full name).
func computeName(rec map[string]any) {
	var parts []string
	for _, k := range [...]string{"name_first", "name_middle", "name_last"} {
		if v := strings.TrimSpace(stringOf(rec[k])); v != "" {
			parts = append(parts, v)
		}
	}
	if len(parts) > 0 {
		rec["name"] = strings.Join(parts, " ")
	}
}

// dirty drops the cached JSON of a stored case after a change and starts
// a new list generation, under s.mu.
func (s *Server) dirty(rec map[string]any) {
	s.invalidateLists()
	if i, ok := s.byID[stringOf(rec["id"])]; ok {
		s.encoded[i] = nil
	}
}

// encode returns the JSON of stored case i as v renders it with the fields
// selection whose fieldsKey is fkey, cached until the case changes or
// another view or selection asks, under s.mu.
func (s *Server) encode(i int, v *view, fields map[string]bool, fkey string) ([]byte, error) {
	if b := s.encoded[i]; b != nil && s.encView[i] == v && s.encFields[i] == fkey {
		return b, nil
	}
	b, err := appendRecord(s.encScratch[:0], s.cases[i], v, fields)
	if err != nil {
		return nil, err
	}
	s.encScratch = b
	b = bytes.Clone(b) // exactly sized: a million cached cases add up
	s.encoded[i], s.encView[i], s.encFields[i] = b, v, fkey
	return b, nil
}

// insert appends a case, under s.mu.
func (s *Server) insert(rec map[string]any) {
	idx := len(s.cases)
	if idx > 0 && s.createdSorted {
		prev := stringOf(s.cases[idx-1]["created_at"])
		if stringOf(rec["created_at"]) < prev {
			s.createdSorted = false
		}
	}
	s.cases = append(s.cases, rec)
	s.encoded = append(s.encoded, nil)
	s.encView = append(s.encView, nil)
	s.encFields = append(s.encFields, "")
	s.invalidateLists()
	s.byID[stringOf(rec["id"])] = idx
	if cid := stringOf(rec["case_id"]); cid != "" {
		s.byCaseID[cid] = idx
	}
}

// Cases returns deep copies of every stored case, in creation order.
func (s *Server) Cases() []map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]map[string]any, len(s.cases))
	for i, c := range s.cases {
		out[i] = deepCopyMap(c)
	}
	return out
}

// Case returns a deep copy of the case with the UUID id.
func (s *Server) Case(id string) (map[string]any, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	i, ok := s.byID[id]
	if !ok {
		return nil, false
	}
	return deepCopyMap(s.cases[i]), true
}

// inScope reports whether u may see rec (app/services/search/search_scope.rb).
func inScope(u *userState, rec map[string]any) bool {
	switch u.Permission {
	case "", "all":
		return true
	case "group":
		return anyOverlap(rec["associated_user_groups"], u.Groups)
	case "agency":
		return anyOverlap(rec["associated_user_agencies"], []string{u.Agency})
	default: // self
		return anyOverlap(rec["associated_user_names"], []string{u.UserName})
	}
}

func anyOverlap(v any, want []string) bool {
	arr, _ := v.([]any)
	for _, a := range arr {
		if s, ok := a.(string); ok && slices.Contains(want, s) {
			return true
		}
	}
	return false
}

func stringOf(v any) string {
	s, _ := v.(string)
	return s
}

func stringsToAny(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

// deepCopyMap copies a JSON-shaped map (nil stays nil).
func deepCopyMap(m map[string]any) map[string]any { return mapping.Record(m).Clone() }
