package primerotest

import (
	"fmt"
	"math"
	"regexp"
	"strings"
	"time"
)

// Primero form field types used by the fake.
const (
	typeText     = "text_field"
	typeDate     = "date_field"
	typeDateTime = "date_time" // a date_field with date_include_time
	typeNumeric  = "numeric_field"
	typeTickBox  = "tick_box"
	typeSelect   = "select_box"
	typeSubform  = "subform"
	typeAny      = "any" // known, no type check
)

// idFields are always filterable and matched as exact strings, never split
// or converted (app/models/child.rb#filterable_id_fields).
var idFields = setOf("unique_identifier", "short_id", "case_id_display", "case_id", "client_code",
	"ration_card_no", "icrc_ref_no", "rc_id_no", "unhcr_id_no", "unhcr_individual_no", "un_no",
	"other_agency_id", "survivor_code_no", "national_id_no", "other_id_no", "biometrics_id",
	"family_count_no", "dss_id", "camp_id", "tent_number", "nfi_distribution_id", "oscar_number",
	"registry_no", "family_number")

// alwaysFilterable are filterable for every role; readFilterable need read
// permission, which every user of the fake holds
// (app/services/permitted_field_service.rb).
var alwaysFilterable = setOf("record_in_scope", "associated_user_names", "not_edited_by_owner",
	"has_photo", "survivor_code", "survivor_code_no", "case_id_display", "created_at", "has_incidents",
	"short_id", "record_state", "sex", "age", "registration_date", "date_closure",
	"reassigned_transferred_on", "current_alert_types", "location_current",
	"reporting_location_hierarchy", "followup_dates", "reunification_dates", "tracing_dates",
	"service_implemented_day_times",
	// read permission
	"owned_by", "owned_by_agency_id", "owned_by_groups", "assigned_user_names", "created_by",
	"created_by_agency", "last_updated_at", "last_updated_by", "previously_owned_by",
	"consent_for_services", "disclosure_other_orgs", "case_type", "identified_by",
	// cases
	"workflow", "status")

// serverFields are set by the server and never taken from a write body.
var serverFields = setOf("id", "unique_identifier", "short_id", "case_id_display", "case_id_code",
	"created_at", "created_by", "created_by_full_name", "created_organization", "last_updated_at",
	"last_updated_by", "associated_user_names", "associated_user_groups", "associated_user_agencies",
	"posted_at", "enabled", "referred_users", "referred_users_present", "referred_users_pending",
	"referred_users_accepted", "last_referral_rejected_at", "last_referral_done_at",
	"record_action", "incident_details")

// builtinFields are the CPIMS+ case fields the fake knows (reference §4),
// with their form field types. Subform element fields are not filtered.
var builtinFields = map[string]string{
	"case_id": typeText, "cpims_id": typeText, "module_id": typeSelect, "name": typeText,
	"name_first": typeText, "name_middle": typeText, "name_last": typeText, "name_nickname": typeText,
	"name_other": typeText, "hidden_name": typeTickBox, "sex": typeSelect, "age": typeNumeric,
	"date_of_birth": typeDate, "estimated": typeTickBox, "nationality": typeSelect,
	"language": typeSelect, "ethnicity": typeSelect, "religion": typeSelect,
	"maritial_status": typeSelect, "displacement_status": typeSelect,
	"protection_concerns": typeSelect, "protection_status": typeSelect,
	"urgent_protection_concern": typeAny, "risk_level": typeSelect,
	"location_current": typeSelect, "address_current": typeText, "address_is_permanent": typeTickBox,
	"telephone_current": typeText, "owned_by_location": typeSelect,
	"reporting_location_hierarchy": typeAny, "consent_for_services": typeTickBox,
	"disclosure_other_orgs": typeTickBox, "consent_reporting": typeAny, "consent_for_tracing": typeAny,
	"interview_subject": typeSelect, "consent_source_other": typeText, "consent_info_sharing": typeAny,
	"consent_info_sharing_others": typeAny, "disclosure_deny_details": typeText,
	"withholding_info_reason": typeAny, "unhcr_export_opt_in": typeTickBox,
	"legitimate_basis": typeAny, "owned_by": typeText, "owned_by_full_name": typeText,
	"owned_by_agency_id": typeText, "owned_by_groups": typeAny, "assigned_user_names": typeAny,
	"previously_owned_by": typeText, "record_state": typeTickBox, "status": typeSelect,
	"workflow": typeSelect, "case_status_reopened": typeTickBox, "registration_date": typeDate,
	"date_closure": typeDate, "unhcr_individual_no": typeText, "unhcr_id_no": typeText,
	"national_id_no": typeText, "other_id_type": typeText, "other_id_no": typeText,
	"other_agency_id": typeText, "other_agency_name": typeText, "icrc_ref_no": typeText,
	"rc_id_no": typeText, "ration_card_no": typeText, "un_no": typeText, "biometrics_id": typeText,
	"family_number": typeText, "oscar_number": typeText, "client_code": typeText,
	"case_type": typeAny, "identified_by": typeAny, "transfer_status": typeAny,
	"transferred_to_users": typeAny, "flagged": typeTickBox,
	"services_section": typeSubform, "family_details_section": typeSubform,
	"followup_subform_section": typeSubform, "notes_section": typeSubform,
	"protection_concern_detail_subform_section": typeSubform,
	"care_arrangements_section":                 typeSubform, "tracing_actions_section": typeSubform,
}

// subformFieldTypes are the typed fields inside subform elements.
var subformFieldTypes = map[string]string{
	"service_appointment_date":     typeDate,
	"service_response_day_time":    typeDateTime,
	"service_implemented_day_time": typeDateTime,
	"service_status_referred":      typeTickBox,
}

