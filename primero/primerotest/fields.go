package primerotest

import (
	"regexp"
	"strings"
	"time"
)

// idFields are matched as exact strings, never split or converted, when
// the caller's role can read them (app/models/child.rb#filterable_id_fields).
var idFields = setOf("unique_identifier", "short_id", "case_id_display", "case_id", "client_code",
	"ration_card_no", "icrc_ref_no", "rc_id_no", "unhcr_id_no", "unhcr_individual_no", "un_no",
	"other_agency_id", "survivor_code_no", "national_id_no", "other_id_no", "biometrics_id",
	"family_count_no", "dss_id", "camp_id", "tent_number", "nfi_distribution_id", "oscar_number",
	"registry_no", "family_number")

// alwaysFilterable are filterable whatever forms the role reads; the
// fake's roles all hold the read permission that the second group needs
// (app/services/permitted_field_service.rb). Other fields are filterable
// when the role reads them.
var alwaysFilterable = setOf("or", "not", "cases_by_date", "record_in_scope", "associated_user_names",
	"not_edited_by_owner", "has_photo", "survivor_code", "survivor_code_no", "case_id_display",
	"created_at", "has_incidents", "short_id", "record_state", "sex", "age", "registration_date",
	"date_closure", "reassigned_transferred_on", "current_alert_types", "location_current",
	"reporting_location_hierarchy", "followup_dates", "reunification_dates", "tracing_dates",
	"service_implemented_day_times", "id", "status", "case_status_reopened", "owned_by", "module_id",
	// with read permission
	"owned_by_agency_id", "owned_by_groups", "assigned_user_names", "created_by",
	"created_by_agency", "last_updated_at", "last_updated_by", "previously_owned_by",
	"consent_for_services", "disclosure_other_orgs", "case_type", "identified_by",
	// cases
	"workflow")

// Fields with a srch_ column in Primero's cases table (db/schema.rb),
// which the filter grammar treats apart.
var (
	// srchInteger: `a..` compares the upper bound with NULL and matches
	// nothing.
	srchInteger = setOf("age", "client_summary_worries_severity", "closure_problems_severity",
		"psychsocial_assessment_score_initial", "psychsocial_assessment_score_most_recent")
	// srchBoolean: `false` matches a stored false only, not a missing value.
	srchBoolean = setOf("record_state", "flagged", "has_incidents", "not_edited_by_owner",
		"referred_users_present", "referred_users_pending_present", "referred_users_accepted_present")
	// srchTimestamp: a date-only bound is midnight, so an end date leaves
	// its own day out.
	srchTimestamp = setOf("created_at", "registration_date", "date_closure", "reassigned_transferred_on",
		"identified_at", "last_referral_rejected_at", "last_referral_done_at")
)

func setOf(names ...string) map[string]bool {
	m := make(map[string]bool, len(names))
	for _, n := range names {
		m[n] = true
	}
	return m
}

var (
	// uuidRe is Primero's UUID_REGEX: lowercase only.
	uuidRe     = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)
	timeLayout = "2006-01-02T15:04:05.000Z"
)

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
