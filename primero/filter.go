package primero

import (
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/casebridge/casebridge/internal/transport"
)

// MaxPer is Primero's page size cap (pitfall 15): larger values are
// silently reduced by the server, so the client refuses them.
const MaxPer = 1000

// idFilterFields are always filterable and matched as exact strings, never
// split on commas nor converted (docs/systems/primero.md; Primero's Child#filterable_id_fields).
var idFilterFields = []string{"unique_identifier", "short_id", "case_id_display", "case_id",
	"client_code", "ration_card_no", "icrc_ref_no", "rc_id_no", "unhcr_id_no", "unhcr_individual_no",
	"un_no", "other_agency_id", "survivor_code_no", "national_id_no", "other_id_no", "biometrics_id",
	"family_count_no", "dss_id", "camp_id", "tent_number", "nfi_distribution_id", "oscar_number",
	"registry_no", "family_number"}

// otherFilterFields are the other names Primero filters on (docs/systems/primero.md: always
// filterable, filterable with read permission, and the case-only ones).
var otherFilterFields = []string{"record_in_scope", "associated_user_names",
	"not_edited_by_owner", "has_photo", "survivor_code", "created_at", "has_incidents",
	"record_state", "sex", "age", "registration_date", "date_closure", "reassigned_transferred_on",
	"current_alert_types", "location_current", "reporting_location_hierarchy", "followup_dates",
	"reunification_dates", "tracing_dates", "service_implemented_day_times",
	"owned_by", "owned_by_agency_id", "owned_by_groups", "assigned_user_names", "created_by",
	"created_by_agency", "last_updated_at", "last_updated_by", "previously_owned_by",
	"consent_for_services", "disclosure_other_orgs", "case_type", "identified_by",
	"workflow", "status"}

var idFieldSet = func() map[string]bool {
	m := map[string]bool{}
	for _, f := range idFilterFields {
		m[f] = true
	}
	return m
}()

// reservedParams are list controls, never filters.
var reservedParams = map[string]bool{"page": true, "per": true, "order": true, "order_by": true,
	"fields": true, "query": true, "id_search": true, "phonetic": true, "phone_number": true,
	"or": true, "not": true}

func builtinFilterable(extra []string) map[string]bool {
	m := make(map[string]bool, len(idFilterFields)+len(otherFilterFields)+len(extra))
	for _, f := range idFilterFields {
		m[f] = true
	}
	for _, f := range otherFilterFields {
		m[f] = true
	}
	for _, f := range extra {
		m[f] = true
	}
	return m
}

var fieldNameRe = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)

func validFieldName(s string) bool { return fieldNameRe.MatchString(s) }

// IsFilterable reports whether Primero's case list accepts name as a
// filter: the built-in names (docs/systems/primero.md) plus WithFilterableFields.
func (c *Client) IsFilterable(name string) bool { return c.filterable[name] }

// Filter is one condition of a case list query. Build filters with the
// functions of this package; field names are checked against the
// filterable names before sending.
type Filter struct {
	kind   filterKind
	field  string
	values []string // eq: the values (OR); range: lo, hi ("" = open); bool: "true"/"false"; raw/loc: one value
	inner  []Filter // or, not
}

type filterKind int

const (
	kindEq filterKind = iota + 1
	kindRange
	kindBool
	kindLoc
	kindOr
	kindNot
	kindRaw
)

// Eq matches cases whose field equals one of the values (a value list is an
// OR). Strings match exactly and case-sensitively. An ID field (case_id,
// unhcr_individual_no, ...) takes exactly one value.
func Eq(field string, values ...string) Filter {
	return Filter{kind: kindEq, field: field, values: values}
}

// BoolFilter matches a boolean field (record_state, consent_for_services, ...).
func BoolFilter(field string, v bool) Filter {
	return Filter{kind: kindBool, field: field, values: []string{strconv.FormatBool(v)}}
}

// IntRange matches lo <= field <= hi (inclusive, pitfall 4: "children" is 0..17).
// There is no open numeric range: for numbers one Primero code path compares
// "a.." with NULL and may match nothing (unconfirmed), so give both bounds.
func IntRange(field string, lo, hi int) Filter {
	return Filter{kind: kindRange, field: field, values: []string{strconv.Itoa(lo), strconv.Itoa(hi)}}
}

// DateRange matches dates from..to inclusive (YYYY-MM-DD, in UTC).
func DateRange(field string, from, to time.Time) Filter {
	return Filter{kind: kindRange, field: field, values: []string{dateString(from), dateString(to)}}
}

// DateSince matches dates on or after from (an open range "from..").
func DateSince(field string, from time.Time) Filter {
	return Filter{kind: kindRange, field: field, values: []string{dateString(from), ""}}
}

