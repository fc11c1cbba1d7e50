package primerotest

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// resp is a decoded response.
type resp struct {
	status int
	header http.Header
	raw    []byte
	body   map[string]any
}

// reqOpt adjusts a test request.
type reqOpt func(*http.Request)

func asUser(name, pass string) reqOpt {
	return func(r *http.Request) { r.SetBasicAuth(name, pass) }
}

func noAuth() reqOpt { return func(r *http.Request) { r.Header.Del("Authorization") } }

func withHeader(k, v string) reqOpt { return func(r *http.Request) { r.Header.Set(k, v) } }

// call sends a request to the fake (Basic as DefaultUser unless changed)
// and decodes a JSON body.
func call(t *testing.T, s *Server, method, path string, body any, opts ...reqOpt) resp {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		enc, err := json.Marshal(b)
		require.NoError(t, err)
		rd = bytes.NewReader(enc)
	}
	req, err := http.NewRequest(method, s.URL()+path, rd)
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	req.SetBasicAuth(DefaultUser, DefaultPassword)
	for _, o := range opts {
		o(req)
	}
	return send(t, http.DefaultClient, req)
}

func send(t *testing.T, c *http.Client, req *http.Request) resp {
	t.Helper()
	res, err := c.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	out := resp{status: res.StatusCode, header: res.Header, raw: raw}
	if strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") {
		require.NoError(t, json.Unmarshal(raw, &out.body), "body: %s", raw)
	}
	return out
}

// data returns body.data as an object.
func (r resp) data(t *testing.T) map[string]any {
	t.Helper()
	d, ok := r.body["data"].(map[string]any)
	require.True(t, ok, "no data object in %s", r.raw)
	return d
}

// list returns body.data as an array of objects.
func (r resp) list(t *testing.T) []map[string]any {
	t.Helper()
	arr, ok := r.body["data"].([]any)
	require.True(t, ok, "no data array in %s", r.raw)
	out := make([]map[string]any, len(arr))
	for i, e := range arr {
		out[i] = e.(map[string]any)
	}
	return out
}

// firstError returns errors[0] of the envelope.
func (r resp) firstError(t *testing.T) map[string]any {
	t.Helper()
	errs, ok := r.body["errors"].([]any)
	require.True(t, ok, "no errors envelope in %s", r.raw)
	require.NotEmpty(t, errs)
	return errs[0].(map[string]any)
}

func dataOf(fields map[string]any) map[string]any { return map[string]any{"data": fields} }

// names returns name_last of each record.
func names(recs []map[string]any) []string {
	out := make([]string, len(recs))
	for i, r := range recs {
		out[i], _ = r["name_last"].(string)
	}
	return out
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func mustURL(t *testing.T, raw string) *url.URL {
	t.Helper()
	u, err := url.Parse(raw)
	require.NoError(t, err)
	return u
}
