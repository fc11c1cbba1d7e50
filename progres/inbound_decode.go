package progres

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"time"
	"unicode/utf8"
)

// MaxItems bounds the items of one notification.
const MaxItems = 10000

// Notification is a decoded DTP notification. Exactly one of Referrals and
// Decisions is set, by RequestType; Keys[i] is the delivery key of item i.
type Notification struct {
	RequestType RequestType
	Referrals   []*OutgoingReferral
	Decisions   []*IncomingReferralDecision
	Keys        []DeliveryKey
}

// Len is the number of items.
func (n *Notification) Len() int { return len(n.Keys) }

// DecodeNotification decodes and validates a notification body
// {"interventions": [...], "request_type": "..."} strictly: unknown
// top-level keys (except "__query_params", which the receiving platform of
// the pilot added), an unknown request_type, wrong JSON types, unknown
// option codes, malformed dates and an invalid progres_orgreferralid are
// refused with a *ValidationError naming every such field by JSON path,
// never quoting a value. Either the whole notification is valid or nothing
// is returned.
//
// The Handler does not refuse a whole notification for one bad item: it
// uses DecodeItems, which refuses items one by one.
func DecodeNotification(body []byte) (*Notification, error) {
	b, err := DecodeItems(body)
	if err != nil {
		return nil, err
	}
	n := &Notification{RequestType: b.RequestType, Keys: make([]DeliveryKey, len(b.Items))}
	v := &ValidationError{}
	for i, it := range b.Items {
		n.Keys[i] = it.Key
		switch {
		case it.Invalid != nil:
			v.Fields = append(v.Fields, it.Invalid.Err.Fields...)
		case it.Referral != nil:
			n.Referrals = append(n.Referrals, it.Referral)
		default:
			n.Decisions = append(n.Decisions, it.Decision)
		}
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	return n, nil
}

// reasonUnknownKey marks a refused top-level key; the handler does not log
// such a path, since its name came from the sender.
const reasonUnknownKey = "is not a known key"

// strictUnmarshal decodes one JSON value with numbers kept exact and no
// trailing data.
func strictUnmarshal(b []byte, out any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(out); err != nil {
		return err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return errors.New("trailing data")
	}
	return nil
}

// decodeObject decodes a JSON object into its values.
func decodeObject(raw json.RawMessage) (map[string]any, error) {
	var m map[string]any
	if err := strictUnmarshal(raw, &m); err != nil || m == nil {
		return nil, errors.New("not an object")
	}
	return m, nil
}

// deliveryKey hashes the request type and the item re-encoded canonically
// (encoding/json sorts map keys; json.Number keeps the number's text).
func deliveryKey(rt RequestType, item any) DeliveryKey {
	b, _ := json.Marshal(item)
	h := sha256.New()
	h.Write([]byte(rt))
	h.Write([]byte{0})
	h.Write(b)
	return DeliveryKey("dtp-" + hex.EncodeToString(h.Sum(nil)[:16]))
}

// jsonKeyPath appends a key to a path. Flattened FetchXML keys hold dots,
// so a key that is not a plain name is quoted, and a key that is not
// printable is not shown.
func jsonKeyPath(base, k string) string {
	if !utf8.ValidString(k) || len(k) > 100 || strings.ContainsFunc(k, func(r rune) bool { return r < 0x20 || r == 0x7f || r == '"' || r == '\\' }) {
		return base + "[?]"
	}
	if base == "" {
		return k
	}
	return base + "." + k
}

// extractor takes typed values out of a decoded item; what it does not
// take stays in m (Fields). Problems go to v, named by path.
type extractor struct {
	m    map[string]any
	path string
	v    *ValidationError
	keep bool // read without removing (PING rows stay whole)
}

func (x *extractor) at(key string) string { return jsonKeyPath(x.path, key) }

// take removes and returns the value of key (nil when absent or null).
func (x *extractor) take(key string) any {
	val, ok := x.m[key]
	if !ok {
		return nil
	}
	if !x.keep {
		delete(x.m, key)
	}
	return val
}

// str reads an optional string.
func (x *extractor) str(key string) string {
	val := x.take(key)
	if val == nil {
		return ""
	}
	s, ok := val.(string)
	if !ok {
		x.v.Add(x.at(key), "must be a string")
		return ""
	}
	if strings.ContainsRune(s, 0) {
		x.v.Add(x.at(key), "contains a NUL character")
		return ""
	}
	return s
}

// required reads a string that must be present and not blank.
func (x *extractor) required(key string) string {
	_, present := x.m[key]
	s := x.str(key)
	if strings.TrimSpace(s) == "" {
		if present {
			x.v.Add(x.at(key), "must not be empty")
		} else {
			x.v.Add(x.at(key), "is required")
		}
	}
	return s
}

// lookup reads an optional lookup object.
func (x *extractor) lookup(key string) *Lookup {
	val := x.take(key)
	if val == nil {
		return nil
	}
	m, ok := val.(map[string]any)
	if !ok {
		x.v.Add(x.at(key), "must be a lookup object")
		return nil
	}
	l := &Lookup{}
	for _, f := range []struct {
		name string
		dst  *string
	}{{"Id", &l.ID}, {"LogicalName", &l.LogicalName}, {"Name", &l.Name}} {
		switch s := m[f.name].(type) {
		case nil:
		case string:
			*f.dst = s
		default:
			x.v.Add(x.at(key)+"."+f.name, "must be a string")
		}
	}
	return l
}

// timestamp reads an optional ISO date-time (or date).
func (x *extractor) timestamp(key string) time.Time {
	s := x.str(key)
	if s == "" {
		return time.Time{}
	}
	t, ok := parseISO(s)
	if !ok {
		x.v.Add(x.at(key), "must be an ISO 8601 date-time")
	}
	return t
}

// date reads an optional ISO date-time and keeps its date part.
func (x *extractor) date(key string) string {
	t := x.timestamp(key)
	if t.IsZero() {
		return ""
	}
	return t.Format(time.DateOnly)
}

// parseISO accepts RFC 3339 (with or without fractions), a date-time
// without zone (read as UTC) and a date.
func parseISO(s string) (time.Time, bool) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", time.DateOnly} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// code reads an option code with parse; an unknown one names the key.
func code[T any](x *extractor, key string, parse func([]byte) (T, error)) T {
	var zero T
	val := x.take(key)
	if val == nil {
		return zero
	}
	b, err := json.Marshal(val)
	if err != nil {
		x.v.Add(x.at(key), "is not a valid code")
		return zero
	}
	c, err := parse(b)
	if err != nil {
		x.v.Add(x.at(key), "is not a known option code")
		return zero
	}
	return c
}

// referral takes an OutgoingReferral out of the item.
func (x *extractor) referral() *OutgoingReferral {
	r := &OutgoingReferral{
		InterventionNumber:   x.required("progres_interventionnumber"),
		LPInterventionID:     x.str("progres_lpinterventionid"),
		StartDate:            x.timestamp("progres_interventionstartdate"),
		Description:          x.str("progres_interventiondescription"),
		ReasonForReferral:    x.str("progres_reasonforreferral"),
		Comments:             x.str("progres_comments_nonrestrictedstore"),
		InterventionTypeID:   x.str("progres_interventiontype2"),
		InterventionSubtypID: x.str("progres_interventionsubtype2"),
		ServiceType:          x.str("interventiontype.progres_description"),
		ServiceSubtype:       x.str("interventionsubtype.progres_description"),
		BusinessUnit:         x.str("progres_businessunit"),
		BusinessOwner:        x.str("progres_businessowner"),
		ServiceProvider:      x.str("progres_interventionserviceprovider"),
		InterventionByOther:  x.str("progres_interventionbyother"),
		PrimeroID:            x.str("progres_primeroid"),
		UserTitle:            x.str("user.title"),
		UserEmail:            x.str("user.internalemailaddress"),
		UserPhone:            x.str("user.mobilephone"),
		UserPartner:          x.lookup("user.progres_partner"),
		IndividualID:         x.str("individuals.progres_id"),
		RegistrationGroup:    x.lookup("individuals.progres_registrationgroupid"),
		GivenName:            x.str("individuals.progres_givenname"),
		MiddleName:           x.str("individuals.progres_middlename"),
		FamilyName:           x.str("individuals.progres_familyname"),
		CommonlyUsedName:     x.str("individuals.progres_commonyusedname"),
		DateOfBirth:          x.date("individuals.progres_dateofbirth"),
		Sex:                  code(x, "individuals.progres_sex", sexCodes.parse),
		PrimaryPhone:         x.str("individuals.progres_primaryphonenumber"),
		Location6:            x.str("individuals.progres_coalocationlevel6"),
		Priority:             x.str("childprotection.progres_priority"),
		Language:             x.lookup("languages.progres_languagecodeid"),
		SpecificNeed: SpecificNeed{
			Category:        x.lookup("specificneeds.progres_spncategory2"),
			Subcategory:     x.lookup("specificneeds.progres_spnsubcategory2"),
			CategoryCode:    x.str("spncategory2code"),
			SubcategoryCode: x.str("spnsubcategory2code"),
		},
	}
	for i := range r.Location {
		r.Location[i] = x.lookup("individuals.progres_coalocationlevel" + itoa(i+1))
	}
	r.Fields = x.m
	return r
}

// Decision field names, misspelt as shipped, and the older spelling.
const (
	keyRejectionReason     = "progres_interoperabiltyreferralrejectionreason"
	keyRejectionComment    = "progres_interoperabilityreferralrejectionomment"
	keyRejectionCommentOld = "progres_interoperabilityreferralrejectioncomment"
)

// decision takes an IncomingReferralDecision out of the item.
func (x *extractor) decision() *IncomingReferralDecision {
	d := &IncomingReferralDecision{
		ReferralID:         x.required("progres_interoperabilityreferralid"),
		ReferralNumber:     x.str("progres_interoperabilityreferralnumber"),
		IndividualID:       x.str("progres_individualid"),
		RouteTo:            x.str("progres_interoperabilityreferralrouteto"),
		RouteServiceUnitTo: x.str("progres_interoperabilityreferralrouteserviceunito"),
		InterventionTypeID: x.str("progres_interventiontype"),
		ReviewBy:           x.str("progres_reviewby"),
		ReviewDate:         x.timestamp("progres_reviewdate"),
		RejectionReason:    code(x, keyRejectionReason, reasonCodes.parse),
	}
	_, hasDecision := x.m["progres_reviewdecision"]
	d.ReviewDecision = code(x, "progres_reviewdecision", decisionCodes.parse)
	if !hasDecision {
		x.v.Add(x.at("progres_reviewdecision"), "is required")
	}
	if key := x.required("progres_orgreferralid"); key != "" {
		k, err := ParseReferralKey(key)
		if err != nil {
			x.v.Add(x.at("progres_orgreferralid"), "is not a referral key <case_id>#<12 hex>")
		}
		d.OrgReferralID = k
	}
	d.RejectionComment = x.str(keyRejectionComment)
	if old := x.str(keyRejectionCommentOld); old != "" {
		if d.RejectionComment != "" && d.RejectionComment != old {
			x.v.Add(x.at(keyRejectionCommentOld), "disagrees with "+keyRejectionComment)
		}
		d.RejectionComment = old
	}
	d.Fields = x.m
	return d
}
