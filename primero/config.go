package primero

import (
	"context"
	"encoding/json"
	"iter"
	"net/http"
	"net/url"
	"strconv"

	"github.com/casebridge/casebridge/internal/transport"
)

// Text is a localized string, {"en": "...", "fr": "..."}. A plain JSON
// string decodes as {"en": s}.
type Text map[string]string

// UnmarshalJSON accepts an object of strings, a string, or null.
func (t *Text) UnmarshalJSON(b []byte) error {
	var s string
	if json.Unmarshal(b, &s) == nil {
		*t = Text{"en": s}
		return nil
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		return err
	}
	out := make(Text, len(m))
	for k, v := range m {
		if s, ok := v.(string); ok {
			out[k] = s
		}
	}
	*t = out
	return nil
}

// Form is a form section (GET /api/v2/forms).
type Form struct {
	ID          FlexInt     `json:"id"`
	UniqueID    string      `json:"unique_id"`
	Name        Text        `json:"name"`
	ParentForm  string      `json:"parent_form"`
	IsNested    bool        `json:"is_nested"`
	Visible     bool        `json:"visible"`
	FormGroupID string      `json:"form_group_id"`
	ModuleIDs   []string    `json:"module_ids"`
	Fields      []FormField `json:"fields"`
}

// FormField is one field of a form.
type FormField struct {
	Name        string `json:"name"`
	Type        string `json:"type"` // text_field, date_field, tick_box, select_box, subform...
	DisplayName Text   `json:"display_name"`
	// OptionStringsSource names the option source: "lookup lookup-x",
	// "Location", "Agency", "User".
	OptionStringsSource string          `json:"option_strings_source"`
	OptionStringsText   json.RawMessage `json:"option_strings_text,omitempty"`
	MultiSelect         bool            `json:"multi_select"`
	DateIncludeTime     bool            `json:"date_include_time"`
	Required            bool            `json:"required"`
	Visible             bool            `json:"visible"`
	SubformSectionID    json.RawMessage `json:"subform_section_id,omitempty"`
}

// IntID returns the form's integer id.
func (f *Form) IntID() int { return f.ID.int() }

// FormOptions filters GET /api/v2/forms.
type FormOptions struct {
	RecordType      string // e.g. "case"
	ModuleID        string // e.g. "primeromodule-cp"
	ExcludeSubforms bool
}

// FormsService reads forms (not paginated).
type FormsService struct{ c *Client }

// List returns every form matching opts.
func (s *FormsService) List(ctx context.Context, opts *FormOptions) ([]*Form, error) {
	q := url.Values{}
	if opts != nil {
		if opts.RecordType != "" {
			q.Set("record_type", opts.RecordType)
		}
		if opts.ModuleID != "" {
			q.Set("module_id", opts.ModuleID)
		}
		if opts.ExcludeSubforms {
			q.Set("exclude_subforms", "true")
		}
	}
	forms, _, _, err := getList[*Form](ctx, s.c, http.MethodGet, "forms", q, nil)
	return forms, err
}

// Get returns the form with the integer id.
func (s *FormsService) Get(ctx context.Context, id int) (*Form, error) {
	return doData[Form](ctx, s.c, http.MethodGet, "forms/"+strconv.Itoa(id), nil, nil)
}

// Lookup is a value list (GET /api/v2/lookups); records store LookupValue.ID.
type Lookup struct {
	ID       FlexInt       `json:"id"`
	UniqueID string        `json:"unique_id"`
	Name     Text          `json:"name"`
	Locked   bool          `json:"locked"`
	Values   []LookupValue `json:"values"`
}

// LookupValue is one option of a lookup.
type LookupValue struct {
	ID          string `json:"id"`
	DisplayText Text   `json:"display_text"`
}

// Has reports whether the lookup has a value with this id.
func (l *Lookup) Has(id string) bool {
	for _, v := range l.Values {
		if v.ID == id {
			return true
		}
	}
	return false
}

// Location is a location (GET /api/v2/locations?hierarchy=true).
type Location struct {
	ID         FlexInt  `json:"id"`
	Code       string   `json:"code"`
	Type       string   `json:"type"`
	Disabled   bool     `json:"disabled"`
	Name       Text     `json:"name"`
	AdminLevel int      `json:"admin_level"`
	Placename  Text     `json:"placename"`
	Hierarchy  []string `json:"hierarchy"` // ancestor codes, root first
}

// User is a Primero user (staff, not a case subject).
type User struct {
	ID                 FlexInt  `json:"id"`
	UserName           string   `json:"user_name"`
	FullName           string   `json:"full_name"`
	Code               string   `json:"code"`
	Email              string   `json:"email"`
	Phone              string   `json:"phone"`
	Position           string   `json:"position"`
	Agency             string   `json:"agency"`
	Location           string   `json:"location"`
	Disabled           bool     `json:"disabled"`
	Services           []string `json:"services"`
	UserGroupUniqueIDs []string `json:"user_group_unique_ids"`
}

