package referral

import (
	"context"
	"strings"
	"time"

	"github.com/casebridge/casebridge/mapping"
	"github.com/casebridge/casebridge/progres"
)

// sendDTP sends one referral to DTP's ReceiveIncomingReferral. DTP cannot
// be read back: a lost answer leaves the referral unmarked and the next
// run sends the same body with the same composite id again (see
// Outbound, "Exactly once").
func (r *outRun) sendDTP(ctx context.Context, o *Outgoing, p mapping.Record) (bool, error) {
	key, err := progres.NewReferralKey(o.Case.CaseID, o.Service.UniqueID)
	if err != nil {
		r.stats.Fail(o.Referral.ID, "referral_key", err)
		return false, nil
	}
	body := buildDTPReferral(key, p)
	if err := body.Validate(); err != nil {
		r.stats.Fail(o.Referral.ID, "invalid_body", err)
		return false, nil
	}
	if err := r.intend(ctx, o); err != nil {
		return false, err
	}
	if err := r.cfg.DTP.Referrals.Send(ctx, body); err != nil {
		return r.failed(ctx, o, "delivery", err)
	}
	return r.delivered(ctx, o, key.CaseID+":"+key.ServiceSuffix, nil)
}

// buildDTPReferral builds the body from the mapped record (keys named as DTP's).
func buildDTPReferral(key progres.ReferralKey, p mapping.Record) *progres.IncomingReferral {
	s := func(k string) string { v, _ := p[k].(string); return v }
	b := &progres.IncomingReferral{
		ID: key, PrimeroUser: s("primero_user"), Position: s("position"), Email: s("email"),
		Phone: s("phone"), FullName: s("full_name"),
		ServiceImplementingAgency: s("service_implementing_agency"), OwnedByAgencyID: s("owned_by_agency_id"),
		ServiceType: s("service_type"), ServiceTypeOther: s("service_type_other"),
		ServiceReferralNotes: s("service_referral_notes"),
		UNHCRIndividualNo:    s("unhcr_individual_no"), UNHCRIDNo: s("unhcr_id_no"),
		NameFirst: s("name_first"), NameLast: s("name_last"), NameMiddle: s("name_middle"), NameNickname: s("name_nickname"),
		DateOfBirth: s("date_of_birth"), Sex: s("sex"), AddressCurrent: s("address_current"),
		TelephoneCurrent: s("telephone_current"),
	}
	if t, err := time.Parse(time.RFC3339, s("service_response_day_time")); err == nil {
		b.ServiceResponseDayTime = t
	}
	if langs, ok := p["language"].([]any); ok {
		names := make([]string, 0, len(langs))
		for _, l := range langs {
			if n, ok := l.(string); ok && n != "" {
				names = append(names, n)
			}
		}
		b.Language = strings.Join(names, ", ")
	}
	return b
}
