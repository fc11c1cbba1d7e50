package primero_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/casebridge/casebridge/primero"
	"github.com/stretchr/testify/assert"
)

// notALists are 200 answers that carry no list: a proxy's "{}", a null or
// non-array data, a list without metadata, an HTML error page.
var notALists = []struct{ name, contentType, body string }{
	{"empty object", "application/json", `{}`},
	{"data null", "application/json", `{"data":null,"metadata":{"total":0,"per":20,"page":1}}`},
	{"data an object", "application/json", `{"data":{},"metadata":{"total":0,"per":20,"page":1}}`},
	{"data a string", "application/json", `{"data":"none","metadata":{"total":0,"per":20,"page":1}}`},
	{"html page", "text/html", `<!DOCTYPE html><html><body>Service maintenance</body></html>`},
	{"empty body", "application/json", ``},
}

// listServer answers GET with body and counts writes.
func listServer(t *testing.T, contentType, body string) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	var writes atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		if r.Method != http.MethodGet {
			writes.Add(1)
			w.Header().Set("Content-Type", "application/json")
			_, _ = io.WriteString(w, `{"data":{"id":"00000000-0000-4000-8000-000000000001","status":"in_progress"}}`)
			return
		}
		w.Header().Set("Content-Type", contentType)
		_, _ = io.WriteString(w, body)
	}))
	t.Cleanup(srv.Close)
	return srv, &writes
}

func TestListAnswerWithoutDataIsAnError(t *testing.T) {
	ctx := context.Background()
	for _, tc := range notALists {
		t.Run(tc.name, func(t *testing.T) {
			srv, writes := listServer(t, tc.contentType, tc.body)
			c := basicClient(t, srv.URL)

			_, _, err := c.Cases.List(ctx, nil)
			assert.ErrorIs(t, err, primero.ErrMalformedAnswer, "Cases.List")
			n := 0
			var allErr error
			for _, err := range c.Cases.All(ctx, nil) {
				if err != nil {
					allErr = err
					continue
				}
				n++
			}
			assert.ErrorIs(t, allErr, primero.ErrMalformedAnswer, "Cases.All")
			assert.Zero(t, n)
			refs, err := c.Referrals.List(ctx, "00000000-0000-4000-8000-000000000001")
			assert.ErrorIs(t, err, primero.ErrMalformedAnswer, "Referrals.List: 'no referral yet' read from a non-answer")
			assert.Empty(t, refs)
			_, _, err = c.Lookups.List(ctx, nil)
			assert.Error(t, err, "Lookups.List")
			_, err = c.Forms.List(ctx, nil)
			assert.Error(t, err, "Forms.List")

			_, _, err = c.Cases.Upsert(ctx, "unhcr_individual_no", "803-00000001", &primero.Case{ModuleID: "primeromodule-cp", NameFirst: "Test"})
			assert.ErrorIs(t, err, primero.ErrMalformedAnswer, "Upsert")
			assert.Zero(t, writes.Load(), "a second case was created from a non-answer")
		})
	}
}

func TestPagedListWithoutMetadataIsAnError(t *testing.T) {
	// Without metadata.total, All cannot know whether more pages follow:
	// stopping after the first page would silently drop the rest.
	srv, _ := listServer(t, "application/json", `{"data":[{"id":"00000000-0000-4000-8000-000000000001"}]}`)
	c := basicClient(t, srv.URL)
	var allErr error
	for _, err := range c.Cases.All(context.Background(), nil) {
		if err != nil {
			allErr = err
		}
	}
	assert.ErrorIs(t, allErr, primero.ErrMalformedAnswer)
	assert.Contains(t, allErr.Error(), "metadata")
	_, _, err := c.Lookups.List(context.Background(), nil)
	assert.ErrorIs(t, err, primero.ErrMalformedAnswer)
}
