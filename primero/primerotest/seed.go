package primerotest

import (
	"encoding/json"
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
	s.AddLookup("lookup-gender", "male", "female")
	s.AddLookup("lookup-service-type", "alternative_care", "health", "education_formal", "psychosocial")
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

// AddForm adds a form given as Primero's JSON (unique_id, fields, ...); an
// int id is assigned when absent. Its fields become known case fields:
// writable, filterable and validated by type (fields of a nested form are
// subform element fields and stay unchecked).
func (s *Server) AddForm(form map[string]any) {
	var f map[string]any
	b, _ := json.Marshal(form)
	_ = json.Unmarshal(b, &f)
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := f["id"]; !ok {
		s.nextCfgID++
		f["id"] = s.nextCfgID
	}
	if nested, _ := f["is_nested"].(bool); !nested {
		fields, _ := f["fields"].([]any)
		for _, fe := range fields {
			m, ok := fe.(map[string]any)
			if !ok {
				continue
			}
			name := stringOf(m["name"])
			if name == "" {
				continue
			}
			t := stringOf(m["type"])
			if t == typeDate {
				if inc, _ := m["date_include_time"].(bool); inc {
					t = typeDateTime
				}
			}
			switch t {
			case typeText, "textarea":
				t = typeText
			case typeDate, typeDateTime, typeNumeric, typeTickBox, typeSubform:
			case typeSelect, "radio_button":
				t = typeSelect
			default:
				t = typeAny
			}
			s.extraKnown[name] = t
		}
	}
	s.forms = append(s.forms, f)
}
