package primero

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"maps"
	"strconv"
	"strings"
	"time"

	"github.com/casebridge/casebridge/mapping"
)

// Case is a Primero case: the common CPIMS+ fields typed, every other field
// in Fields, so that a read-modify-write round trip loses nothing.
//
// A typed field holds a value only when the JSON held a non-null value of
// the expected type that re-encodes identically; anything else (null, an
// empty string, a number where text was expected, a timestamp in another
// layout) stays in Fields under its key. On encoding, a set typed field
// (non-empty string, non-nil pointer or slice, non-zero time) wins over
// Fields; an unset one is omitted, so a zero typed field never clears a
// value in a PATCH (use Fields[key] = nil for that).
type Case struct {
	ID                  string    // "id": the record UUID used in URLs
	CaseID              string    // "case_id": a UUID distinct from ID
	UniqueIdentifier    string    // "unique_identifier"
	ShortID             string    // "short_id": last 7 characters of unique_identifier
	CaseIDDisplay       string    // "case_id_display"
	ModuleID            string    // "module_id", e.g. "primeromodule-cp"
	Name                string    // "name" (computed by Primero; "*******" when hidden)
	NameFirst           string    // "name_first"
	NameMiddle          string    // "name_middle"
	NameLast            string    // "name_last"
	NameNickname        string    // "name_nickname"
	Sex                 string    // "sex": lookup-gender id
	DateOfBirth         string    // "date_of_birth": YYYY-MM-DD
	Age                 *int      // "age"
	LocationCurrent     string    // "location_current": a location code
	ConsentForServices  *bool     // "consent_for_services"
	DisclosureOtherOrgs *bool     // "disclosure_other_orgs"
	Status              string    // "status": open, closed, transferred, identified
	Workflow            string    // "workflow"
	RecordState         *bool     // "record_state": false when disabled (soft deleted)
	Enabled             *bool     // "enabled": mirrors record_state in answers
	OwnedBy             string    // "owned_by": user_name
	OwnedByAgencyID     string    // "owned_by_agency_id"
	AssignedUserNames   []string  // "assigned_user_names"
	AssociatedUserNames []string  // "associated_user_names"
	RegistrationDate    string    // "registration_date": YYYY-MM-DD
	CreatedAt           time.Time // "created_at"
	LastUpdatedAt       time.Time // "last_updated_at"
	Services            []Service // "services_section"

	// Fields holds every other field, as encoding/json decodes it with
	// UseNumber (string, json.Number, bool, nil, []any, map[string]any).
	Fields map[string]any

	// layouts of the decoded timestamps (index into timeLayouts).
	createdAtLayout, lastUpdatedAtLayout uint8
}

// Service is one element of a case's services_section subform.
type Service struct {
	UniqueID                  string // "unique_id": the row key for PATCH merges
	ServiceType               string // "service_type": lookup-service-type id
	ServiceResponseType       string // "service_response_type"
	ServiceImplementingAgency string // "service_implementing_agency": agency unique_id
	ServiceImplemented        string // "service_implemented": implemented / not_implemented
	ServiceStatusReferred     *bool  // "service_status_referred"

	// Fields holds every other field of the row.
	Fields map[string]any
}

// codec binds one JSON key to a typed field. dec receives the value as
// encoding/json decodes it with UseNumber and reports whether it was
// stored typed, losslessly; when it reports false it must have left the
// value untouched, since the value then stays in Fields as it is. enc
// returns the value and whether it is set.
type codec[T any] struct {
	key string
	dec func(t *T, v any) bool
	enc func(t *T) (any, bool)
}

func strCodec[T any](key string, f func(*T) *string) codec[T] {
	return codec[T]{key,
		func(t *T, v any) bool {
			s, ok := v.(string)
			if !ok || s == "" {
				return false
			}
			*f(t) = s
			return true
		},
		func(t *T) (any, bool) { s := *f(t); return s, s != "" }}
}

func boolCodec[T any](key string, f func(*T) **bool) codec[T] {
	return codec[T]{key,
		func(t *T, v any) bool {
			b, ok := v.(bool)
			if !ok {
				return false
			}
			*f(t) = &b
			return true
		},
		func(t *T) (any, bool) {
			p := *f(t)
			if p == nil {
				return nil, false
			}
			return *p, true
		}}
}

