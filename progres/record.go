package progres

import (
	"maps"
	"strconv"
	"time"

	"github.com/casebridge/casebridge/mapping"
)

// Record returns the item as a mapping.Record keyed by DTP's own flattened
// FetchXML keys ("individuals.progres_id", "user.progres_partner", …), so
// that a mapping spec names the columns the business owners know: a
// lookup is an object {"Id", "KeyAttributes", "LogicalName", "Name",
// "RowVersion"}, an option code its string, a date-time RFC 3339, the date
// of birth its date part, and every key kept in Fields as it was decoded.
// Absent values are left out.
//
// The conversion is lossless for what the decoder keeps: encoding the
// Record as an item and decoding it again gives an equal OutgoingReferral.
// The record may hold personal data: never log it.
func (r *OutgoingReferral) Record() mapping.Record {
	rec := make(mapping.Record, len(r.Fields)+40)
	maps.Copy(rec, r.Fields)
	str := func(k, v string) {
		if v != "" {
			rec[k] = v
		}
	}
	look := func(k string, l *Lookup) {
		if l != nil {
			rec[k] = l.record()
		}
	}
	str("progres_interventionnumber", r.InterventionNumber)
	str("progres_lpinterventionid", r.LPInterventionID)
	if !r.StartDate.IsZero() {
		rec["progres_interventionstartdate"] = r.StartDate.Format(time.RFC3339Nano)
	}
	str("progres_interventiondescription", r.Description)
	str("progres_reasonforreferral", r.ReasonForReferral)
	str("progres_comments_nonrestrictedstore", r.Comments)
	str("progres_interventiontype2", r.InterventionTypeID)
	str("progres_interventionsubtype2", r.InterventionSubtypID)
	str("interventiontype.progres_description", r.ServiceType)
	str("interventionsubtype.progres_description", r.ServiceSubtype)
	str("progres_businessunit", r.BusinessUnit)
	str("progres_businessowner", r.BusinessOwner)
	str("progres_interventionserviceprovider", r.ServiceProvider)
	str("progres_interventionbyother", r.InterventionByOther)
	str("progres_primeroid", r.PrimeroID)
	str("user.title", r.UserTitle)
	str("user.internalemailaddress", r.UserEmail)
	str("user.mobilephone", r.UserPhone)
	look("user.progres_partner", r.UserPartner)
	str("individuals.progres_id", r.IndividualID)
	look("individuals.progres_registrationgroupid", r.RegistrationGroup)
	str("individuals.progres_givenname", r.GivenName)
	str("individuals.progres_middlename", r.MiddleName)
	str("individuals.progres_familyname", r.FamilyName)
	str("individuals.progres_commonyusedname", r.CommonlyUsedName)
	str("individuals.progres_dateofbirth", r.DateOfBirth)
	if r.Sex != 0 {
		rec["individuals.progres_sex"] = strconv.Itoa(int(r.Sex))
	}
	str("individuals.progres_primaryphonenumber", r.PrimaryPhone)
	for i, l := range r.Location {
		look("individuals.progres_coalocationlevel"+strconv.Itoa(i+1), l)
	}
	str("individuals.progres_coalocationlevel6", r.Location6)
	str("childprotection.progres_priority", r.Priority)
	look("languages.progres_languagecodeid", r.Language)
	look("specificneeds.progres_spncategory2", r.SpecificNeed.Category)
	look("specificneeds.progres_spnsubcategory2", r.SpecificNeed.Subcategory)
	str("spncategory2code", r.SpecificNeed.CategoryCode)
	str("spnsubcategory2code", r.SpecificNeed.SubcategoryCode)
	return rec
}

// record renders a lookup in DTP's shape.
func (l *Lookup) record() map[string]any {
	m := map[string]any{"KeyAttributes": []any{}, "RowVersion": nil}
	for k, v := range map[string]string{"Id": l.ID, "LogicalName": l.LogicalName, "Name": l.Name} {
		if v != "" {
			m[k] = v
		}
	}
	return m
}

// Record returns the detail row as a mapping.Record: every column as
// fetched, under PING's own column names (a copy; the row is not shared).
// The record may hold personal data: never log it.
func (r *InterventionRow) Record() mapping.Record {
	rec := make(mapping.Record, len(r.Row))
	for k, v := range r.Row {
		rec[k] = mapping.CloneValue(v)
	}
	return rec
}
