package progres

import "time"

// RequestType is the discriminator of a DTP notification.
type RequestType string

// The notification kinds DTP pushes (named from DTP's side).
const (
	// RequestReferral: proGres interventions referred to Primero.
	RequestReferral RequestType = "PrimeroOutgoingReferral"
	// RequestDecision: proGres's decisions on referrals Primero sent.
	RequestDecision RequestType = "PrimeroIncomingReferralDecision"
)

// Lookup is a proGres lookup value as DTP sends it:
// {"Id", "KeyAttributes", "LogicalName", "Name", "RowVersion"}.
type Lookup struct {
	ID          string // GUID
	LogicalName string // entity, e.g. "progres_registrationgroup"
	Name        string // display name, e.g. a registration group number
}

// OutgoingReferral is one item of a PrimeroOutgoingReferral notification:
// one row of proGres's join, so an intervention with two languages (or two
// specific needs) arrives as two items that differ only in those columns.
// Group them by InterventionNumber. Keys not typed here are kept in Fields.
type OutgoingReferral struct {
	// Intervention.
	InterventionNumber   string    // progres_interventionnumber (required)
	LPInterventionID     string    // progres_lpinterventionid
	StartDate            time.Time // progres_interventionstartdate
	Description          string    // progres_interventiondescription (HTML)
	ReasonForReferral    string    // progres_reasonforreferral (a JSON string, as sent)
	Comments             string    // progres_comments_nonrestrictedstore (a JSON string, as sent)
	InterventionTypeID   string    // progres_interventiontype2
	InterventionSubtypID string    // progres_interventionsubtype2
	// ServiceType is interventiontype.progres_description, the service key
	// the deployment maps to a Primero service type.
	ServiceType         string
	ServiceSubtype      string // interventionsubtype.progres_description
	BusinessUnit        string // progres_businessunit
	BusinessOwner       string // progres_businessowner
	ServiceProvider     string // progres_interventionserviceprovider
	InterventionByOther string // progres_interventionbyother
	PrimeroID           string // progres_primeroid: a Primero case_id proGres knows

	// Referring user.
	UserTitle   string  // user.title
	UserEmail   string  // user.internalemailaddress
	UserPhone   string  // user.mobilephone
	UserPartner *Lookup // user.progres_partner (Name is a partner number)

	// Individual.
	IndividualID      string  // individuals.progres_id (UNHCR individual number)
	RegistrationGroup *Lookup // individuals.progres_registrationgroupid (Name is the group number)
	GivenName         string  // individuals.progres_givenname
	MiddleName        string  // individuals.progres_middlename
	FamilyName        string  // individuals.progres_familyname
	CommonlyUsedName  string  // individuals.progres_commonyusedname (sic)
	// DateOfBirth is the date part (YYYY-MM-DD) of
	// individuals.progres_dateofbirth; "" when absent, which is common
	// among refugees and not an error (pitfall 20).
	DateOfBirth  string
	Sex          Sex        // individuals.progres_sex
	PrimaryPhone string     // individuals.progres_primaryphonenumber
	Location     [5]*Lookup // individuals.progres_coalocationlevel1…5
	Location6    string     // individuals.progres_coalocationlevel6
	Priority     string     // childprotection.progres_priority (code, as sent)
	Language     *Lookup    // languages.progres_languagecodeid
	SpecificNeed SpecificNeed

	// Fields holds every other key of the item, decoded (numbers as
	// json.Number).
	Fields map[string]any
}

// SpecificNeed is the specific-need columns of one referral row.
type SpecificNeed struct {
	Category        *Lookup // specificneeds.progres_spncategory2
	Subcategory     *Lookup // specificneeds.progres_spnsubcategory2
	CategoryCode    string  // spncategory2code, e.g. "SC"
	SubcategoryCode string  // spnsubcategory2code, e.g. "SC-UC"
}

// Missing lists the keys Primero needs to create a case that this item
// lacks or has empty: the service type, the individual number, the
// registration group, given and family name. Use it to answer
// DeliveryFailed with ReasonMissingFields (an empty value counts as
// missing, unlike the earlier integration's check; pitfall 21).
func (r *OutgoingReferral) Missing() []string {
	var out []string
	if r.ServiceType == "" {
		out = append(out, "interventiontype.progres_description")
	}
	if r.IndividualID == "" {
		out = append(out, "individuals.progres_id")
	}
	if r.RegistrationGroup == nil || r.RegistrationGroup.Name == "" {
		out = append(out, "individuals.progres_registrationgroupid")
	}
	if r.GivenName == "" {
		out = append(out, "individuals.progres_givenname")
	}
	if r.FamilyName == "" {
		out = append(out, "individuals.progres_familyname")
	}
	return out
}

// IncomingReferralDecision is one item of a PrimeroIncomingReferralDecision
// notification: proGres's decision on a referral Primero sent. Keys not
// typed here are kept in Fields.
type IncomingReferralDecision struct {
	ReferralID     string // progres_interoperabilityreferralid (required)
	ReferralNumber string // progres_interoperabilityreferralnumber
	IndividualID   string // progres_individualid
	// OrgReferralID echoes the key Primero sent (required):
	// progres_orgreferralid.
	OrgReferralID      ReferralKey
	RouteTo            string         // progres_interoperabilityreferralrouteto (code, as sent)
	RouteServiceUnitTo string         // progres_interoperabilityreferralrouteserviceunito (sic)
	InterventionTypeID string         // progres_interventiontype
	ReviewBy           string         // progres_reviewby
	ReviewDate         time.Time      // progres_reviewdate
	ReviewDecision     ReviewDecision // progres_reviewdecision (required)
	// RejectionReason is progres_interoperabiltyreferralrejectionreason
	// (sic), absent on an accepted decision.
	RejectionReason RejectionReason
	// RejectionComment is progres_interoperabilityreferralrejectionomment
	// as shipped, or the older spelling …rejectioncomment.
	RejectionComment string

	// Fields holds every other key of the item.
	Fields map[string]any
}

// DeliveryKey identifies one notification item across deliveries: DTP
// sending the same item again gives the same key, so a flow can tell a
// re-delivery from a new item. It is a hash of the request type and the
// item's content (key order and whitespace do not matter), never personal
// data. Two identical items (the same row twice) share a key; a changed
// item is a new delivery.
type DeliveryKey string

// Delivery is one item handed to a Handler callback.
type Delivery[T any] struct {
	Key   DeliveryKey
	Index int // position in the notification's interventions array
	Item  T
}