func intCodec[T any](key string, f func(*T) **int) codec[T] {
	return codec[T]{key,
		func(t *T, v any) bool {
			num, ok := v.(json.Number)
			if !ok {
				return false
			}
			s := string(num)
			if strings.ContainsAny(s, ".eE") || strings.HasPrefix(s, "-0") {
				return false // 12.0, 1e3, -0 would not re-encode identically
			}
			n, err := strconv.Atoi(s)
			if err != nil {
				return false
			}
			*f(t) = &n
			return true
		},
		func(t *T) (any, bool) {
			p := *f(t)
			if p == nil {
				return nil, false
			}
			return *p, true
		}}
}

func strsCodec[T any](key string, f func(*T) *[]string) codec[T] {
	return codec[T]{key,
		func(t *T, v any) bool {
			list, ok := v.([]any)
			if !ok {
				return false
			}
			ss := make([]string, len(list))
			for i, e := range list {
				s, ok := e.(string)
				if !ok {
					return false
				}
				ss[i] = s
			}
			*f(t) = ss
			return true
		},
		func(t *T) (any, bool) { ss := *f(t); return ss, ss != nil }}
}

// timeLayouts are the timestamp layouts a typed time field accepts; the
// index of the one that reproduced the JSON string exactly is remembered so
// that the field re-encodes byte for byte (Primero writes milliseconds
// with trailing zeros, ".570Z", which RFC 3339 Nano would shorten).
var timeLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05.000Z07:00",
	"2006-01-02T15:04:05.000000Z07:00",
	time.RFC3339,
}

// parseTimeExact returns the index of the first layout in timeLayouts that
// parses s and formats it back to s exactly. The layout the fraction's
// digits call for is tried first (one parse and one format, not four),
// then, should it fail, every layout in order.
func parseTimeExact(s string) (int, bool) {
	if i := likelyLayout(s); i >= 0 && reproduces(timeLayouts[i], s) {
		return i, true
	}
	for i, layout := range timeLayouts {
		if reproduces(layout, s) {
			return i, true
		}
	}
	return 0, false
}

// likelyLayout guesses the first layout of timeLayouts that reproduces s
// from its fraction: none or no trailing zero is RFC 3339 Nano, else 3 or
// 6 digits; -1 when none would.
func likelyLayout(s string) int {
	dot := strings.IndexByte(s, '.')
	if dot < 0 {
		return 0
	}
	n := dot + 1
	for n < len(s) && s[n] >= '0' && s[n] <= '9' {
		n++
	}
	digits := n - dot - 1
	switch {
	case digits >= 1 && digits <= 9 && s[n-1] != '0':
		return 0
	case digits == 3:
		return 1
	case digits == 6:
		return 2
	}
	return -1
}

func reproduces(layout, s string) bool {
	tm, err := time.Parse(layout, s)
	if err != nil {
		return false
	}
	var buf [64]byte
	return string(tm.AppendFormat(buf[:0], layout)) == s
}

func timeCodec[T any](key string, f func(*T) (*time.Time, *uint8)) codec[T] {
	return codec[T]{key,
		func(t *T, v any) bool {
			s, ok := v.(string)
			if !ok {
				return false
			}
			i, ok := parseTimeExact(s)
			if !ok {
				return false // keep an unusual layout verbatim in Fields
			}
			tm, _ := time.Parse(timeLayouts[i], s)
			pt, pl := f(t)
			*pt, *pl = tm, uint8(i)
			return true
		},
		func(t *T) (any, bool) {
			pt, pl := f(t)
			if pt.IsZero() {
				return nil, false
			}
			layout := timeLayouts[0]
			if int(*pl) < len(timeLayouts) {
				layout = timeLayouts[*pl]
			}
			return pt.Format(layout), true
		}}
}

