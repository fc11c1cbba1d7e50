package primerotest

import "strings"

// defaultModules are the modules the seeded forms belong to.
var defaultModules = []string{"primeromodule-cp", "primeromodule-gbv"}

// defaultForm is a seeded case form in a compact notation: each field is
// "name type [option...]", options being "multi", "time" (a date with
// time), "lookup:<unique_id>", "source:<Location|Agency|User>",
// "inline:<id>,<id>,..." or "sub:<nested form unique_id>".
type defaultForm struct {
	uniqueID, name string
	nested         bool
	fields         []string
}

// defaultForms are the CPIMS+ case forms the fake seeds (reduced to the
// fields casebridge and its flows use; see docs/systems/primero.md). The
// synthetic cases use only these fields and these lookups' values.
var defaultForms = []defaultForm{
	{uniqueID: "basic_identity", name: "Basic Identity", fields: []string{
		"case_id text_field", "case_id_code text_field", "cpims_id text_field",
		"name text_field", "name_first text_field", "name_middle text_field", "name_last text_field",
		"name_nickname text_field", "name_other text_field", "sex select_box lookup:lookup-gender",
		"age numeric_field", "date_of_birth date_field", "estimated tick_box",
		"nationality select_box multi", "language select_box multi", "ethnicity select_box",
		"religion select_box multi", "maritial_status select_box", "displacement_status select_box",
		"protection_status select_box", "urgent_protection_concern tick_box", "risk_level select_box",
		"location_current select_box source:Location", "address_current textarea",
		"address_is_permanent tick_box", "telephone_current text_field", "registration_date date_field",
		"reporting_location_hierarchy text_field", "date_closure date_field", "case_type select_box",
		"identified_by select_box source:User"}},
	{uniqueID: "identification", name: "Other Identity Details", fields: []string{
		"unhcr_individual_no text_field", "unhcr_id_no text_field", "national_id_no text_field",
		"other_id_type text_field", "other_id_no text_field", "other_agency_id text_field",
		"other_agency_name text_field", "icrc_ref_no text_field", "rc_id_no text_field",
		"ration_card_no text_field", "un_no text_field", "biometrics_id text_field",
		"family_number text_field", "oscar_number text_field", "client_code text_field"}},
	{uniqueID: "consent", name: "Consent", fields: []string{
		"consent_for_services tick_box", "disclosure_other_orgs tick_box",
		"consent_reporting radio_button inline:true,false", "consent_for_tracing radio_button inline:true,false",
		"interview_subject select_box", "consent_source_other text_field",
		"consent_info_sharing select_box multi", "consent_info_sharing_others select_box multi",
		"disclosure_deny_details textarea", "withholding_info_reason select_box multi",
		"unhcr_export_opt_in tick_box", "legitimate_basis select_box multi"}},
	{uniqueID: "protection_concern_details", name: "Protection Concerns", fields: []string{
		"protection_concerns select_box multi",
		"protection_concern_detail_subform_section subform sub:protection_concern_detail_subform_section"}},
	{uniqueID: "protection_concern_detail_subform_section", nested: true, fields: []string{
		"protection_concern_type select_box", "date_concern_identified date_field",
		"concern_details textarea", "concern_is_resolved tick_box"}},
	{uniqueID: "services", name: "Services", fields: []string{"services_section subform sub:services_section"}},
	{uniqueID: "services_section", nested: true, fields: []string{
		"service_response_type select_box inline:care_plan,action_plan,service_provision",
		"service_type select_box lookup:lookup-service-type", "service_response_day_time date_field time",
		"service_response_timeframe select_box", "service_appointment_date date_field",
		"service_implementing_agency select_box source:Agency", "service_provider text_field",
		"service_delivery_location select_box source:Location",
		"service_implementing_agency_individual select_box source:User", "service_status_referred tick_box",
		"service_location text_field", "service_referral_notes textarea",
		"service_implemented select_box inline:implemented,not_implemented",
		"service_implemented_day_time date_field time", "note_on_referral_from_provider textarea",
		"service_external_referral tick_box", "service_implementing_agency_external text_field",
		// proGres installs
		"service_referral select_box inline:internal_referral,external_referral",
		"service_request_external tick_box", "service_request_title text_field",
		"service_request_agency text_field", "service_request_phone text_field",
		"service_request_email text_field",
		"unhcr_referral_status select_box inline:pending,accepted,rejected",
		"unhcr_referral_rejection_reason textarea", "progres_interventionnumber text_field",
		// Cambodia installs
		"service_subtype select_box multi", "oscar_referral_id_a4ac8a5 text_field",
		"referral_status_edf41f2 select_box", "oscar_referring_organization text_field",
		"oscar_case_worker_name text_field", "referral_notes_from_oscar_2e787b8 textarea",
		"service_type_text text_field", "service_type_details_text textarea"}},
	{uniqueID: "family_details", name: "Family Details", fields: []string{
		"family_details_section subform sub:family_details_section"}},
	{uniqueID: "family_details_section", nested: true, fields: []string{
		"relation select_box", "relation_name text_field", "relation_nickname text_field",
		"relation_is_caregiver tick_box", "relation_age numeric_field", "relation_sex select_box lookup:lookup-gender",
		"relation_telephone text_field", "relation_location_current select_box source:Location",
		"relation_address_current textarea", "relation_is_alive select_box"}},
	{uniqueID: "followup", name: "Follow Up", fields: []string{
		"followup_subform_section subform sub:followup_subform_section"}},
	{uniqueID: "followup_subform_section", nested: true, fields: []string{
		"followup_type select_box", "followup_needed_by_date date_field", "followup_date date_field",
		"followup_comments textarea"}},
	{uniqueID: "notes", name: "Notes", fields: []string{"notes_section subform sub:notes_section"}},
	{uniqueID: "notes_section", nested: true, fields: []string{
		"note_subject text_field", "note_date date_field", "note_text textarea", "note_created_by text_field"}},
	{uniqueID: "care_arrangements", name: "Care Arrangements", fields: []string{
		"care_arrangements_section subform sub:care_arrangements_section"}},
	{uniqueID: "care_arrangements_section", nested: true, fields: []string{
		"care_arrangements_type select_box", "name_caregiver text_field",
		"care_arrangement_started_date date_field"}},
	{uniqueID: "tracing", name: "Tracing", fields: []string{
		"tracing_actions_section subform sub:tracing_actions_section"}},
	{uniqueID: "tracing_actions_section", nested: true, fields: []string{
		"date_tracing date_field", "tracing_type select_box", "tracing_action_description textarea"}},
}

