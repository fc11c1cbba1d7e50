package primero

import (
	"context"
	"encoding/json"
	"errors"
	"iter"
	"net/http"
	"net/url"

	"github.com/casebridge/casebridge/internal/transport"
)

// CasesService reads and writes cases: /api/v2/cases.
type CasesService struct{ c *Client }

// List returns one page of cases and its paging metadata (Response.Total
// counts every matching case). Invalid options (an unknown filter, per
// above 1000, "..b") fail with a *ValidationError before any request; an
// answer that is not a list page is a *DecodeError.
func (s *CasesService) List(ctx context.Context, opts *ListOptions) ([]*Case, *Response, error) {
	q, err := s.c.listValues(opts)
	if err != nil {
		return nil, nil, err
	}
	return getCasePage(ctx, s.c, q)
}

// caseFromMap builds a Case from a decoded JSON object, consuming m.
func caseFromMap(m map[string]any) *Case {
	c := &Case{}
	c.Fields = decodeTyped(c, caseIndex, m)
	return c
}

// All iterates over every case matching opts, fetching pages lazily (per
// 1000 unless opts.Per is set). It stops at break, and yields an error
// once, as the last item.
//
// The order is opts.OrderBy and opts.Order, by default created_at and
// ascending (List's default direction is Primero's, desc). Paging is by
// offset, so rows shift when cases change during the run: a case already
// yielded on the previous page is skipped. created_at asc is stable. With
// a field that changes, such as last_updated_at, a case updated during
// the run moves to the end (it may be yielded again, with its new value)
// and the cases behind it move up one place, so one of them can be missed
// at a page boundary: a cursor sync should start each run again from its
// saved cursor, which picks such a case up.
//
// opts.OnPage, when set, is called with each page's Response (Total
// counts every matching case) before the page's cases are yielded.
// Memory stays flat: one page and the ids of the last two pages.
func (s *CasesService) All(ctx context.Context, opts *ListOptions) iter.Seq2[*Case, error] {
	return func(yield func(*Case, error) bool) {
		o := ListOptions{}
		if opts != nil {
			o = *opts
		}
		o.Page = 0
		if o.OrderBy == "" {
			o.OrderBy = "created_at"
		}
		if o.Order == "" {
			o.Order = "asc"
		}
		if o.Per == 0 {
			o.Per = MaxPer
		}
		q, err := s.c.listValues(&o)
		if err != nil {
			yield(nil, err)
			return
		}
		prev, cur := map[string]struct{}{}, map[string]struct{}{}
		fetch := func(ctx context.Context, q url.Values) ([]*Case, *Response, error) { return getCasePage(ctx, s.c, q) }
		for page, err := range pagesOf(ctx, q, o.Per, o.OnPage, fetch) {
			if err != nil {
				yield(nil, err)
				return
			}
			for i, c := range page {
				page[i] = nil // the page does not hold a case once yielded
				if c.ID != "" {
					if _, seen := prev[c.ID]; seen {
						continue
					}
					if _, seen := cur[c.ID]; seen {
						continue
					}
					cur[c.ID] = struct{}{}
				}
				if !yield(c, nil) {
					return
				}
			}
			prev, cur = cur, prev
			clear(cur)
		}
	}
}

// Get returns the case with the record UUID id (not case_id, not short_id).
func (s *CasesService) Get(ctx context.Context, id string) (*Case, error) {
	if err := checkID("id", id); err != nil {
		return nil, err
	}
	return doData[Case](ctx, s.c, http.MethodGet, "cases/"+url.PathEscape(id), nil, nil)
}

// Create creates a case. When c.ID is set (a client-made UUID) Primero
// answers 204 with no body; Create then reads the case back. A duplicate
// id or case_id is a 409 (ErrConflict): the case exists, possibly outside
// the caller's scope (pitfall 5). Create is never retried.
func (s *CasesService) Create(ctx context.Context, c *Case) (*Case, error) {
	if c == nil {
		return nil, transport.NewValidationError("case", "is nil")
	}
	var env struct {
		Data *Case `json:"data"`
	}
	status, err := s.c.do(ctx, http.MethodPost, "cases", nil, c.toMap(), &env)
	if err != nil {
		return nil, err
	}
	if status == http.StatusNoContent || env.Data == nil {
		if c.ID == "" {
			return nil, errors.New("primero: create answered without data and no id was sent")
		}
		return s.Get(ctx, c.ID)
	}
	return env.Data, nil
}

