package primerotest

import (
	"strings"
)

// fieldDef is one form field as the fake validates it.
type fieldDef struct {
	name string
	typ  string // one of the type* constants
	// multi: a multi-select, whose value is an array of option ids.
	multi bool
	// options are the allowed option ids; nil takes any string (selects
	// sourced from Location, Agency or User, or with no options at all).
	options map[string]bool
	// boolOptions: a radio button whose options are true/false also takes
	// JSON booleans.
	boolOptions bool
	// subform is the nested form of a subform field; nil when the fake does
	// not know it, and then rows are kept whole.
	subform *formDef
}

// formDef is a form reduced to what permissions and validation need.
type formDef struct {
	uniqueID string
	nested   bool
	modules  []string // primero_module unique_ids
	fields   map[string]*fieldDef
}

// schema indexes the configured forms; it is rebuilt when forms, lookups,
// roles or users change, and the views built from it with it.
type schema struct {
	forms    map[string]*formDef // parent_form "case", not nested
	defined  map[string]bool     // every top-level field some case form defines
	subforms map[string]bool     // the top-level subform fields
	views    map[viewKey]*view
}

// viewKey identifies a view: a user (role and ReadDenied) and a module.
type viewKey struct{ user, module string }

// view is what one user may read and write on cases of one module.
type view struct {
	read   map[string]bool      // readable top-level fields
	denied map[string]bool      // User.ReadDenied: neither readable nor filterable
	write  map[string]*fieldDef // writable top-level fields (core ones included)
}

// Field types the fake validates (Primero form field types, normalised).
const (
	typeText     = "text_field" // text_field, textarea
	typeDate     = "date_field"
	typeDateTime = "date_time" // a date_field with date_include_time
	typeNumeric  = "numeric_field"
	typeTickBox  = "tick_box"
	typeSelect   = "select_box"
	typeRadio    = "radio_button"
	typeSubform  = "subform"
	typeAny      = "any" // known, no type check (tally, calculated, uploads, ...)
)

// alwaysRead are rendered for every role that can read cases: Primero's
// core, search and record-information field lists, the case workflow
// fields and the referral summary (app/services/permitted_field_service.rb;
// the summary needs dashboard permissions, which the fake's roles hold).
var alwaysRead = setOf("id", "enabled", "record_in_scope", "alert_count", "flag_count", "flagged",
	"associated_user_names", "not_edited_by_owner", "has_photo", "has_incidents", "survivor_code",
	"survivor_code_no", "case_id_display", "created_at", "short_id", "record_state", "hidden_name",
	"workflow", "status", "case_status_reopened",
	"assigned_user_names", "created_by", "created_by_agency", "created_by_full_name", "module_id",
	"owned_by", "owned_by_agency_id", "owned_by_full_name", "owned_by_text", "owned_by_agency_office",
	"owned_by_groups", "owned_by_location", "previous_agency", "previously_owned_by",
	"previously_owned_by_agency", "reassigned_transferred_on", "reopened_logs", "last_updated_at",
	"last_updated_by", "created_organization", "posted_at",
	"referred_users", "referred_users_present", "referred_users_pending", "referred_users_pending_present",
	"referred_users_accepted", "referred_users_accepted_present", "last_referral_rejected_at",
	"last_referral_done_at", "transferred_to_users", "transfer_status")

// neverRendered are stored but never rendered: no form defines them and no
// permitted list names them.
var neverRendered = setOf("unique_identifier", "associated_user_groups", "associated_user_agencies")

// coreWritable are writable without a form, with their schema types
// (app/services/record_json_validator_service.rb). id is create-only and
// checked apart.
var coreWritable = map[string]*fieldDef{
	"module_id":            {name: "module_id", typ: typeSelect, options: validModules},
	"status":               {name: "status", typ: typeSelect, options: validStatus},
	"record_state":         {name: "record_state", typ: typeTickBox},
	"owned_by":             {name: "owned_by", typ: typeText},
	"workflow":             {name: "workflow", typ: typeText},
	"case_status_reopened": {name: "case_status_reopened", typ: typeTickBox},
	"hidden_name":          {name: "hidden_name", typ: typeTickBox},
}

