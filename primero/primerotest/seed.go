package primerotest

import (
	"encoding/json"
	"maps"
	"slices"
	"strings"
)

// location is one entry of the location tree.
type location struct {
	id         int
	code       string
	parent     string
	typ        string
	name       string
	adminLevel int
	disabled   bool
}

// seedDefaults installs the default users, agency, lookups and locations,
// all synthetic.
func (s *Server) seedDefaults() {
	s.AddUser(User{UserName: DefaultUser, Password: DefaultPassword, FullName: "Synthetic API Account",
		Agency: DefaultAgency, Email: "primero_api@example.org", Phone: "000-000-0000",
		Position: "Service account", Permission: "all", Groups: []string{"usergroup-synthetic"}})
	s.AddUser(User{UserName: DefaultRecipient, Password: DefaultRecipientPassword,
		FullName: "Synthetic Recipient", Agency: DefaultAgency, Email: "recipient@example.org",
		Phone: "000-000-0000", Position: "Caseworker", Permission: "self",
		Groups: []string{"usergroup-synthetic"}, Location: "XX0101",
		Services: []string{"alternative_care", "health"}, CanReceiveReferrals: true})
	s.AddAgency(DefaultAgency, "Synthetic Agency")
	s.AddRole(Role{UniqueID: DefaultRole})
	for _, id := range slices.Sorted(maps.Keys(defaultLookups)) {
		s.AddLookup(id, defaultLookups[id]...)
	}
	for _, f := range defaultForms {
		s.AddForm(f.formJSON())
	}
	if len(s.cfg.fields) > 0 {
		s.AddForm(declaredFieldsForm(s.cfg.fields))
	}
	s.AddLocation("XX", "", "country", "Synthetic Country", 0)
	s.AddLocation("XX01", "XX", "province", "Synthetic Province 1", 1)
	s.AddLocation("XX0101", "XX01", "district", "Synthetic District 1", 2)
	s.AddLocation("XX0102", "XX01", "district", "Synthetic District 2", 2)
	s.AddLocation("XX02", "XX", "province", "Synthetic Province 2", 1)
}

// AddLocation adds a location (or replaces the one with the same code).
func (s *Server) AddLocation(code, parentCode, locType, name string, adminLevel int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.invalidateLists() // loc: filters match descendants
	if l, ok := s.locByCode[code]; ok {
		l.parent, l.typ, l.name, l.adminLevel = parentCode, locType, name, adminLevel
		return
	}
	s.nextCfgID++
	l := &location{id: s.nextCfgID, code: code, parent: parentCode, typ: locType, name: name, adminLevel: adminLevel}
	s.locations = append(s.locations, l)
	s.locByCode[code] = l
}

// ancestry returns code followed by its ancestors' codes, under s.mu.
func (s *Server) ancestry(code string) []string {
	out := []string{code}
	for i := 0; i < 32; i++ {
		l, ok := s.locByCode[code]
		if !ok || l.parent == "" {
			break
		}
		code = l.parent
		out = append(out, code)
	}
	return out
}

// withinAny reports whether code is one of roots or a descendant of one,
// without allocating (it runs for every case of a list), under s.mu.
func (s *Server) withinAny(code string, roots []string) bool {
	for i := 0; i < 32 && code != ""; i++ {
		if slices.Contains(roots, code) {
			return true
		}
		l, ok := s.locByCode[code]
		if !ok {
			return false
		}
		code = l.parent
	}
	return false
}

// AddLookup adds a lookup with the given value ids (display_text en = id),
// replacing one with the same unique_id.
func (s *Server) AddLookup(uniqueID string, values ...string) {
	vals := make([]any, len(values))
	for i, v := range values {
		vals[i] = map[string]any{"id": v, "display_text": map[string]any{"en": v}}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.schemaChanged()
	for _, l := range s.lookups {
		if l["unique_id"] == uniqueID {
			l["values"] = vals
			return
		}
	}
	s.nextCfgID++
	s.lookups = append(s.lookups, map[string]any{"id": s.nextCfgID, "unique_id": uniqueID,
		"name": map[string]any{"en": uniqueID}, "locked": false, "values": vals})
}

// AddAgency adds an agency (or renames the one with the same unique_id).
func (s *Server) AddAgency(uniqueID, name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, a := range s.agencies {
		if a["unique_id"] == uniqueID {
			a["name"] = map[string]any{"en": name}
			return
		}
	}
	s.nextCfgID++
	s.agencies = append(s.agencies, map[string]any{"id": s.nextCfgID, "unique_id": uniqueID,
		"agency_code": strings.ToUpper(strings.TrimPrefix(uniqueID, "agency-")), "name": map[string]any{"en": name},
		"description": map[string]any{"en": ""}, "services": []any{}, "telephone": "000-000-0000", "disabled": false})
}

// AddForm adds a form given as Primero's JSON (unique_id, parent_form,
// module_ids, is_nested, fields with name, type, option_strings_source or
// option_strings_text, multi_select, date_include_time, and for subforms
// subform_section_unique_id or subform_section_id); an int id is assigned
// when absent, and a form with the same unique_id is replaced. Its fields
// become case fields that roles read and write through the form (see Role):
// rendered, filterable, writable in the form's modules and validated by
// type and options.
func (s *Server) AddForm(form map[string]any) {
	var f map[string]any
	b, _ := json.Marshal(form)
	_ = json.Unmarshal(b, &f)
	if f == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.schemaChanged()
	for i, old := range s.forms {
		if old["unique_id"] == f["unique_id"] {
			if _, ok := f["id"]; !ok {
				f["id"] = old["id"]
			}
			s.forms[i] = f
			return
		}
	}
	if _, ok := f["id"]; !ok {
		s.nextCfgID++
		f["id"] = s.nextCfgID
	}
	s.forms = append(s.forms, f)
}

// declaredFieldsForm is the form WithFields declares: its fields in every
// module.
func declaredFieldsForm(fields map[string]string) map[string]any {
	list := make([]any, 0, len(fields))
	for _, name := range slices.Sorted(maps.Keys(fields)) {
		list = append(list, map[string]any{"name": name, "type": fields[name], "display_name": map[string]any{"en": name}})
	}
	return map[string]any{"unique_id": "synthetic_declared_fields", "name": map[string]any{"en": "Declared fields"},
		"parent_form": "case", "is_nested": false, "visible": true,
		"module_ids": stringsToAny(slices.Sorted(maps.Keys(validModules))), "fields": list}
}
