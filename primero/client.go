package primero

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/casebridge/casebridge/internal/transport"
)

// DefaultUserAgent is sent unless WithUserAgent is given.
const DefaultUserAgent = "casebridge-primero/1"

// Client talks to one Primero v2 server. It is safe for concurrent use.
//
// A Client never sends credentials Primero has refused: after a 401 every
// call fails at once with an error matching ErrUnauthorized and
// ErrCredentialsRejected, without reaching the server, until ResetAuth
// (pitfall 29). With WithOAuth2 a new token from the source is sent; the
// refused one is not.
type Client struct {
	base       *url.URL
	http       *transport.Client
	basicUser  string
	basicPass  string
	legacy     *legacyLogin // WithLegacyLogin only
	filterable map[string]bool
	// bodyHint is the size of the last raw-decoded body, how much to make
	// room for when an answer has no Content-Length (see readRaw).
	bodyHint atomic.Int64

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
	tcfg := transport.Config{HTTPClient: cfg.httpClient, Retry: cfg.retry, Logger: cfg.logger, UserAgent: ua,
		MaxResponseBytes: cfg.maxBody, StopAfterUnauthorized: true}
	switch cfg.auth {
	case authBasic:
		c.basicUser, c.basicPass = cfg.user, cfg.pass
	case authToken, authOAuth2:
		tcfg.TokenSource = cfg.tokens
	}
	c.http, err = transport.New(tcfg)
	if err != nil {
		return nil, err
	}
	if cfg.auth == authLegacy {
		c.legacy = newLegacyLogin(c, cfg.user, cfg.pass)
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

// ResetAuth lets the client send its credentials again after Primero
// refused them with 401 (and, with WithLegacyLogin, log in again). Call it
// only once the cause is fixed: the password changed on the server, the
// account unlocked (Primero unlocks it 30 minutes after the 6th failed
// attempt). Each reset can cost one more failed attempt toward that lock.
func (c *Client) ResetAuth() {
	c.http.ResetUnauthorized()
	if c.legacy != nil {
		c.legacy.reset()
	}
}

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
	Total      int // metadata.total: every record matching the query, on every page
	Page       int // metadata.page
	Per        int // metadata.per (as Primero applied it, capped at 1000)
}

// do sends one request wrapped as {"data": in} (when in is non-nil), with
// the client's credentials, and decodes the answer into out (when non-nil).
func (c *Client) do(ctx context.Context, method, path string, q url.Values, in any, out any) (int, error) {
	var body any
	if in != nil {
		body = map[string]any{"data": in}
	}
	status, _, err := c.send(ctx, method, c.endpoint(path, q), body, out, c.authorize)
	return status, err
}

// authorize sets the request's credentials: Basic, or the legacy login's
// bearer. WithToken and WithOAuth2 bearers are set by the transport.
func (c *Client) authorize(req *http.Request) error {
	switch {
	case c.basicUser != "":
		req.SetBasicAuth(c.basicUser, c.basicPass)
	case c.legacy != nil:
		tok, err := c.legacy.token(req.Context())
		if err != nil {
			return err
		}
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	return nil
}

// send sends one request with body encoded as JSON (when non-nil), lets
// auth set its credentials (when non-nil), and decodes the answer into out
// (when non-nil and the answer has a body); the body is read and closed
// here. It returns the status and the answer's headers.
func (c *Client) send(ctx context.Context, method string, u *url.URL, body, out any, auth func(*http.Request) error) (int, http.Header, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, nil, errors.New("primero: encoding request body failed")
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), rd)
	if err != nil {
		return 0, nil, errors.New("primero: building request failed")
	}
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if auth != nil {
		if err := auth(req); err != nil {
			return 0, nil, err
		}
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, nil, wrapErr(err)
	}
	defer resp.Body.Close()
	if out != nil && resp.StatusCode != http.StatusNoContent {
		var err error
		if rd, ok := out.(rawDecoder); ok {
			err = readRaw(resp, rd, &c.bodyHint)
		} else {
			err = decodeBody(resp.Body, out)
		}
		if err != nil {
			return resp.StatusCode, nil, decodeErr(method, req.URL, err)
		}
	}
	_, _ = io.Copy(io.Discard, resp.Body) // bounded by the transport's body limit
	return resp.StatusCode, resp.Header, nil
}

// decodeBody is the one place an answer body is decoded: numbers in
// free-form maps stay exact (json.Number); an empty body leaves out
// untouched. The transport has capped the body's size.
func decodeBody(r io.Reader, out any) error {
	dec := json.NewDecoder(r)
	dec.UseNumber()
	if err := dec.Decode(out); err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	return nil
}

