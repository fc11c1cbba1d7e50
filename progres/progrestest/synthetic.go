package progrestest

import (
	"fmt"
	"strconv"
)

// lookup is a proGres lookup object as DTP sends it.
func lookup(id, logicalName, name string) map[string]any {
	return map[string]any{"Id": id, "KeyAttributes": []any{}, "LogicalName": logicalName, "Name": name, "RowVersion": nil}
}

// guid makes a deterministic synthetic GUID from a kind and a number.
func guid(kind, n int) string {
	return fmt.Sprintf("%08x-0000-4000-8000-%012x", kind, n)
}

// Synthetic sex codes, as DTP sends them (strings).
const (
	CodeFemale  = "125080000"
	CodeMale    = "125080001"
	CodeOther   = "125080002"
	CodeUnknown = "125080003"
)

// InterventionNumber is the synthetic intervention number of referral i.
func InterventionNumber(i int) string { return fmt.Sprintf("000-23-PRTITV-%07d", i) }

// SyntheticReferral returns the items of synthetic proGres referral i in
// DTP's shape: flattened FetchXML keys, string option codes, lookup
// objects, and one item per language (one row of the join each; default
// one language). The names are invented ("Test Child <i>").
func SyntheticReferral(i int, languages ...string) []map[string]any {
	if len(languages) == 0 {
		languages = []string{"English"}
	}
	sex := []string{CodeFemale, CodeMale, CodeOther, CodeUnknown}[i%4]
	items := make([]map[string]any, len(languages))
	for j, lang := range languages {
		items[j] = map[string]any{
			"progres_interventionnumber":              InterventionNumber(i),
			"progres_lpinterventionid":                guid(1, i),
			"progres_interventionstartdate":           "2025-03-01T08:00:00Z",
			"progres_interventiondescription":         "<p>Synthetic intervention " + strconv.Itoa(i) + "</p>",
			"progres_reasonforreferral":               `[{"CreatedBy":"Test Worker","Text":"Synthetic reason","CreatedOn":"2025-03-01T08:00:00Z"}]`,
			"progres_interventiontype2":               guid(2, 1),
			"interventiontype.progres_description":    "Alternative Care",
			"progres_businessunit":                    guid(3, 1),
			"progres_businessowner":                   guid(4, 1),
			"user.title":                              "Protection Officer",
			"user.internalemailaddress":               "officer" + strconv.Itoa(i) + "@example.org",
			"user.mobilephone":                        "000-test-" + strconv.Itoa(i),
			"user.progres_partner":                    lookup(guid(5, 1), "progres_partner", "XXX-17-PNR-00011"),
			"individuals.progres_id":                  fmt.Sprintf("000-%08d", i),
			"individuals.progres_registrationgroupid": lookup(guid(6, i), "progres_registrationgroup", fmt.Sprintf("000-23-%07d", i)),
			"individuals.progres_givenname":           "Test",
			"individuals.progres_familyname":          "Child " + strconv.Itoa(i),
			"individuals.progres_dateofbirth":         "2016-07-19T00:00:00Z",
			"individuals.progres_sex":                 sex,
			"individuals.progres_coalocationlevel1":   lookup(guid(7, 1), "progres_country", "Zone A"),
			"individuals.progres_coalocationlevel2":   lookup(guid(7, 2), "progres_location", "Block 3"),
			"childprotection.progres_priority":        "125080001",
			"languages.progres_languagecodeid":        lookup(guid(8, j), "progres_language", lang),
			"languages.progres_speaklevel":            "125080000",
			"specificneeds.progres_spncategory2":      lookup("a1c5b4fb-8f76-e611-80c9-00155d340529", "progres_spncategory", "Child at risk"),
			"spncategory2code":                        "CR",
		}
	}
	return items
}

// Review decision and rejection reason codes, as DTP sends them.
const (
	CodeAccepted               = "125080000"
	CodeRejected               = "125080001"
	CodeReasonNotFound         = "125080000"
	CodeReasonNotMatch         = "125080001"
	CodeReasonNotApplicable    = "125080002"
	keyRejectionCommentShipped = "progres_interoperabilityreferralrejectionomment"
	// KeyRejectionCommentOld is the older spelling one sample carries.
	KeyRejectionCommentOld = "progres_interoperabilityreferralrejectioncomment"
)

// SyntheticDecision returns a decision item in DTP's shape for the
// referral key Primero sent ("<case_id>#<12 hex>"), with the field names
// misspelt as shipped. A rejection carries reason "Individual Not Found"
// and a comment; an acceptance carries neither, as in the samples.
func SyntheticDecision(i int, referralKey string, accepted bool) map[string]any {
	d := map[string]any{
		"progres_individualid":                              guid(9, i),
		"progres_interoperabilityreferralid":                guid(10, i),
		"progres_interoperabilityreferralnumber":            fmt.Sprintf("REF-IOP-XXX-%09d", i),
		"progres_interoperabilityreferralrouteto":           "125080000",
		"progres_interoperabilityreferralrouteserviceunito": guid(11, 1),
		"progres_interventiontype":                          guid(2, 1),
		"progres_orgreferralid":                             referralKey,
		"progres_reviewby":                                  guid(12, 1),
		"progres_reviewdate":                                "2025-03-02T10:00:00Z",
		"progres_reviewdecision":                            CodeAccepted,
	}
	if !accepted {
		d["progres_reviewdecision"] = CodeRejected
		d["progres_interoperabiltyreferralrejectionreason"] = CodeReasonNotFound
		d[keyRejectionCommentShipped] = "Synthetic comment"
	}
	return d
}
