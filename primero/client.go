package primero

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strconv"

	"github.com/casebridge/casebridge/internal/transport"
)

// DefaultUserAgent is sent unless WithUserAgent is given.
const DefaultUserAgent = "casebridge-primero/1"

// Client talks to one Primero v2 server. It is safe for concurrent use.
type Client struct {
	base       *url.URL
	http       *transport.Client
	basicUser  string
	basicPass  string
	filterable map[string]bool

	// Cases reads and writes cases.
	Cases *CasesService
	// Referrals lists, creates and decides referrals of cases.
	Referrals *ReferralsService
	// Forms reads form definitions (read-only).
	Forms *FormsService
	// Lookups reads lookups (read-only).
	Lookups *LookupsService
	// Locations reads locations (read-only).
	Locations *LocationsService
	// Users reads users (read-only).
	Users *UsersService
	// Agencies reads agencies (read-only).
	Agencies *AgenciesService
}

// New returns a client for the Primero server at baseURL (scheme and host,
// optionally a path prefix; the client appends /api/v2/...). Exactly one
// auth option is required: WithBasicAuth, WithToken, WithOAuth2 or
// WithLegacyLogin.
func New(baseURL string, opts ...Option) (*Client, error) {
	base, err := transport.ParseBaseURL(baseURL)
	if err != nil {
		return nil, err
	}
	cfg := &config{}
	for i, o := range opts {
		if o == nil {
			return nil, transport.NewValidationError("opts["+itoa(i)+"]", "is nil")
		}
		if err := o(cfg); err != nil {
			return nil, err
		}
	}
	switch {
	case cfg.authCount == 0:
		return nil, transport.NewValidationError("auth", "no auth option: use WithBasicAuth, WithToken, WithOAuth2 or WithLegacyLogin")
	case cfg.authCount > 1:
		return nil, transport.NewValidationError("auth", "more than one auth option given")
	}
	ua := cfg.userAgent
	if ua == "" {
		ua = DefaultUserAgent
	}
	c := &Client{base: base, filterable: builtinFilterable(cfg.filterable)}
	tcfg := transport.Config{HTTPClient: cfg.httpClient, Retry: cfg.retry, Logger: cfg.logger, UserAgent: ua}
	switch cfg.auth {
	case authBasic:
		c.basicUser, c.basicPass = cfg.user, cfg.pass
	case authToken, authOAuth2:
		tcfg.TokenSource = cfg.tokens
	case authLegacy:
		login, err := transport.New(tcfg)
		if err != nil {
			return nil, err
		}
		tcfg.TokenSource = newLegacyTokenSource(base, login, cfg.user, cfg.pass)
	}
	c.http, err = transport.New(tcfg)
	if err != nil {
		return nil, err
	}
	c.Cases = &CasesService{c: c}
	c.Referrals = &ReferralsService{c: c}
	c.Forms = &FormsService{c: c}
	c.Lookups = &LookupsService{c: c}
	c.Locations = &LocationsService{c: c}
	c.Users = &UsersService{c: c}
	c.Agencies = &AgenciesService{c: c}
	return c, nil
}

// BaseURL returns the server's base URL.
func (c *Client) BaseURL() string { return c.base.String() }

// endpoint builds base + /api/v2/ + path with the query.
func (c *Client) endpoint(path string, q url.Values) *url.URL {
	u := *c.base
	u.Path = c.base.Path + "/api/v2/" + path
	u.RawPath = ""
	if len(q) > 0 {
		u.RawQuery = q.Encode()
	}
	return &u
}

// Response carries the status and the paging metadata of a list answer.
type Response struct {
	StatusCode int
	Total      int // metadata.total
	Page       int // metadata.page
	Per        int // metadata.per (as Primero applied it, capped at 1000)
}

// do sends one request and returns the answer's status code; the body is
// read and closed here. in, when non-nil, is wrapped as {"data": in}. out,
// when non-nil and the answer has a body, receives the decoded JSON.
func (c *Client) do(ctx context.Context, method, path string, q url.Values, in any, out any) (int, error) {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(map[string]any{"data": in})
		if err != nil {
			return 0, errors.New("primero: encoding request body failed")
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.endpoint(path, q).String(), body)
	if err != nil {
		return 0, errors.New("primero: building request failed")
	}
	req.Header.Set("Accept", "application/json")
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.basicUser != "" {
		req.SetBasicAuth(c.basicUser, c.basicPass)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, wrapErr(err)
	}
	defer resp.Body.Close()
	if out != nil && resp.StatusCode != http.StatusNoContent {
		dec := json.NewDecoder(resp.Body)
		dec.UseNumber() // numbers in free-form maps stay exact (json.Number)
		if err := dec.Decode(out); err != nil && !errors.Is(err, io.EOF) {
			return resp.StatusCode, &DecodeError{Method: method, URL: transport.RedactURL(req.URL), Err: err}
		}
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, nil
}

// doData sends one request and returns the object in the answer's
// {"data": …} envelope; an answer without one is an error naming what was
// asked for.
func doData[T any](ctx context.Context, c *Client, method, path string, q url.Values, in any, what string) (*T, error) {
	var env struct {
		Data *T `json:"data"`
	}
	if _, err := c.do(ctx, method, path, q, in, &env); err != nil {
		return nil, err
	}
	if env.Data == nil {
		return nil, errors.New("primero: " + what + " answered without data")
	}
	return env.Data, nil
}

// DecodeError is a 2xx answer whose body could not be decoded.
type DecodeError struct {
	Method, URL string
	Err         error
}

// Error names the request, not the body.
func (e *DecodeError) Error() string {
	return "primero: " + e.Method + " " + e.URL + ": decoding response: " + describeJSONErr(e.Err)
}

// Unwrap returns the JSON error.
func (e *DecodeError) Unwrap() error { return e.Err }

// describeJSONErr avoids quoting values from the body.
func describeJSONErr(err error) string {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return "invalid JSON at offset " + strconv.FormatInt(se.Offset, 10)
	case errors.As(err, &te):
		return "field " + te.Field + " has JSON type " + te.Value
	}
	return "invalid response"
}

func itoa(i int) string { return strconv.Itoa(i) }

// pageMeta is Primero's list metadata.
type pageMeta struct {
	Total FlexInt `json:"total"`
	Per   FlexInt `json:"per"`
	Page  FlexInt `json:"page"`
}

func (m pageMeta) response(status int) *Response {
	return &Response{StatusCode: status, Total: m.Total.int(), Per: m.Per.int(), Page: m.Page.int()}
}