// Update sends a PATCH deep merge (see docs/systems/primero.md) and returns what Primero
// answers: id, enabled, last_updated_at and the changed fields. Build the
// patch with Patch helpers or PatchFrom; it is validated first (subform
// rows with _destroy need a unique_id, an empty subform array is refused
// because Primero treats it as a no-op).
func (s *CasesService) Update(ctx context.Context, id string, p Patch) (*Case, error) {
	if err := checkID("id", id); err != nil {
		return nil, err
	}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	return doData[Case](ctx, s.c, http.MethodPatch, "cases/"+url.PathEscape(id), nil, map[string]any(p))
}

// Delete disables the case (a soft delete: record_state false). Re-enable
// with Update(ctx, id, Patch{"record_state": true}).
func (s *CasesService) Delete(ctx context.Context, id string) error {
	if err := checkID("id", id); err != nil {
		return err
	}
	_, err := s.c.do(ctx, http.MethodDelete, "cases/"+url.PathEscape(id), nil, nil, nil)
	return err
}

// UpsertResult says what Upsert did.
type UpsertResult struct {
	Created bool   // a new case was created
	ID      string // the record UUID of the created or updated case
}

// Upsert finds the case whose field equals key and updates it with c (as a
// PATCH of c's set fields), or creates c when none matches. It refuses an
// empty key and a field that is not filterable (pitfall 3), checks that
// each returned case really carries the key (a case that does not means
// the filter was ignored: ErrFilterIgnored), and returns an
// *AmbiguousMatchError listing the ids when several cases match
// (pitfall 2). The search covers only the caller's scope (pitfall 5).
func (s *CasesService) Upsert(ctx context.Context, field, key string, c *Case) (*Case, UpsertResult, error) {
	v := &transport.ValidationError{}
	if c == nil {
		v.Add("case", "is nil")
	}
	if key == "" {
		v.Add("key", "is empty: an empty key would match every case")
	}
	if !s.c.filterable[field] {
		v.Add("field", "is not a filterable field; Primero would ignore the filter")
	}
	if c != nil && key != "" {
		if cv, ok := c.Get(field); ok && stringValue(cv) != key {
			v.Add("case."+field, "differs from the upsert key")
		}
	}
	if err := v.Err(); err != nil {
		return nil, UpsertResult{}, err
	}
	opts := &ListOptions{Per: 100, Fields: []string{"id", field}, Filters: []Filter{Raw(field, key)}}
	if !idFieldSet[field] {
		opts.Filters = []Filter{Eq(field, key)}
	}
	var ids []string
	for hit, err := range s.All(ctx, opts) {
		if err != nil {
			return nil, UpsertResult{}, err
		}
		got, _ := hit.Get(field)
		if stringValue(got) != key {
			return nil, UpsertResult{}, ErrFilterIgnored
		}
		ids = append(ids, hit.ID)
	}
	switch len(ids) {
	case 0:
		nc := c.Clone()
		if _, ok := nc.Get(field); !ok {
			if nc.Fields == nil {
				nc.Fields = map[string]any{}
			}
			nc.Fields[field] = key
		}
		out, err := s.Create(ctx, nc)
		if err != nil {
			return nil, UpsertResult{}, err
		}
		return out, UpsertResult{Created: true, ID: out.ID}, nil
	case 1:
		p := Patch(c.toMap())
		delete(p, "id")
		out, err := s.Update(ctx, ids[0], p)
		if err != nil {
			return nil, UpsertResult{}, err
		}
		return out, UpsertResult{ID: ids[0]}, nil
	default:
		return nil, UpsertResult{}, &AmbiguousMatchError{Field: field, IDs: ids}
	}
}

func stringValue(v any) string {
	switch t := v.(type) {
	case string:
		return t
	case json.Number:
		return t.String()
	case nil:
		return ""
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// checkID refuses an empty id or one that would change the URL path.
func checkID(path, id string) error {
	if id == "" {
		return transport.NewValidationError(path, "is empty")
	}
	for _, r := range id {
		if r == '/' || r == '?' || r == '#' || r < 0x20 {
			return transport.NewValidationError(path, "contains characters not allowed in an id")
		}
	}
	if id == "." || id == ".." {
		return transport.NewValidationError(path, "is not an id")
	}
	return nil
}