// decodeErr explains a body that could not be decoded: too large, or not
// what Primero sends.
func decodeErr(method string, u *url.URL, err error) error {
	if errors.Is(err, transport.ErrResponseTooLarge) {
		return fmt.Errorf("primero: %w (raise WithMaxResponseBytes or ask for smaller pages with ListOptions.Per)", err)
	}
	return &DecodeError{Method: method, URL: transport.RedactURL(u), Err: err}
}

// doData sends one request and returns the object in the answer's
// {"data": …} envelope; an answer without one is a *DecodeError.
func doData[T any](ctx context.Context, c *Client, method, path string, q url.Values, in any) (*T, error) {
	var env struct {
		Data *T `json:"data"`
	}
	if _, err := c.do(ctx, method, path, q, in, &env); err != nil {
		return nil, err
	}
	if env.Data == nil {
		return nil, &DecodeError{Method: method, URL: transport.RedactURL(c.endpoint(path, q)), Err: errNoDataObject}
	}
	return env.Data, nil
}

// listEnvelope is a list answer {"data": [...], "metadata": {...}}. Both
// are pointers so that an answer without them (a proxy's "{}", "data":
// null) is told apart from an empty list.
type listEnvelope[T any] struct {
	Data     *[]T      `json:"data"`
	Metadata *pageMeta `json:"metadata"`
}

// getList sends one request whose answer is a list and returns its items
// and metadata (nil when absent). An answer without a data array is a
// *DecodeError, never an empty list: reading "no answer" as "no records"
// would create a second case or referral.
func getList[T any](ctx context.Context, c *Client, method, path string, q url.Values, in any) ([]T, *pageMeta, int, error) {
	var env listEnvelope[T]
	status, err := c.do(ctx, method, path, q, in, &env)
	if err != nil {
		return nil, nil, status, err
	}
	if env.Data == nil {
		return nil, nil, status, &DecodeError{Method: method, URL: transport.RedactURL(c.endpoint(path, q)), Err: errNoDataArray}
	}
	return *env.Data, env.Metadata, status, nil
}

// getPage fetches one page of a paginated list: every page of every list
// is decoded here. Without metadata the pager could not know whether more
// pages follow, so a page without it is a *DecodeError too.
func getPage[T any](ctx context.Context, c *Client, path string, q url.Values) ([]T, *Response, error) {
	items, meta, status, err := getList[T](ctx, c, http.MethodGet, path, q, nil)
	if err != nil {
		return nil, nil, err
	}
	if meta == nil {
		return nil, nil, &DecodeError{Method: http.MethodGet, URL: transport.RedactURL(c.endpoint(path, q)), Err: errNoMetadata}
	}
	return items, meta.response(status), nil
}

// ErrMalformedAnswer is matched by errors.Is on a *DecodeError: a 2xx
// answer that is not what Primero sends (not JSON, no data, no paging
// metadata), e.g. a proxy's "{}" or an HTML page.
var ErrMalformedAnswer = errors.New("primero: malformed answer")

// shapeError is an answer that is valid JSON of the wrong shape.
type shapeError string

func (e shapeError) Error() string { return string(e) }

const (
	errNoDataArray  shapeError = "the answer has no data array"
	errNoDataObject shapeError = "the answer has no data object"
	errNoMetadata   shapeError = "the list answer has no paging metadata"
)

// DecodeError is a 2xx answer whose body could not be decoded or lacks
// what Primero always sends. errors.Is matches ErrMalformedAnswer.
type DecodeError struct {
	Method, URL string
	Err         error
}

// Error names the request and the problem, never a value of the body.
func (e *DecodeError) Error() string {
	return "primero: " + e.Method + " " + e.URL + ": decoding response: " + describeJSONErr(e.Err)
}

// Unwrap returns the JSON error.
func (e *DecodeError) Unwrap() error { return e.Err }

// Is reports true for ErrMalformedAnswer.
func (e *DecodeError) Is(target error) bool { return target == ErrMalformedAnswer }

// describeJSONErr avoids quoting values from the body.
func describeJSONErr(err error) string {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	var sh shapeError
	switch {
	case errors.As(err, &sh):
		return string(sh)
	case errors.As(err, &se):
		return "invalid JSON at offset " + strconv.FormatInt(se.Offset, 10)
	case errors.As(err, &te):
		// Value is "number 123…" for a number out of range: keep the type only.
		kind, _, _ := strings.Cut(te.Value, " ")
		return "field " + te.Field + " has JSON type " + kind
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "the body ends before the JSON does"
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
