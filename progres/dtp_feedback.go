package progres

import "context"

// FeedbackService sends delivery feedback and decisions on referrals
// proGres sent to Primero (DTP's ReceiveDecisionOutgoingReferral).
type FeedbackService struct{ c *DTPClient }

// FeedbackStatus is the status of a feedback body.
type FeedbackStatus string

// The feedback statuses DTP takes.
const (
	// StatusPendingAcknowledgement: the referral was delivered to Primero.
	StatusPendingAcknowledgement FeedbackStatus = "Pending Acknowledgement"
	// StatusDeliveryFail: the referral could not be delivered; ClosureReason says why.
	StatusDeliveryFail FeedbackStatus = "Delivery Fail"
	// StatusAcknowledged: Primero accepted the referral.
	StatusAcknowledged FeedbackStatus = "acknowledged"
	// StatusRejected: Primero rejected the referral.
	StatusRejected FeedbackStatus = "rejected"
)

// NoReasonSpecified is the closure reason DTP receives with a decision
// that carries none.
const NoReasonSpecified = "No reason specified."

// Delivery failure reasons, for ClosureReason of a StatusDeliveryFail
// feedback. Any other text of the deployment's choosing works too.
const (
	ReasonMissingFields = "The intervention referral lacks fields Primero requires. Add the missing fields and send the referral again."
	ReasonInvalidData   = "The intervention referral holds values Primero cannot accept. Review the values and send the referral again."
	ReasonServiceType   = "The intervention type is not one of the agreed interagency referral service types. See the mapping specification."
)

// Feedback is one body for ReceiveDecisionOutgoingReferral.
type Feedback struct {
	// InterventionNumber is progres_interventionnumber (required), e.g.
	// "803-23-PRTITV-0000123".
	InterventionNumber string
	Status             FeedbackStatus
	// CaseID and PrimeroUser name the Primero case and its owner: required
	// except for StatusDeliveryFail, where they are sent when set. They are
	// never replaced by a placeholder (pitfall 25).
	CaseID      string
	PrimeroUser string
	// ClosureReason: required for StatusDeliveryFail; for a decision, the
	// rejection reason (NoReasonSpecified when empty); refused with
	// StatusPendingAcknowledgement.
	ClosureReason string
}

// Delivered is the feedback for a referral delivered to Primero.
func Delivered(interventionNumber, caseID, primeroUser string) *Feedback {
	return &Feedback{InterventionNumber: interventionNumber, Status: StatusPendingAcknowledgement, CaseID: caseID, PrimeroUser: primeroUser}
}

// DeliveryFailed is the feedback for a referral that could not be delivered.
func DeliveryFailed(interventionNumber, reason string) *Feedback {
	return &Feedback{InterventionNumber: interventionNumber, Status: StatusDeliveryFail, ClosureReason: reason}
}

// Decided is Primero's decision on a proGres referral.
func Decided(interventionNumber, caseID, primeroUser string, accepted bool, reason string) *Feedback {
	st := StatusRejected
	if accepted {
		st = StatusAcknowledged
	}
	return &Feedback{InterventionNumber: interventionNumber, Status: st, CaseID: caseID, PrimeroUser: primeroUser, ClosureReason: reason}
}

// Validate checks the body for its status; errors name the JSON keys.
func (f *Feedback) Validate() error {
	v := &ValidationError{}
	requireText(v, "progres_interventionnumber", f.InterventionNumber)
	switch f.Status {
	case StatusPendingAcknowledgement, StatusAcknowledged, StatusRejected:
		requireText(v, "case_id", f.CaseID)
		requireText(v, "primero_user", f.PrimeroUser)
		if f.Status == StatusPendingAcknowledgement && f.ClosureReason != "" {
			v.Add("closure_reason", "is not sent with Pending Acknowledgement")
		} else {
			optionalMultiline(v, "closure_reason", f.ClosureReason)
		}
	case StatusDeliveryFail:
		optionalText(v, "case_id", f.CaseID)
		optionalText(v, "primero_user", f.PrimeroUser)
		if f.ClosureReason == "" {
			v.Add("closure_reason", "is required with Delivery Fail")
		}
		optionalMultiline(v, "closure_reason", f.ClosureReason)
	default:
		v.Add("status", "must be Pending Acknowledgement, Delivery Fail, acknowledged or rejected")
	}
	return v.Err()
}

// MarshalJSON writes the body DTP takes for the status, after Validate:
// no request_type for Pending Acknowledgement, "Feedback" for Delivery
// Fail, "ReceiveDecisionOutgoingReferral" for a decision.
func (f *Feedback) MarshalJSON() ([]byte, error) {
	if err := f.Validate(); err != nil {
		return nil, err
	}
	b := newBody()
	b.set("progres_interventionnumber", f.InterventionNumber)
	b.set("status", string(f.Status))
	b.opt("case_id", f.CaseID)
	b.opt("primero_user", f.PrimeroUser)
	switch f.Status {
	case StatusDeliveryFail:
		b.set("request_type", "Feedback")
		b.set("closure_reason", f.ClosureReason)
	case StatusAcknowledged, StatusRejected:
		reason := f.ClosureReason
		if reason == "" {
			reason = NoReasonSpecified
		}
		b.set("closure_reason", reason)
		b.set("request_type", string(OpReceiveDecisionOutgoingReferral))
	}
	return b.marshal()
}

// Send validates f and POSTs it once (never retried: see
// DTPReferralsService.Send).
func (s *FeedbackService) Send(ctx context.Context, f *Feedback) error {
	if f == nil {
		return newFieldError("feedback", "is nil")
	}
	body, err := marshalBody(f)
	if err != nil {
		return err
	}
	return s.c.post(ctx, OpReceiveDecisionOutgoingReferral, body)
}