// Agency is an agency (GET /api/v2/agencies).
type Agency struct {
	ID          FlexInt  `json:"id"`
	UniqueID    string   `json:"unique_id"`
	AgencyCode  string   `json:"agency_code"`
	Name        Text     `json:"name"`
	Description Text     `json:"description"`
	Services    []string `json:"services"`
	Disabled    bool     `json:"disabled"`
}

// PageOptions pages a configuration list.
type PageOptions struct {
	Page int // 1-based; 0 means 1
	Per  int // 1..1000; 0 means the server default
}

func (o *PageOptions) values() (url.Values, error) {
	q := url.Values{}
	if o == nil {
		return q, nil
	}
	if o.Page < 0 {
		return nil, transport.NewValidationError("PageOptions.Page", "must not be negative")
	}
	if o.Per < 0 || o.Per > MaxPer {
		return nil, transport.NewValidationError("PageOptions.Per", "must be between 1 and 1000 (pitfall 15)")
	}
	if o.Page > 0 {
		q.Set("page", strconv.Itoa(o.Page))
	}
	if o.Per > 0 {
		q.Set("per", strconv.Itoa(o.Per))
	}
	return q, nil
}

// listAll pages through a configuration list, 1000 per page.
func listAll[T any](ctx context.Context, c *Client, path string, base url.Values) iter.Seq2[*T, error] {
	return func(yield func(*T, error) bool) {
		q := url.Values{}
		for k, v := range base {
			q[k] = v
		}
		q.Set("per", strconv.Itoa(MaxPer))
		for items, err := range pages[*T](ctx, c, path, q, MaxPer, nil) {
			if err != nil {
				yield(nil, err)
				return
			}
			for _, it := range items {
				if !yield(it, nil) {
					return
				}
			}
		}
	}
}

// LookupsService reads lookups.
type LookupsService struct{ c *Client }

// List returns one page of lookups.
func (s *LookupsService) List(ctx context.Context, opts *PageOptions) ([]*Lookup, *Response, error) {
	q, err := opts.values()
	if err != nil {
		return nil, nil, err
	}
	return getPage[*Lookup](ctx, s.c, "lookups", q)
}

// All iterates over every lookup.
func (s *LookupsService) All(ctx context.Context) iter.Seq2[*Lookup, error] {
	return listAll[Lookup](ctx, s.c, "lookups", nil)
}

// Get returns the lookup with the unique_id (e.g. "lookup-service-type").
func (s *LookupsService) Get(ctx context.Context, uniqueID string) (*Lookup, error) {
	if err := transport.RequireString("uniqueID", uniqueID); err != nil {
		return nil, err
	}
	for l, err := range s.All(ctx) {
		if err != nil {
			return nil, err
		}
		if l.UniqueID == uniqueID {
			return l, nil
		}
	}
	return nil, notFound("lookups", "lookup not found")
}

// LocationsService reads locations (with hierarchy).
type LocationsService struct{ c *Client }

// List returns one page of locations, with their hierarchy.
func (s *LocationsService) List(ctx context.Context, opts *PageOptions) ([]*Location, *Response, error) {
	q, err := opts.values()
	if err != nil {
		return nil, nil, err
	}
	q.Set("hierarchy", "true")
	return getPage[*Location](ctx, s.c, "locations", q)
}

// All iterates over every location, with its hierarchy.
func (s *LocationsService) All(ctx context.Context) iter.Seq2[*Location, error] {
	return listAll[Location](ctx, s.c, "locations", url.Values{"hierarchy": {"true"}})
}

// UsersService reads users.
type UsersService struct{ c *Client }

// List returns one page of users.
func (s *UsersService) List(ctx context.Context, opts *PageOptions) ([]*User, *Response, error) {
	q, err := opts.values()
	if err != nil {
		return nil, nil, err
	}
	return getPage[*User](ctx, s.c, "users", q)
}

// All iterates over every user.
func (s *UsersService) All(ctx context.Context) iter.Seq2[*User, error] {
	return listAll[User](ctx, s.c, "users", nil)
}

// Get returns the user with the user_name, looked up by name (never by
// taking a page and hoping the user is in it, pitfall 15).
func (s *UsersService) Get(ctx context.Context, userName string) (*User, error) {
	if err := transport.RequireString("userName", userName); err != nil {
		return nil, err
	}
	users, _, err := getPage[*User](ctx, s.c, "users", url.Values{"user_name": {userName}})
	if err != nil {
		return nil, err
	}
	for _, u := range users {
		if u.UserName == userName {
			return u, nil
		}
	}
	return nil, notFound("users", "user not found")
}

// AgenciesService reads agencies.
type AgenciesService struct{ c *Client }

// List returns one page of agencies.
func (s *AgenciesService) List(ctx context.Context, opts *PageOptions) ([]*Agency, *Response, error) {
	q, err := opts.values()
	if err != nil {
		return nil, nil, err
	}
	return getPage[*Agency](ctx, s.c, "agencies", q)
}

// All iterates over every agency.
func (s *AgenciesService) All(ctx context.Context) iter.Seq2[*Agency, error] {
	return listAll[Agency](ctx, s.c, "agencies", nil)
}
