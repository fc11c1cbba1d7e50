package progres

import (
	"bytes"
	"encoding/json"
	"errors"
	"strconv"
)

// proGres choice values are integers in the 1250800xx range. DTP sends them
// as strings ("125080001"), PING fetch rows as integers and PING ingestion
// Fields as strings again (docs/systems/progres.md). Every code type below
// decodes both forms, encodes the string form, and refuses a code outside
// its table: an unknown decision or status is an error, never passed
// through raw (pitfall 19). The zero value means "absent".

// ErrUnknownCode is matched by errors.Is on a *CodeError.
var ErrUnknownCode = errors.New("progres: unknown option code")

// CodeError is an option code outside its table. It names the code's type,
// not the value received.
type CodeError struct {
	Type string // e.g. "sex", "review decision"
}

// Error says which kind of code was refused.
func (e *CodeError) Error() string { return "unknown " + e.Type + " code" }

// Is reports true for ErrUnknownCode.
func (e *CodeError) Is(target error) bool { return target == ErrUnknownCode }

// codeTable is the known codes of one option set and their labels.
type codeTable[T ~int32] struct {
	kind   string
	labels map[T]string
}

// parse reads a code from JSON: a string or an integer. null gives 0.
func (t codeTable[T]) parse(b []byte) (T, error) {
	b = bytes.TrimSpace(b)
	if string(b) == "null" {
		return 0, nil
	}
	var s string
	if len(b) > 0 && b[0] == '"' {
		if err := json.Unmarshal(b, &s); err != nil {
			return 0, &CodeError{Type: t.kind}
		}
	} else {
		s = string(b)
	}
	return t.parseString(s)
}

// parseString reads a code from its decimal text.
func (t codeTable[T]) parseString(s string) (T, error) {
	n, err := strconv.ParseInt(s, 10, 32)
	if err != nil {
		return 0, &CodeError{Type: t.kind}
	}
	c := T(n)
	if _, ok := t.labels[c]; !ok {
		return 0, &CodeError{Type: t.kind}
	}
	return c, nil
}

// marshal writes a known code as a JSON string, the absent code as null.
func (t codeTable[T]) marshal(c T) ([]byte, error) {
	if c == 0 {
		return []byte("null"), nil
	}
	if _, ok := t.labels[c]; !ok {
		return nil, &CodeError{Type: t.kind}
	}
	return []byte(`"` + strconv.Itoa(int(c)) + `"`), nil
}

// label returns the code's label, "" when absent or unknown.
func (t codeTable[T]) label(c T) string { return t.labels[c] }

// valid reports whether c is a known code.
func (t codeTable[T]) valid(c T) bool { _, ok := t.labels[c]; return ok }

// Sex is individuals.progres_sex.
type Sex int32

// The sex codes of proGres v4.
const (
	SexFemale  Sex = 125080000
	SexMale    Sex = 125080001
	SexOther   Sex = 125080002
	SexUnknown Sex = 125080003
)

var sexCodes = codeTable[Sex]{"sex", map[Sex]string{SexFemale: "female", SexMale: "male", SexOther: "other", SexUnknown: "unknown"}}

// ParseSex reads a code from its decimal text.
func ParseSex(s string) (Sex, error) { return sexCodes.parseString(s) }

// String returns "female", "male", "other" or "unknown" ("" if absent).
func (c Sex) String() string { return sexCodes.label(c) }

// Valid reports whether c is a known code.
func (c Sex) Valid() bool { return sexCodes.valid(c) }

// MarshalJSON writes the code as a string.
func (c Sex) MarshalJSON() ([]byte, error) { return sexCodes.marshal(c) }

// UnmarshalJSON reads a string or integer code; an unknown one is a *CodeError.
func (c *Sex) UnmarshalJSON(b []byte) (err error) { *c, err = sexCodes.parse(b); return err }

// ReviewDecision is progres_reviewdecision on a decision about a referral
// Primero sent to UNHCR.
type ReviewDecision int32

// The review decision codes.
const (
	DecisionAccepted ReviewDecision = 125080000
	DecisionRejected ReviewDecision = 125080001
)

var decisionCodes = codeTable[ReviewDecision]{"review decision", map[ReviewDecision]string{DecisionAccepted: "accepted", DecisionRejected: "rejected"}}

// ParseReviewDecision reads a code from its decimal text.
func ParseReviewDecision(s string) (ReviewDecision, error) { return decisionCodes.parseString(s) }

// String returns "accepted" or "rejected" ("" if absent).
func (c ReviewDecision) String() string { return decisionCodes.label(c) }

// Valid reports whether c is a known code.
func (c ReviewDecision) Valid() bool { return decisionCodes.valid(c) }

// MarshalJSON writes the code as a string.
func (c ReviewDecision) MarshalJSON() ([]byte, error) { return decisionCodes.marshal(c) }

// UnmarshalJSON reads a string or integer code; an unknown one is a *CodeError.
func (c *ReviewDecision) UnmarshalJSON(b []byte) (err error) {
	*c, err = decisionCodes.parse(b)
	return err
}

// RejectionReason is the rejection reason of a decision.
type RejectionReason int32