// TimeRange matches timestamps from..to inclusive (RFC 3339 in UTC).
func TimeRange(field string, from, to time.Time) Filter {
	return Filter{kind: kindRange, field: field, values: []string{timeString(from), timeString(to)}}
}

// TimeSince matches timestamps at or after from (an open range "from..").
// There is no "before" filter: Primero drops "..b" silently (pitfall 4);
// use TimeRange with an explicit lower bound.
func TimeSince(field string, from time.Time) Filter {
	return Filter{kind: kindRange, field: field, values: []string{timeString(from), ""}}
}

// Loc matches a location field equal to code or to any of its
// descendants ("loc:field=CODE").
func Loc(field, code string) Filter {
	return Filter{kind: kindLoc, field: field, values: []string{code}}
}

// Or matches when any of the filters matches ("or[f1]=x&or[f2]=y"). Each
// inner filter is an Eq, BoolFilter or range on a distinct field.
func Or(filters ...Filter) Filter { return Filter{kind: kindOr, inner: filters} }

// Not negates one Eq, BoolFilter or range filter ("not[f]=x").
func Not(f Filter) Filter { return Filter{kind: kindNot, inner: []Filter{f}} }

// Raw is the escape hatch: name=value sent as given. The name must still
// be a filterable name (pitfall 3) and the value must not be empty or an
// open-below range "..b" (pitfall 4).
func Raw(name, value string) Filter {
	return Filter{kind: kindRaw, field: name, values: []string{value}}
}

// Status matches the case status (open, closed, transferred, identified).
func Status(values ...string) Filter { return Eq("status", values...) }

// Sex matches the sex lookup ids.
func Sex(values ...string) Filter { return Eq("sex", values...) }

// AgeBetween matches lo <= age <= hi.
func AgeBetween(lo, hi int) Filter { return IntRange("age", lo, hi) }

// UpdatedSince matches cases whose last_updated_at is at or after t.
func UpdatedSince(t time.Time) Filter { return TimeSince("last_updated_at", t) }

// Enabled matches record_state (true: not soft-deleted).
func Enabled(v bool) Filter { return BoolFilter("record_state", v) }

// LocatedIn matches location_current within the location code.
func LocatedIn(code string) Filter { return Loc("location_current", code) }

// OwnedBy matches owned_by.
func OwnedBy(userNames ...string) Filter { return Eq("owned_by", userNames...) }

func dateString(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02")
}

