package progres

import (
	"context"
	"time"

	"github.com/casebridge/casebridge/internal/isodate"
)

// DTPReferralsService sends new referrals to UNHCR through DTP.
type DTPReferralsService struct{ c *DTPClient }

// IncomingReferral is a referral from Primero to UNHCR, one per referred
// service, as DTP's ReceiveIncomingReferral takes it ("incoming" is named
// from proGres's side). Empty optional fields are left out of the body.
type IncomingReferral struct {
	// ID is the composite key; proGres echoes it as progres_orgreferralid.
	ID ReferralKey
	// The referring caseworker: all required. A missing contact is an
	// error, never replaced by an administrator's or a placeholder
	// (pitfall 25).
	PrimeroUser string // primero_user
	Position    string // position
	Email       string // email
	Phone       string // phone
	FullName    string // full_name

	ServiceImplementingAgency string    // service_implementing_agency (required), e.g. "UNICEF"
	OwnedByAgencyID           string    // owned_by_agency_id
	ServiceResponseDayTime    time.Time // service_response_day_time; zero is left out
	// ServiceType is the DTP service label (required), e.g.
	// "Alternative Care". The Primero → DTP table is deployment data: keep
	// it in the mapping spec (pitfall 17).
	ServiceType          string // service_type
	ServiceTypeOther     string // service_type_other
	ServiceReferralNotes string // service_referral_notes

	UNHCRIndividualNo string // unhcr_individual_no
	UNHCRIDNo         string // unhcr_id_no (registration group number)
	NameFirst         string // name_first
	NameLast          string // name_last
	NameMiddle        string // name_middle
	NameNickname      string // name_nickname
	DateOfBirth       string // date_of_birth, YYYY-MM-DD; optional (pitfall 20)
	// Sex is the Primero value as DTP takes it: "female", "male",
	// "other" or "unknown".
	Sex              string // sex
	AddressCurrent   string // address_current
	TelephoneCurrent string // telephone_current
	Language         string // language: names joined with ", "
}

// Validate checks the referral; errors name the fields by their JSON key.
func (r *IncomingReferral) Validate() error {
	v := &ValidationError{}
	if err := r.ID.Validate(); err != nil {
		v.Add("id", "is not a valid referral key (<case_id>#<12 hex>)")
	}
	for _, f := range []struct{ path, val string }{
		{"primero_user", r.PrimeroUser}, {"position", r.Position}, {"email", r.Email},
		{"phone", r.Phone}, {"full_name", r.FullName},
		{"service_implementing_agency", r.ServiceImplementingAgency}, {"service_type", r.ServiceType},
	} {
		requireText(v, f.path, f.val)
	}
	for _, f := range []struct{ path, val string }{
		{"owned_by_agency_id", r.OwnedByAgencyID}, {"service_type_other", r.ServiceTypeOther},
		{"unhcr_individual_no", r.UNHCRIndividualNo}, {"unhcr_id_no", r.UNHCRIDNo},
		{"name_first", r.NameFirst}, {"name_last", r.NameLast}, {"name_middle", r.NameMiddle},
		{"name_nickname", r.NameNickname}, {"telephone_current", r.TelephoneCurrent}, {"language", r.Language},
	} {
		optionalText(v, f.path, f.val)
	}
	optionalMultiline(v, "service_referral_notes", r.ServiceReferralNotes)
	optionalMultiline(v, "address_current", r.AddressCurrent)
	if r.DateOfBirth != "" {
		if _, _, _, ok := isodate.Date(r.DateOfBirth); !ok {
			v.Add("date_of_birth", "must be a date YYYY-MM-DD")
		}
	}
	switch r.Sex {
	case "", "female", "male", "other", "unknown":
	default:
		v.Add("sex", "must be female, male, other or unknown")
	}
	return v.Err()
}

// dtpTime is the timestamp form DTP receives (milliseconds, UTC).
const dtpTime = "2006-01-02T15:04:05.000Z"

// MarshalJSON writes the ReceiveIncomingReferral body, with
// request_type, after Validate.
func (r *IncomingReferral) MarshalJSON() ([]byte, error) {
	if err := r.Validate(); err != nil {
		return nil, err
	}
	b := newBody()
	b.set("request_type", string(OpReceiveIncomingReferral))
	b.set("id", r.ID.String())
	b.set("primero_user", r.PrimeroUser)
	b.set("position", r.Position)
	b.set("email", r.Email)
	b.set("phone", r.Phone)
	b.set("full_name", r.FullName)
	b.set("service_implementing_agency", r.ServiceImplementingAgency)
	b.opt("owned_by_agency_id", r.OwnedByAgencyID)
	if !r.ServiceResponseDayTime.IsZero() {
		b.set("service_response_day_time", r.ServiceResponseDayTime.UTC().Format(dtpTime))
	}
	b.set("service_type", r.ServiceType)
	b.opt("service_type_other", r.ServiceTypeOther)
	b.opt("service_referral_notes", r.ServiceReferralNotes)
	b.opt("unhcr_individual_no", r.UNHCRIndividualNo)
	b.opt("unhcr_id_no", r.UNHCRIDNo)
	b.opt("name_first", r.NameFirst)
	b.opt("name_last", r.NameLast)
	b.opt("name_middle", r.NameMiddle)
	b.opt("name_nickname", r.NameNickname)
	b.opt("date_of_birth", r.DateOfBirth)
	b.opt("sex", r.Sex)
	b.opt("address_current", r.AddressCurrent)
	b.opt("telephone_current", r.TelephoneCurrent)
	b.opt("language", r.Language)
	return b.marshal()
}

// Send validates r and POSTs it to ReceiveIncomingReferral, once: it is
// not retried, because DTP is not known to deduplicate. After an error that
// may have reached the gateway (a dropped connection, a 5xx), find out
// before sending again (pitfall 28).
func (s *DTPReferralsService) Send(ctx context.Context, r *IncomingReferral) error {
	if r == nil {
		return newFieldError("referral", "is nil")
	}
	body, err := marshalBody(r)
	if err != nil {
		return err
	}
	return s.c.post(ctx, OpReceiveIncomingReferral, body)
}