var validStatus = setOf("open", "closed", "transferred", "identified")
var validModules = setOf("primeromodule-cp", "primeromodule-gbv", "primeromodule-mrm", "primeromodule-fm")

func setOf(names ...string) map[string]bool {
	m := make(map[string]bool, len(names))
	for _, n := range names {
		m[n] = true
	}
	return m
}

// fieldType returns the type of a known top-level case field, under s.mu.
func (s *Server) fieldType(name string) (string, bool) {
	if t, ok := s.cfg.fields[name]; ok {
		return t, true
	}
	if t, ok := s.extraKnown[name]; ok {
		return t, true
	}
	if t, ok := builtinFields[name]; ok {
		return t, true
	}
	if idFields[name] || alwaysFilterable[name] {
		return typeAny, true
	}
	return "", false
}

// filterable reports whether a case field may be used as a filter.
func (s *Server) filterable(name string) bool {
	_, ok := s.fieldType(name)
	return ok
}

var (
	uuidRe     = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)
	timeLayout = "2006-01-02T15:04:05.000Z"
)

// validateWrite checks a write body against the JSON schema Primero builds
// from the writable fields (app/services/record_json_validator_service.rb)
// and returns the JSON pointers of the invalid values.
func (s *Server) validateWrite(data map[string]any) []string {
	var bad []string
	for k, v := range data {
		t, ok := s.fieldType(k)
		if !ok {
			continue // unknown fields are dropped, not rejected
		}
		switch k {
		case "status":
			if str, ok := v.(string); !ok || !validStatus[str] {
				bad = append(bad, "/"+k)
			}
			continue
		case "module_id":
			if str, ok := v.(string); !ok || !validModules[str] {
				bad = append(bad, "/"+k)
			}
			continue
		case "owned_by", "case_id":
			if _, ok := v.(string); !ok {
				bad = append(bad, "/"+k)
			}
			continue
		}
		if t == typeSubform {
			bad = append(bad, validateSubform("/"+k, v)...)
			continue
		}
		if !validScalar(t, v) {
			bad = append(bad, "/"+k)
		}
	}
	return bad
}

// validScalar checks one value of a field type.
func validScalar(t string, v any) bool {
	if v == nil {
		return true
	}
	switch t {
	case typeDate:
		str, ok := v.(string)
		if !ok || !isDate(str) {
			return false
		}
		_, err := time.Parse("2006-01-02", str)
		return err == nil
	case typeDateTime:
		str, ok := v.(string)
		if !ok {
			return false
		}
		_, ok = parseTime(str)
		return ok
	case typeNumeric:
		f, ok := v.(float64)
		return ok && f == math.Trunc(f) && f >= math.MinInt32 && f <= math.MaxInt32
	case typeTickBox:
		_, ok := v.(bool)
		return ok
	case typeText:
		_, ok := v.(string)
		return ok
	case typeSelect:
		switch x := v.(type) {
		case string, bool:
			return true
		case []any:
			for _, e := range x {
				if _, ok := e.(string); !ok {
					return false
				}
			}
			return true
		}
		return false
	}
	return true
}

// validateSubform checks a subform value: an array of objects with an
// optional UUID unique_id and boolean _destroy.
func validateSubform(ptr string, v any) []string {
	arr, ok := v.([]any)
	if !ok {
		if v == nil {
			return nil
		}
		return []string{ptr}
	}
	var bad []string
	for i, e := range arr {
		p := fmt.Sprintf("%s/%d", ptr, i)
		m, ok := e.(map[string]any)
		if !ok {
			bad = append(bad, p)
			continue
		}
		if id, ok := m["unique_id"]; ok && id != nil {
			if str, ok := id.(string); !ok || !uuidRe.MatchString(str) {
				bad = append(bad, p+"/unique_id")
			}
		}
		if d, ok := m["_destroy"]; ok {
			if _, ok := d.(bool); !ok {
				bad = append(bad, p+"/_destroy")
			}
		}
		for f, t := range subformFieldTypes {
			if fv, ok := m[f]; ok && !validScalar(t, fv) {
				bad = append(bad, p+"/"+f)
			}
		}
	}
	return bad
}

// modelErrors runs the model validations that follow the schema: one error
// per field, message an array of strings, detail the field name.
func (s *Server) modelErrors(resource string, data map[string]any) []apiError {
	var errs []apiError
	if dob, ok := data["date_of_birth"].(string); ok {
		if t, err := time.Parse("2006-01-02", dob); err == nil && t.Year() > s.now().Year() {
			errs = append(errs, apiError{Status: 422, Resource: resource,
				Message: []string{"errors.models.child.date_of_birth.not_future"}, Detail: "date_of_birth"})
		}
	}
	return errs
}

// parseTime parses an ISO 8601 datetime as Primero accepts it.
func parseTime(s string) (time.Time, bool) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05Z0700", "2006-01-02T15:04:05.000Z0700", "2006-01-02T15:04:05", "2006-01-02T15:04"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// parseDateOrTime parses an ISO date or datetime; dateOnly reports a bare date.
func parseDateOrTime(s string) (t time.Time, dateOnly, ok bool) {
	if isDate(s) {
		t, err := time.Parse("2006-01-02", s)
		return t, true, err == nil
	}
	if !strings.Contains(s, "T") {
		return time.Time{}, false, false
	}
	t, ok = parseTime(s)
	return t, false, ok
}

// isDate reports whether s has the shape YYYY-MM-DD (no regexp: it runs
// for every case of a filtered list).
func isDate(s string) bool {
	if len(s) != 10 || s[4] != '-' || s[7] != '-' {
		return false
	}
	for i := 0; i < 10; i++ {
		if i != 4 && i != 7 && (s[i] < '0' || s[i] > '9') {
			return false
		}
	}
	return true
}