func timeString(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

// render validates f and adds it to q under prefix ("" at top level, "or"
// or "not" inside a group). Errors name the filter by its position.
func (c *Client) renderFilter(q url.Values, f Filter, path, prefix string, v *transport.ValidationError) {
	key := func(field string) string {
		if prefix == "" {
			return field
		}
		return prefix + "[" + field + "]"
	}
	checkField := func() bool {
		switch {
		case f.field == "":
			v.Add(path+".field", "is empty")
		case reservedParams[f.field]:
			v.Add(path+".field", "names a list parameter, not a filter: "+f.field)
		case !validFieldName(f.field) || !c.filterable[f.field]:
			v.Add(path+".field", "unknown filter "+strconv.Quote(safeName(f.field))+": Primero would ignore it and return every case in scope (declare form fields with WithFilterableFields)")
		default:
			if q.Has(key(f.field)) {
				v.Add(path+".field", "filter on "+f.field+" given twice")
				return false
			}
			return true
		}
		return false
	}
	checkValue := func(i int, s string) bool {
		switch {
		case s == "":
			v.Add(path+".values["+itoa(i)+"]", "is empty (Primero would compare with null)")
		case strings.ContainsAny(s, "\x00\r\n"):
			v.Add(path+".values["+itoa(i)+"]", "contains control characters")
		default:
			return true
		}
		return false
	}
	switch f.kind {
	case kindEq:
		ok := checkField()
		if len(f.values) == 0 {
			v.Add(path+".values", "no value")
			return
		}
		if idFieldSet[f.field] && len(f.values) > 1 {
			v.Add(path+".values", "ID field "+f.field+" matches one exact value; use Or or several queries")
			return
		}
		for i, s := range f.values {
			if !checkValue(i, s) {
				ok = false
				continue
			}
			if !idFieldSet[f.field] && (strings.Contains(s, ",") || strings.Contains(s, "..")) {
				v.Add(path+".values["+itoa(i)+"]", "contains ',' or '..', which Primero would read as a list or a range")
				ok = false
			}
		}
		if ok {
			q.Set(key(f.field), strings.Join(f.values, ","))
		}
	case kindBool:
		if checkField() {
			q.Set(key(f.field), f.values[0])
		}
	case kindRange:
		ok := checkField()
		lo, hi := f.values[0], f.values[1]
		if lo == "" {
			// "..b" is silently dropped by Primero (pitfall 4).
			v.Add(path+".from", "a range needs a lower bound: Primero silently drops \"..b\"")
			return
		}
		if ok {
			q.Set(key(f.field), lo+".."+hi)
		}
	case kindLoc:
		if prefix != "" {
			v.Add(path, "a loc: filter cannot be nested in Or or Not")
			return
		}
		if checkField() && checkValue(0, f.values[0]) {
			if strings.ContainsAny(f.values[0], ",.") {
				v.Add(path+".values[0]", "a location code contains no ',' or '.'")
				return
			}
			q.Set("loc:"+f.field, f.values[0])
		}
	case kindOr, kindNot:
		name := "or"
		if f.kind == kindNot {
			name = "not"
		}
		if prefix != "" {
			v.Add(path, name+" cannot be nested")
			return
		}
		if len(f.inner) == 0 || (f.kind == kindNot && len(f.inner) != 1) {
			v.Add(path, name+" needs filters")
			return
		}
		for i, in := range f.inner {
			if in.kind == kindOr || in.kind == kindNot {
				v.Add(path+"."+name+"["+itoa(i)+"]", "cannot nest "+name)
				continue
			}
			c.renderFilter(q, in, path+"."+name+"["+itoa(i)+"]", name, v)
		}
	case kindRaw:
		ok := checkField()
		if checkValue(0, f.values[0]) && strings.HasPrefix(f.values[0], "..") {
			v.Add(path+".value", "an open-below range \"..b\" is silently dropped by Primero (pitfall 4)")
			return
		}
		if ok && f.values[0] != "" {
			q.Set(key(f.field), f.values[0])
		}
	default:
		v.Add(path, "is the zero Filter; build filters with Eq, Loc, Or...")
	}
}

// safeName shortens a field name for an error message.
func safeName(s string) string {
	if len(s) > 64 {
		s = s[:64] + "..."
	}
	return s
}

// ListOptions selects and pages a case list.
type ListOptions struct {
	// Page is 1-based (0 means 1). All ignores it.
	Page int
	// Per is the page size, 1..1000 (0 means Primero's default of 20 for
	// List, 1000 for All). Larger values are refused (pitfall 15).
	Per int
	// OrderBy and Order sort the list. List's default is the server's,
	// created_at desc; All's is created_at asc (see CasesService.All).
	OrderBy string
	Order   string // "asc" or "desc"
	// Fields restricts the returned fields ("short" or field names).
	Fields []string
	// Query is Primero's free-text search over ID fields (substring).
	Query string
	// Filters are ANDed.
	Filters []Filter
	// OnPage, when set, is called by All with each page's Response (its
	// Total counts every matching case) before the page's cases are
	// yielded. List ignores it: it returns the Response.
	OnPage func(*Response)
}

// listValues renders the options as a query, or returns a *ValidationError
// naming every refused filter. No request is sent with invalid options.
func (c *Client) listValues(o *ListOptions) (url.Values, error) {
	q := url.Values{}
	v := &transport.ValidationError{}
	if o == nil {
		return q, nil
	}
	if o.Page < 0 {
		v.Add("ListOptions.Page", "must not be negative")
	} else if o.Page > 0 {
		q.Set("page", strconv.Itoa(o.Page))
	}
	if o.Per < 0 || o.Per > MaxPer {
		v.Add("ListOptions.Per", "must be between 1 and 1000: Primero silently caps larger pages (pitfall 15)")
	} else if o.Per > 0 {
		q.Set("per", strconv.Itoa(o.Per))
	}
	if o.OrderBy != "" {
		if !validFieldName(o.OrderBy) {
			v.Add("ListOptions.OrderBy", "is not a field name")
		}
		q.Set("order_by", o.OrderBy)
	}
	switch o.Order {
	case "":
	case "asc", "desc":
		q.Set("order", o.Order)
	default:
		v.Add("ListOptions.Order", "must be asc or desc (Primero reads anything else as asc)")
	}
	if len(o.Fields) > 0 {
		for i, f := range o.Fields {
			if !validFieldName(f) {
				v.Add("ListOptions.Fields["+itoa(i)+"]", "is not a field name")
			}
		}
		q.Set("fields", strings.Join(o.Fields, ","))
	}
	if o.Query != "" {
		q.Set("query", o.Query)
	}
	for i, f := range o.Filters {
		c.renderFilter(q, f, "ListOptions.Filters["+itoa(i)+"]", "", v)
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	return q, nil
}

// RenderFilters returns the query string the filters render to, or the
// *ValidationError that would refuse them; it sends nothing.
func (c *Client) RenderFilters(filters ...Filter) (string, error) {
	q, err := c.listValues(&ListOptions{Filters: filters})
	if err != nil {
		return "", err
	}
	return q.Encode(), nil
}