// defaultLookups are the lookups the seeded forms and synthetic data use.
var defaultLookups = map[string][]string{
	"lookup-gender":       {"male", "female"},
	"lookup-service-type": {"alternative_care", "health", "education_formal", "psychosocial"},
}

// formJSON renders a defaultForm as Primero's form JSON.
func (d defaultForm) formJSON() map[string]any {
	fields := make([]any, 0, len(d.fields))
	for _, spec := range d.fields {
		fields = append(fields, fieldJSON(spec))
	}
	name := d.name
	if name == "" {
		name = d.uniqueID
	}
	return map[string]any{"unique_id": d.uniqueID, "name": map[string]any{"en": name}, "parent_form": "case",
		"is_nested": d.nested, "visible": !d.nested, "form_group_id": d.uniqueID,
		"module_ids": stringsToAny(defaultModules), "fields": fields}
}

// fieldJSON renders one "name type [option...]" field spec.
func fieldJSON(spec string) map[string]any {
	parts := strings.Fields(spec)
	m := map[string]any{"name": parts[0], "type": parts[1], "display_name": map[string]any{"en": parts[0]},
		"visible": true, "required": false, "multi_select": false}
	for _, opt := range parts[2:] {
		key, val, _ := strings.Cut(opt, ":")
		switch key {
		case "multi":
			m["multi_select"] = true
		case "time":
			m["date_include_time"] = true
		case "lookup":
			m["option_strings_source"] = "lookup " + val
		case "source":
			m["option_strings_source"] = val
		case "inline":
			var opts []any
			for id := range strings.SplitSeq(val, ",") {
				opts = append(opts, map[string]any{"id": id, "display_text": map[string]any{"en": id}})
			}
			m["option_strings_text"] = opts
		case "sub":
			m["subform_section_unique_id"] = val
		}
	}
	return m
}