var caseCodecs = []codec[Case]{
	strCodec("id", func(c *Case) *string { return &c.ID }),
	strCodec("case_id", func(c *Case) *string { return &c.CaseID }),
	strCodec("unique_identifier", func(c *Case) *string { return &c.UniqueIdentifier }),
	strCodec("short_id", func(c *Case) *string { return &c.ShortID }),
	strCodec("case_id_display", func(c *Case) *string { return &c.CaseIDDisplay }),
	strCodec("module_id", func(c *Case) *string { return &c.ModuleID }),
	strCodec("name", func(c *Case) *string { return &c.Name }),
	strCodec("name_first", func(c *Case) *string { return &c.NameFirst }),
	strCodec("name_middle", func(c *Case) *string { return &c.NameMiddle }),
	strCodec("name_last", func(c *Case) *string { return &c.NameLast }),
	strCodec("name_nickname", func(c *Case) *string { return &c.NameNickname }),
	strCodec("sex", func(c *Case) *string { return &c.Sex }),
	strCodec("date_of_birth", func(c *Case) *string { return &c.DateOfBirth }),
	intCodec("age", func(c *Case) **int { return &c.Age }),
	strCodec("location_current", func(c *Case) *string { return &c.LocationCurrent }),
	boolCodec("consent_for_services", func(c *Case) **bool { return &c.ConsentForServices }),
	boolCodec("disclosure_other_orgs", func(c *Case) **bool { return &c.DisclosureOtherOrgs }),
	strCodec("status", func(c *Case) *string { return &c.Status }),
	strCodec("workflow", func(c *Case) *string { return &c.Workflow }),
	boolCodec("record_state", func(c *Case) **bool { return &c.RecordState }),
	boolCodec("enabled", func(c *Case) **bool { return &c.Enabled }),
	strCodec("owned_by", func(c *Case) *string { return &c.OwnedBy }),
	strCodec("owned_by_agency_id", func(c *Case) *string { return &c.OwnedByAgencyID }),
	strsCodec("assigned_user_names", func(c *Case) *[]string { return &c.AssignedUserNames }),
	strsCodec("associated_user_names", func(c *Case) *[]string { return &c.AssociatedUserNames }),
	strCodec("registration_date", func(c *Case) *string { return &c.RegistrationDate }),
	timeCodec("created_at", func(c *Case) (*time.Time, *uint8) { return &c.CreatedAt, &c.createdAtLayout }),
	timeCodec("last_updated_at", func(c *Case) (*time.Time, *uint8) { return &c.LastUpdatedAt, &c.lastUpdatedAtLayout }),
	{"services_section",
		func(c *Case, v any) bool {
			rows, ok := v.([]any)
			if !ok {
				return false
			}
			// Check every row before decoding any: decodeTyped consumes
			// its map, and a list refused halfway through would stay in
			// Fields with the typed keys of its first rows gone.
			for _, r := range rows {
				if _, ok := r.(map[string]any); !ok {
					return false
				}
			}
			svcs := make([]Service, len(rows))
			for i, r := range rows {
				svcs[i].Fields = decodeTyped(&svcs[i], serviceIndex, r.(map[string]any))
			}
			c.Services = svcs
			return true
		},
		func(c *Case) (any, bool) {
			if c.Services == nil {
				return nil, false
			}
			rows := make([]any, len(c.Services))
			for i := range c.Services {
				rows[i] = c.Services[i].toMap()
			}
			return rows, true
		}},
}

var serviceCodecs = []codec[Service]{
	strCodec("unique_id", func(s *Service) *string { return &s.UniqueID }),
	strCodec("service_type", func(s *Service) *string { return &s.ServiceType }),
	strCodec("service_response_type", func(s *Service) *string { return &s.ServiceResponseType }),
	strCodec("service_implementing_agency", func(s *Service) *string { return &s.ServiceImplementingAgency }),
	strCodec("service_implemented", func(s *Service) *string { return &s.ServiceImplemented }),
	boolCodec("service_status_referred", func(s *Service) **bool { return &s.ServiceStatusReferred }),
}

func index[T any](cs []codec[T]) map[string]*codec[T] {
	m := make(map[string]*codec[T], len(cs))
	for i := range cs {
		m[cs[i].key] = &cs[i]
	}
	return m
}

var (
	caseIndex    map[string]*codec[Case]
	serviceIndex = index(serviceCodecs)
)

func init() { caseIndex = index(caseCodecs) }

// decodeTyped moves the typed keys of m into t and returns m holding the
// rest (nil when nothing is left). m is consumed.
func decodeTyped[T any](t *T, idx map[string]*codec[T], m map[string]any) map[string]any {
	for k, v := range m {
		if cd, ok := idx[k]; ok && cd.dec(t, v) {
			delete(m, k)
		}
	}
	if len(m) == 0 {
		return nil
	}
	return m
}

// decodeObject decodes a JSON object with UseNumber, then moves the typed keys.
func decodeObject[T any](t *T, idx map[string]*codec[T], b []byte) (map[string]any, error) {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var m map[string]any
	if err := d.Decode(&m); err != nil {
		return nil, err
	}
	if _, err := d.Token(); err != io.EOF {
		return nil, errors.New("primero: trailing data after the JSON object")
	}
	return decodeTyped(t, idx, m), nil
}