// The rejection reason codes.
const (
	ReasonIndividualNotFound RejectionReason = 125080000
	ReasonIndividualNotMatch RejectionReason = 125080001
	ReasonNotApplicable      RejectionReason = 125080002
)

var reasonCodes = codeTable[RejectionReason]{"rejection reason", map[RejectionReason]string{
	ReasonIndividualNotFound: "Individual Not Found",
	ReasonIndividualNotMatch: "Individual Not Match UNHCR ID",
	ReasonNotApplicable:      "Not applicable",
}}

// ParseRejectionReason reads a code from its decimal text.
func ParseRejectionReason(s string) (RejectionReason, error) { return reasonCodes.parseString(s) }

// String returns the reason's label ("" if absent).
func (c RejectionReason) String() string { return reasonCodes.label(c) }

// Valid reports whether c is a known code.
func (c RejectionReason) Valid() bool { return reasonCodes.valid(c) }

// MarshalJSON writes the code as a string.
func (c RejectionReason) MarshalJSON() ([]byte, error) { return reasonCodes.marshal(c) }

// UnmarshalJSON reads a string or integer code; an unknown one is a *CodeError.
func (c *RejectionReason) UnmarshalJSON(b []byte) (err error) {
	*c, err = reasonCodes.parse(b)
	return err
}

// TransferStatus is progres_primerotransferstatus on an intervention (PING).
type TransferStatus int32

// The transfer status codes.
const (
	TransferDefault      TransferStatus = 125080001 // what the earlier integration's jobs write for an unknown status
	TransferPending      TransferStatus = 125080002 // the case was created in Primero
	TransferAcknowledged TransferStatus = 125080003 // Primero accepted the referral
	TransferRejected     TransferStatus = 125080004 // Primero rejected the referral
)

var transferCodes = codeTable[TransferStatus]{"transfer status", map[TransferStatus]string{
	TransferDefault: "default", TransferPending: "pending", TransferAcknowledged: "acknowledged", TransferRejected: "rejected",
}}

// String returns the status label ("" if absent).
func (c TransferStatus) String() string { return transferCodes.label(c) }

// Valid reports whether c is a known code.
func (c TransferStatus) Valid() bool { return transferCodes.valid(c) }

// MarshalJSON writes the code as a string.
func (c TransferStatus) MarshalJSON() ([]byte, error) { return transferCodes.marshal(c) }

// UnmarshalJSON reads a string or integer code; an unknown one is a *CodeError.
func (c *TransferStatus) UnmarshalJSON(b []byte) (err error) {
	*c, err = transferCodes.parse(b)
	return err
}

// InteropStatus is progres_interoperabilityreferralstatus on a referral
// Primero sent to UNHCR (PING). The labels of the first two codes are not
// public; the earlier integration treats both as accepted
// (docs/systems/progres.md).
type InteropStatus int32

// The interoperability referral status codes.
const (
	InteropAccepted0 InteropStatus = 125080000 // treated as accepted (label unconfirmed)
	InteropAccepted  InteropStatus = 125080001 // treated as accepted (label unconfirmed)
	InteropRejected  InteropStatus = 125080002
	InteropSynced    InteropStatus = 125080003 // "Synced with PRIMERO"
)

var interopCodes = codeTable[InteropStatus]{"interoperability referral status", map[InteropStatus]string{
	InteropAccepted0: "accepted", InteropAccepted: "accepted", InteropRejected: "rejected", InteropSynced: "synced",
}}

// String returns "accepted", "rejected" or "synced" ("" if absent).
func (c InteropStatus) String() string { return interopCodes.label(c) }

// Valid reports whether c is a known code.
func (c InteropStatus) Valid() bool { return interopCodes.valid(c) }

// MarshalJSON writes the code as a string.
func (c InteropStatus) MarshalJSON() ([]byte, error) { return interopCodes.marshal(c) }

// UnmarshalJSON reads a string or integer code; an unknown one is a *CodeError.
func (c *InteropStatus) UnmarshalJSON(b []byte) (err error) {
	*c, err = interopCodes.parse(b)
	return err
}

// DeliveryType is progres_deliverytype on a PING delivery row.
type DeliveryType int32

// DeliveryPrimeroOutgoingReferral is the only delivery type the
// integration reads.
const DeliveryPrimeroOutgoingReferral DeliveryType = 125080004

var deliveryCodes = codeTable[DeliveryType]{"delivery type", map[DeliveryType]string{DeliveryPrimeroOutgoingReferral: "Primero Outgoing Referral"}}

// String returns the label ("" if absent).
func (c DeliveryType) String() string { return deliveryCodes.label(c) }

// Valid reports whether c is a known code.
func (c DeliveryType) Valid() bool { return deliveryCodes.valid(c) }

// MarshalJSON writes the code as a string.
func (c DeliveryType) MarshalJSON() ([]byte, error) { return deliveryCodes.marshal(c) }

// UnmarshalJSON reads a string or integer code; an unknown one is a *CodeError.
func (c *DeliveryType) UnmarshalJSON(b []byte) (err error) {
	*c, err = deliveryCodes.parse(b)
	return err
}
