package primerotest

import (
	"encoding/json"
	"net/http"
	"net/url"

	"github.com/casebridge/casebridge/internal/fakeserver"
)

// Request is one request the server received, with secrets redacted.
type Request struct {
	Method string
	Path   string     // URL path
	Query  url.Values // decoded query
	// Header has every credential header (Authorization, Cookie,
	// X-CSRF-Token, API keys, …) replaced by "[REDACTED]".
	Header http.Header
	// Body is the raw body; in a POST /api/v2/tokens body the password is
	// replaced by "[REDACTED]".
	Body []byte
	// Fault is the fault the request got (FaultNone: none).
	Fault Fault
}

// Redacted replaces a secret in a recorded request.
const Redacted = fakeserver.Redacted

// bodyRedaction returns how r's recorded body is redacted: the password
// of a login, nothing otherwise.
func bodyRedaction(r *http.Request) func([]byte) []byte {
	if r.Method == http.MethodPost && r.URL.Path == "/api/v2/tokens" {
		return redactPassword
	}
	return nil
}

// redactPassword replaces user.password in a login body.
func redactPassword(body []byte) []byte {
	var v map[string]any
	if json.Unmarshal(body, &v) != nil {
		return body
	}
	u, ok := v["user"].(map[string]any)
	if !ok {
		return body
	}
	if _, ok := u["password"]; ok {
		u["password"] = Redacted
	}
	b, err := json.Marshal(v)
	if err != nil {
		return body
	}
	return b
}

// Requests returns every request received, in order of arrival (of
// concurrent requests, in the order the server took them).
func (s *Server) Requests() []Request {
	all := s.log.All()
	out := make([]Request, len(all))
	for i, r := range all {
		out[i] = Request{Method: r.Method, Path: r.Path, Query: r.Query, Header: r.Header, Body: r.Body, Fault: r.Fault}
	}
	return out
}

// ResetRequests forgets the recorded requests.
func (s *Server) ResetRequests() { s.log.Reset() }