func encodeObject[T any](t *T, cs []codec[T], fields map[string]any) map[string]any {
	// The set typed fields first, so that the map is made at its size:
	// most of a case's typed fields are unset, and a map made for all of
	// them costs twice the memory and the time.
	type kv struct {
		key string
		v   any
	}
	var stack [64]kv
	set := stack[:0]
	for i := range cs {
		if v, ok := cs[i].enc(t); ok {
			set = append(set, kv{cs[i].key, v})
		}
	}
	m := make(map[string]any, len(fields)+len(set))
	maps.Copy(m, fields)
	for _, e := range set {
		m[e.key] = e.v
	}
	return m
}

// UnmarshalJSON decodes a case object, typed fields first, the rest into Fields.
func (c *Case) UnmarshalJSON(b []byte) error {
	*c = Case{}
	rest, err := decodeObject(c, caseIndex, b)
	if err != nil {
		return err
	}
	c.Fields = rest
	return nil
}

// MarshalJSON encodes Fields and the set typed fields as one object.
func (c Case) MarshalJSON() ([]byte, error) { return json.Marshal(c.toMap()) }

func (c *Case) toMap() map[string]any { return encodeObject(c, caseCodecs, c.Fields) }

// UnmarshalJSON decodes a services_section row.
func (s *Service) UnmarshalJSON(b []byte) error {
	*s = Service{}
	rest, err := decodeObject(s, serviceIndex, b)
	if err != nil {
		return err
	}
	s.Fields = rest
	return nil
}

// MarshalJSON encodes Fields and the set typed fields as one object.
func (s Service) MarshalJSON() ([]byte, error) { return json.Marshal(s.toMap()) }

func (s *Service) toMap() map[string]any { return encodeObject(s, serviceCodecs, s.Fields) }

// Get returns the value of any field by its JSON key, typed or not, in its
// JSON form (string, bool, int, []string, []any for services...), and
// whether it is present.
func (c *Case) Get(key string) (any, bool) {
	if cd, ok := caseIndex[key]; ok {
		if v, set := cd.enc(c); set {
			return v, true
		}
	}
	v, ok := c.Fields[key]
	return v, ok
}

// ToRecord converts the case into a mapping.Record holding every field:
// Fields as decoded, typed strings as string, booleans as bool, Age as int,
// timestamps as RFC 3339 strings, user name lists as []string and
// services_section as []any of map[string]any. FromRecord inverts it.
func (c *Case) ToRecord() mapping.Record {
	return mapping.Record(c.toMap()).Clone()
}

// FromRecord builds a Case from a mapping.Record. It goes through JSON, so
// any value encoding/json can encode is accepted (time.Time, int64...), and
// ToRecord(FromRecord(r)) keeps every key.
func FromRecord(r mapping.Record) (*Case, error) {
	b, err := json.Marshal(map[string]any(r))
	if err != nil {
		return nil, &ValidationError{Fields: []FieldError{{Path: "record", Reason: "cannot be encoded as JSON"}}}
	}
	c := &Case{}
	if err := c.UnmarshalJSON(b); err != nil {
		return nil, err
	}
	return c, nil
}

// Clone returns a deep copy of the case.
func (c *Case) Clone() *Case {
	cp := *c
	cp.Fields = deepCopyMap(c.Fields)
	if c.AssignedUserNames != nil {
		cp.AssignedUserNames = append([]string{}, c.AssignedUserNames...)
	}
	if c.AssociatedUserNames != nil {
		cp.AssociatedUserNames = append([]string{}, c.AssociatedUserNames...)
	}
	cp.Age = clonePtr(c.Age)
	cp.ConsentForServices = clonePtr(c.ConsentForServices)
	cp.DisclosureOtherOrgs = clonePtr(c.DisclosureOtherOrgs)
	cp.RecordState = clonePtr(c.RecordState)
	cp.Enabled = clonePtr(c.Enabled)
	if c.Services != nil {
		cp.Services = make([]Service, len(c.Services))
		for i, s := range c.Services {
			s.Fields = deepCopyMap(s.Fields)
			s.ServiceStatusReferred = clonePtr(s.ServiceStatusReferred)
			cp.Services[i] = s
		}
	}
	return &cp
}

func clonePtr[T any](p *T) *T {
	if p == nil {
		return nil
	}
	v := *p
	return &v
}

// deepCopyMap copies a JSON-shaped map (nil stays nil).
func deepCopyMap(m map[string]any) map[string]any { return mapping.Record(m).Clone() }

// Bool returns the value of a *bool field, false when unset.
func Bool(p *bool) bool { return p != nil && *p }

// Ptr returns a pointer to v, for the optional typed fields.
func Ptr[T any](v T) *T { return &v }