// createOnly are dropped from a PATCH (UPDATE_FORBIDDEN and
// UPDATE_FORBIDDEN_BY_TYPE in app/services/permitted_form_fields_service.rb).
var createOnly = setOf("id", "unique_identifier", "unique_id", "short_id", "created_at", "created_by",
	"case_id", "case_id_display")

var validStatus = setOf("open", "closed", "transferred", "identified")
var validModules = setOf("primeromodule-cp", "primeromodule-gbv", "primeromodule-mrm", "primeromodule-fm")

// schemaChanged drops the schema and the views built from it, under s.mu.
// Cached record encodings belong to views, so they go stale with them;
// cached list results belong to a generation, so it starts a new one.
func (s *Server) schemaChanged() {
	s.schemaCache = nil
	s.invalidateLists()
}

// schema returns the current schema, building it when needed, under s.mu.
func (s *Server) schema() *schema {
	if s.schemaCache != nil {
		return s.schemaCache
	}
	lookups := map[string]map[string]bool{}
	for _, l := range s.lookups {
		ids := map[string]bool{}
		vals, _ := l["values"].([]any)
		for _, v := range vals {
			if m, ok := v.(map[string]any); ok {
				if id, ok := m["id"].(string); ok {
					ids[id] = true
				}
			}
		}
		lookups[stringOf(l["unique_id"])] = ids
	}
	byUID := map[string]*formDef{}
	byIntID := map[string]*formDef{}
	raw := map[*formDef]map[string]any{}
	for _, f := range s.forms {
		pf := stringOf(f["parent_form"])
		if pf != "" && pf != "case" {
			continue
		}
		d := &formDef{uniqueID: stringOf(f["unique_id"]), fields: map[string]*fieldDef{}}
		d.nested, _ = f["is_nested"].(bool)
		for _, m := range anySlice(f["module_ids"]) {
			if ms, ok := m.(string); ok {
				d.modules = append(d.modules, ms)
			}
		}
		byUID[d.uniqueID] = d
		byIntID[jsonIntString(f["id"])] = d
		raw[d] = f
	}
	sc := &schema{forms: map[string]*formDef{}, defined: map[string]bool{}, subforms: map[string]bool{},
		views: map[viewKey]*view{}}
	for d, f := range raw {
		for _, fe := range anySlice(f["fields"]) {
			m, ok := fe.(map[string]any)
			if !ok || stringOf(m["name"]) == "" {
				continue
			}
			fd := fieldFromJSON(m, lookups)
			if fd.typ == typeSubform {
				if sub, ok := byUID[stringOf(m["subform_section_unique_id"])]; ok {
					fd.subform = sub
				} else if sub, ok := byIntID[jsonIntString(m["subform_section_id"])]; ok {
					fd.subform = sub
				}
			}
			d.fields[fd.name] = fd
		}
		if !d.nested {
			sc.forms[d.uniqueID] = d
			for name, fd := range d.fields {
				sc.defined[name] = true
				if fd.typ == typeSubform {
					sc.subforms[name] = true
				}
			}
		}
	}
	s.schemaCache = sc
	return sc
}

