package progrestest

import (
	"encoding/json"
	"fmt"
	"strconv"
)

// num is an integer code as PING fetch rows carry it.
func num(n int) json.Number { return json.Number(strconv.Itoa(n)) }

// SyntheticPendingRow is the pending-list row of synthetic intervention i
// in PING's shape: integer codes with "…name" companions, GUID lookups.
func SyntheticPendingRow(i int) map[string]any {
	return map[string]any{
		"progres_lpintervention.int.progres_interventionnumber": InterventionNumber(i),
		"progres_lpinterventionid":                              guid(1, i),
		"progres_individual.indiv.progres_sex":                  num(125080000 + i%4),
		"progres_individual.progres_sexname":                    []string{"Female", "Male", "Other", "Unknown"}[i%4],
		"progres_individual.indiv.progres_registrationgroupid":  guid(6, i),
		"progres_individual.progres_registrationgroupidname":    fmt.Sprintf("000-23-%07d", i),
		"progres_intervention":                                  guid(1, i),
		"progres_interventionname":                              InterventionNumber(i),
		"progres_businessunit":                                  guid(3, 1),
		"progres_businessunitname":                              "Synthetic Unit",
		"progres_deliverytype":                                  num(125080004),
		"progres_deliverytypename":                              "Primero Outgoing Referral",
		"progres_dtpdeliveryid":                                 guid(13, i),
		"statuscode":                                            num(1),
		"progres_statusdate":                                    "2025-11-02",
	}
}

// SyntheticDetailRows are the detail rows of synthetic intervention i, one
// per language (default one).
func SyntheticDetailRows(i int, languages ...string) []map[string]any {
	if len(languages) == 0 {
		languages = []string{"English"}
	}
	rows := make([]map[string]any, len(languages))
	for j, lang := range languages {
		rows[j] = map[string]any{
			"progres_interventionnumber":                                     InterventionNumber(i),
			"progres_lpinterventionid":                                       guid(1, i),
			"progres_interventiontype2.interventiontype.progres_description": "Alternative Care",
			"progres_individual.individuals.progres_id":                      fmt.Sprintf("000-%08d", i),
			"progres_individual.individuals.progres_registrationgroupid":     guid(6, i),
			"progres_individual.progres_registrationgroupidname":             fmt.Sprintf("000-23-%07d", i),
			"progres_individual.individuals.progres_givenname":               "Test",
			"progres_individual.individuals.progres_familyname":              "Child " + strconv.Itoa(i),
			"progres_individual.individuals.progres_dateofbirth":             "2016-07-19T00:00:00Z",
			"progres_individual.individuals.progres_sex":                     num(125080000 + i%4),
			"systemuser.title":                            "Protection Officer",
			"systemuser.su.internalemailaddress":          "officer" + strconv.Itoa(i) + "@example.org",
			"progres_businessunit":                        guid(3, 1),
			"progres_interventionstartdate":               "2025-11-01T08:00:00Z",
			"progres_language.progres_languagecodeidname": lang,
		}
	}
	return rows
}

// AddSyntheticInterventions adds interventions 1..n: a pending-list row
// and detail rows (two languages for even i) each.
func (s *PINGServer) AddSyntheticInterventions(n int) {
	for i := 1; i <= n; i++ {
		s.AddRows(SHPPendingInterventions, SyntheticPendingRow(i))
		langs := []string{"English"}
		if i%2 == 0 {
			langs = []string{"French", "English"}
		}
		s.AddRows(SHPInterventionDetail, SyntheticDetailRows(i, langs...)...)
	}
}

// Interoperability referral status codes as PING rows carry them.
const (
	StatusAccepted = 125080001
	StatusRejected = 125080002
	StatusSynced   = 125080003
)

// AddSyntheticDecision adds decision i on the Primero referral (case_id,
// service unique_id) to the decision list and detail, with status
// StatusAccepted or StatusRejected. It returns the decision's id.
func (s *PINGServer) AddSyntheticDecision(i int, caseID, serviceUniqueID string, status int) string {
	id := guid(10, i)
	s.AddRows(SHPDecisions, map[string]any{
		"progres_interoperabilityreferralid":     id,
		"progres_interoperabilityreferralstatus": num(status),
	})
	detail := map[string]any{
		"progres_interoperabilityreferralid":     id,
		"progres_interoperabilityreferralstatus": num(status),
		"progres_offlineid":                      caseID,
		"progres_orgreferralid":                  serviceUniqueID,
	}
	if status == StatusRejected {
		detail["progres_interoperabiltyreferralrejectionreasonname"] = "Individual Not Found"
		detail["progres_interoperabilityreferralrejectionomment"] = "Synthetic comment"
	}
	s.AddRows(SHPDecisionDetail, detail)
	return id
}
