package primerotest

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
)

// Request is one request the server received, with secrets redacted.
type Request struct {
	Method string
	Path   string      // URL path
	Query  url.Values  // decoded query
	Header http.Header // Authorization, Cookie and X-CSRF-Token replaced by "[REDACTED]"
	// Body is the raw body; in a POST /api/v2/tokens body the password is
	// replaced by "[REDACTED]".
	Body []byte
}

// Redacted replaces a secret in a recorded request.
const Redacted = "[REDACTED]"

var secretHeaders = []string{"Authorization", "Cookie", "X-Csrf-Token"}

// recordRequest copies r with its secrets redacted.
func recordRequest(r *http.Request, body []byte) Request {
	h := r.Header.Clone()
	for _, k := range secretHeaders {
		if _, ok := h[k]; ok {
			h[k] = []string{Redacted}
		}
	}
	if r.Method == http.MethodPost && r.URL.Path == "/api/v2/tokens" {
		body = redactPassword(body)
	}
	return Request{
		Method: r.Method,
		Path:   r.URL.Path,
		Query:  r.URL.Query(),
		Header: h,
		Body:   bytes.Clone(body),
	}
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

// Requests returns every request received, in order of arrival.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := slices.Clone(s.requests)
	for i := range out {
		out[i].Header = out[i].Header.Clone()
		out[i].Body = bytes.Clone(out[i].Body)
	}
	return out
}

// ResetRequests forgets the recorded requests.
func (s *Server) ResetRequests() {
	s.mu.Lock()
	s.requests = nil
	s.mu.Unlock()
}