// fieldFromJSON reads a field of Primero's form JSON.
func fieldFromJSON(m map[string]any, lookups map[string]map[string]bool) *fieldDef {
	fd := &fieldDef{name: stringOf(m["name"])}
	fd.multi, _ = m["multi_select"].(bool)
	switch t := stringOf(m["type"]); t {
	case "text_field", "textarea":
		fd.typ = typeText
	case typeDate:
		fd.typ = typeDate
		if inc, _ := m["date_include_time"].(bool); inc {
			fd.typ = typeDateTime
		}
	case typeNumeric, typeTickBox, typeSubform, typeSelect, typeRadio:
		fd.typ = t
	default:
		fd.typ = typeAny
	}
	if fd.typ != typeSelect && fd.typ != typeRadio {
		return fd
	}
	if src, ok := strings.CutPrefix(stringOf(m["option_strings_source"]), "lookup "); ok {
		if ids, ok := lookups[src]; ok {
			fd.options = ids
		}
	} else if stringOf(m["option_strings_source"]) == "" {
		// Inline options: [{id, display_text}], as v2 renders them.
		for _, o := range anySlice(m["option_strings_text"]) {
			om, ok := o.(map[string]any)
			if !ok {
				continue
			}
			if fd.options == nil {
				fd.options = map[string]bool{}
			}
			id := jsonIntString(om["id"])
			fd.options[id] = true
		}
		fd.boolOptions = fd.typ == typeRadio && len(fd.options) == 2 && fd.options["true"] && fd.options["false"]
	}
	return fd
}

func anySlice(v any) []any {
	a, _ := v.([]any)
	return a
}

// viewFor returns what u may read and write on cases of module ("" on a
// create without module_id), under s.mu.
func (s *Server) viewFor(u *userState, module string) *view {
	sc := s.schema()
	key := viewKey{u.UserName, module}
	if v, ok := sc.views[key]; ok {
		return v
	}
	role := s.roleOf(u)
	v := &view{read: map[string]bool{}, write: map[string]*fieldDef{}}
	for k := range alwaysRead {
		v.read[k] = true
	}
	for k, fd := range coreWritable {
		v.write[k] = fd
	}
	for uid, f := range sc.forms {
		access := ReadWrite
		if role.Forms != nil {
			a, ok := role.Forms[uid]
			if !ok {
				continue
			}
			access = a
		}
		if !anyModule(role.Modules, f.modules) {
			continue
		}
		for name, fd := range f.fields {
			v.read[name] = true
			if access == ReadWrite && module != "" && inModules(f.modules, module) {
				v.write[name] = fd
			}
		}
	}
	v.denied = setOf(u.ReadDenied...)
	for _, d := range u.ReadDenied {
		delete(v.read, d)
	}
	for k := range neverRendered {
		delete(v.read, k)
	}
	sc.views[key] = v
	return v
}

// anyModule reports whether a role working in roleMods sees a form of
// formMods (a form with no modules is seen by every role).
func anyModule(roleMods, formMods []string) bool {
	if roleMods == nil || len(formMods) == 0 {
		return true
	}
	for _, m := range formMods {
		if inModules(roleMods, m) {
			return true
		}
	}
	return false
}

// readable reports whether the view renders field k.
func (v *view) readable(k string) bool { return v.read[k] }

// permit keeps the part of a write body the view may write (Primero's
// strong parameters): writable top-level fields, and in subform rows only
// the nested form's fields plus unique_id and _destroy. Everything else is
// dropped silently. create keeps the create-only fields.
func (v *view) permit(data map[string]any, create bool) map[string]any {
	out := make(map[string]any, len(data))
	for k, val := range data {
		if k == "id" && create {
			out[k] = val
			continue
		}
		fd, ok := v.write[k]
		if !ok || (!create && createOnly[k]) {
			continue
		}
		if fd.typ == typeSubform && fd.subform != nil {
			val = permitRows(val, fd.subform)
		}
		out[k] = val
	}
	return out
}

// permitRows reduces each object row of a subform value to its form's
// fields; other values are left for validation to refuse.
func permitRows(val any, sub *formDef) any {
	rows, ok := val.([]any)
	if !ok {
		return val
	}
	out := make([]any, len(rows))
	for i, row := range rows {
		m, ok := row.(map[string]any)
		if !ok {
			out[i] = row
			continue
		}
		kept := make(map[string]any, len(m))
		for k, x := range m {
			if _, ok := sub.fields[k]; ok || k == "unique_id" || k == "_destroy" {
				kept[k] = x
			}
		}
		out[i] = kept
	}
	return out
}
