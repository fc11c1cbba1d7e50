package progres

import (
	"bytes"
	"encoding/json"
	"maps"
	"slices"
	"strings"
)

// Batch is a notification decoded item by item (DecodeItems): its
// envelope is valid, and each of its items was either accepted or refused
// on its own.
type Batch struct {
	RequestType RequestType
	// Items are the notification's items, in order: Items[i] is
	// interventions[i].
	Items []BatchItem
}

// BatchItem is one item of a Batch. Exactly one of Referral, Decision and
// Invalid is set: Referral or Decision (by the batch's request type) when
// the item is valid, Invalid when it was refused for its own data.
type BatchItem struct {
	Key      DeliveryKey
	Referral *OutgoingReferral
	Decision *IncomingReferralDecision
	Invalid  *InvalidDelivery
}

// InvalidDelivery is an item refused for its own data: an unknown option
// code, a malformed date, a wrong JSON type, a missing required key, or
// not an object at all. The other items of its notification are not
// affected. It carries what a flow needs to answer the sender, and no
// value of the item beyond the identifiers named below.
type InvalidDelivery struct {
	// Key is the item's delivery key, computed as for a valid item: DTP
	// sending the same item again gives the same key.
	Key DeliveryKey
	// Index is the item's position in the notification's interventions.
	Index int
	// InterventionNumber is a referral's progres_interventionnumber when
	// the item carries one that is itself valid, else "". It is what a
	// "Delivery Fail" feedback is addressed by: an item without it cannot
	// be answered through DTP.
	InterventionNumber string
	// ReferralID is a decision's progres_interoperabilityreferralid and
	// OrgReferralID its progres_orgreferralid, each when present and
	// itself valid, else zero.
	ReferralID    string
	OrgReferralID ReferralKey
	// Err names every refused field of the item by JSON path
	// ("interventions[2].individuals.progres_sex"), never by value.
	Err *ValidationError
}

// DecodeItems decodes a notification body like DecodeNotification, but
// refuses items one by one: an error (a *ValidationError) is returned only
// for the envelope (not a JSON object, an unknown top-level key, a missing
// or unknown request_type, interventions missing, not an array or longer
// than MaxItems). Otherwise every item is in the Batch, valid or refused
// with its own *ValidationError, and the valid items are exactly what
// DecodeNotification would return for them.
func DecodeItems(body []byte) (*Batch, error) {
	rt, items, err := decodeEnvelope(body)
	if err != nil {
		return nil, err
	}
	b := &Batch{RequestType: rt, Items: make([]BatchItem, len(items))}
	for i, val := range items {
		b.Items[i] = decodeItem(rt, i, val)
	}
	return b, nil
}

// decodeEnvelope checks the envelope and returns the request type and
// the items, decoded (numbers as json.Number).
func decodeEnvelope(body []byte) (RequestType, []any, error) {
	var env map[string]json.RawMessage
	if err := strictUnmarshal(body, &env); err != nil || env == nil {
		return "", nil, newFieldError("$", "is not a JSON object")
	}
	v := &ValidationError{}
	for _, k := range slices.Sorted(maps.Keys(env)) {
		if k != "interventions" && k != "request_type" && k != "__query_params" {
			v.Add(jsonKeyPath("", k), reasonUnknownKey)
		}
	}
	var rt string
	if raw, ok := env["request_type"]; !ok {
		v.Add("request_type", "is required")
	} else if json.Unmarshal(raw, &rt) != nil || (RequestType(rt) != RequestReferral && RequestType(rt) != RequestDecision) {
		v.Add("request_type", "must be PrimeroOutgoingReferral or PrimeroIncomingReferralDecision")
	}
	var items []any
	if raw, ok := env["interventions"]; !ok {
		v.Add("interventions", "is required")
	} else if strictUnmarshal(raw, &items) != nil || bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
		v.Add("interventions", "must be an array")
	} else if len(items) > MaxItems {
		v.Add("interventions", "has more than 10000 items")
	}
	if err := v.Err(); err != nil {
		return "", nil, err
	}
	return RequestType(rt), items, nil
}

// decodeItem validates item i on its own.
func decodeItem(rt RequestType, i int, val any) BatchItem {
	path := "interventions[" + itoa(i) + "]"
	v := &ValidationError{}
	key := deliveryKey(rt, val)
	inv := &InvalidDelivery{Key: key, Index: i, Err: v}
	fields, ok := val.(map[string]any)
	if !ok {
		v.Add(path, "must be an object")
		return BatchItem{Key: key, Invalid: inv}
	}
	x := &extractor{m: fields, path: path, v: v}
	if rt == RequestReferral {
		r := x.referral()
		if v.Err() == nil {
			return BatchItem{Key: key, Referral: r}
		}
		if !refused(v, x.at("progres_interventionnumber")) {
			inv.InterventionNumber = r.InterventionNumber
		}
		return BatchItem{Key: key, Invalid: inv}
	}
	d := x.decision()
	if v.Err() == nil {
		return BatchItem{Key: key, Decision: d}
	}
	if !refused(v, x.at("progres_interoperabilityreferralid")) {
		inv.ReferralID = d.ReferralID
	}
	if !refused(v, x.at("progres_orgreferralid")) {
		inv.OrgReferralID = d.OrgReferralID
	}
	return BatchItem{Key: key, Invalid: inv}
}

// refused reports whether v refused the field at path or anything under
// it.
func refused(v *ValidationError, path string) bool {
	for _, f := range v.Fields {
		if f.Path == path || strings.HasPrefix(f.Path, path+".") {
			return true
		}
	}
	return false
}
