package transport

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/hashicorp/go-retryablehttp"
	"golang.org/x/oauth2"
)

// MaxErrorBody caps how much of an error response's body is kept (64 KiB).
const MaxErrorBody = 64 << 10

// DefaultTimeout is the per-attempt timeout of the default HTTP client.
const DefaultTimeout = 60 * time.Second

// Config configures a Client. The zero value is usable: default HTTP
// client, default retry policy, no token source, silent logging.
type Config struct {
	// HTTPClient supplies the base RoundTripper, Timeout, Jar and
	// CheckRedirect. It is not modified. Nil means a pooled client with
	// DefaultTimeout.
	HTTPClient *http.Client
	// TokenSource, when set, adds "Authorization: Bearer <token>" to every
	// request through oauth2.Transport. Its failures are never retried.
	TokenSource oauth2.TokenSource
	// Retry is the retry policy; nil means DefaultRetryPolicy.
	Retry *RetryPolicy
	// Logger receives one record per attempt (method, redacted URL, status,
	// attempt, duration). Nil means silent.
	Logger *slog.Logger
	// UserAgent is sent when a request has none.
	UserAgent string
	// MaxResponseBytes caps the body of a response with a status below
	// 400: a longer one fails with a *ResponseTooLargeError. Zero means
	// DefaultMaxResponseBytes. Error bodies are capped at MaxErrorBody.
	MaxResponseBytes int64
	// StopAfterUnauthorized, when true, stops the client from sending
	// credentials the server refused: after a 401 to a request carrying an
	// Authorization header, every later request carrying the same header
	// value fails at once with a *CredentialsRejectedError, without being
	// sent, until ResetUnauthorized. Requests with other credentials (a
	// token source's new token) are sent. For servers that lock an account
	// after a few failed attempts (Primero: 6).
	StopAfterUnauthorized bool
}

// Client sends requests with the retry policy, the optional token source
// and redacted logging. It is safe for concurrent use.
type Client struct {
	rc        *retryablehttp.Client
	policy    RetryPolicy
	logger    *slog.Logger
	userAgent string
	maxBody   int64
	guard     *authGuard // nil unless StopAfterUnauthorized
}

// New builds a Client from cfg after validating it.
func New(cfg Config) (*Client, error) {
	policy := DefaultRetryPolicy()
	if cfg.Retry != nil {
		policy = *cfg.Retry
	}
	if err := policy.Validate(); err != nil {
		return nil, err
	}
	policy = policy.withDefaults()
	if err := RequireNoControl("UserAgent", cfg.UserAgent); err != nil {
		return nil, err
	}
	if cfg.MaxResponseBytes < 0 {
		return nil, NewValidationError("MaxResponseBytes", "must not be negative")
	}
	maxBody := cfg.MaxResponseBytes
	if maxBody == 0 {
		maxBody = DefaultMaxResponseBytes
	}
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	base := http.DefaultTransport
	hc := &http.Client{Timeout: DefaultTimeout}
	if cfg.HTTPClient != nil {
		if cfg.HTTPClient.Transport != nil {
			base = cfg.HTTPClient.Transport
		}
		hc.Timeout = cfg.HTTPClient.Timeout
		hc.Jar = cfg.HTTPClient.Jar
		hc.CheckRedirect = cfg.HTTPClient.CheckRedirect
	}
	var guard *authGuard
	if cfg.StopAfterUnauthorized {
		guard = &authGuard{next: base}
		base = guard
	}
	rt := base
	if cfg.TokenSource != nil {
		rt = &oauth2.Transport{Source: tokenSource{cfg.TokenSource}, Base: base}
	}
	hc.Transport = &logTransport{next: rt, logger: logger}

	rc := retryablehttp.NewClient()
	rc.HTTPClient = hc
	rc.Logger = nil
	rc.RetryMax = policy.MaxRetries
	rc.RetryWaitMin = policy.MinWait
	rc.RetryWaitMax = policy.MaxWait
	rc.CheckRetry = checkRetry
	rc.Backoff = policy.backoff
	rc.ErrorHandler = func(resp *http.Response, err error, attempts int) (*http.Response, error) {
		if resp != nil && err == nil {
			// Retries exhausted on a retryable status: hand back the final
			// response so that the caller decodes it.
			return resp, nil
		}
		if resp != nil {
			resp.Body.Close()
		}
		return nil, err
	}
	return &Client{rc: rc, policy: policy, logger: logger, userAgent: cfg.UserAgent, maxBody: maxBody, guard: guard}, nil
}

// ResetUnauthorized forgets the credentials the server refused, so that the
// next request carrying them is sent again (Config.StopAfterUnauthorized).
// Call it only once the credentials are fixed or the account unlocked:
// each reset may cost one more failed attempt toward a lockout.
func (c *Client) ResetUnauthorized() {
	if c.guard != nil {
		c.guard.reset()
	}
}

// MaxResponseBytes returns the cap on successful response bodies in force.
func (c *Client) MaxResponseBytes() int64 { return c.maxBody }

// Policy returns the retry policy in force.
func (c *Client) Policy() RetryPolicy { return c.policy }

// Logger returns the logger in force (a discarding one when none was set).
func (c *Client) Logger() *slog.Logger { return c.logger }

// Do sends req with retries as the policy allows.
//
// A response with a status below 400 is returned with its body capped at
// the MaxResponseBytes limit (reading past it fails with a
// *ResponseTooLargeError; a larger Content-Length fails at once); the
// caller closes its body. A status of 400 or more is returned as an *HTTPError holding the
// status, headers (credentials removed) and up to MaxErrorBody bytes of body;
// the response itself is closed and nil. A request that got no response at
// all returns a *RequestError (errors.Is works with context.Canceled and
// context.DeadlineExceeded). Mark writes that may be retried with Idempotent
// on the request's context.
func (c *Client) Do(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	st := &callState{method: req.Method, retry: SafeMethod(req.Method) || IsIdempotent(ctx)}
	req = req.WithContext(context.WithValue(ctx, callStateKey{}, st))
	if c.userAgent != "" && req.Header.Get("User-Agent") == "" {
		req.Header.Set("User-Agent", c.userAgent)
	}
	redacted := RedactURL(req.URL)
	rreq, err := retryablehttp.FromRequest(req)
	if err != nil {
		return nil, &RequestError{Method: req.Method, URL: redacted, Err: errors.New("reading request body failed")}
	}
	resp, err := c.rc.Do(rreq)
	if err != nil {
		if resp != nil {
			resp.Body.Close()
		}
		var cre *CredentialsRejectedError
		if errors.As(err, &cre) {
			return nil, cre
		}
		cause := cleanErr(err)
		if ctx.Err() != nil {
			cause = ctx.Err()
		}
		return nil, &RequestError{Method: req.Method, URL: redacted, Attempts: st.attempts, Err: cause}
	}
	if resp.StatusCode < 400 {
		tooLarge := &ResponseTooLargeError{Method: req.Method, URL: redacted, Limit: c.maxBody}
		if resp.ContentLength > c.maxBody {
			resp.Body.Close()
			return nil, tooLarge
		}
		resp.Body = &limitedBody{rc: resp.Body, left: c.maxBody, err: tooLarge}
		return resp, nil
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, MaxErrorBody+1))
	truncated := len(body) > MaxErrorBody
	if truncated {
		body = body[:MaxErrorBody]
	}
	return nil, &HTTPError{
		Method:     req.Method,
		URL:        redacted,
		StatusCode: resp.StatusCode,
		Header:     RedactHeader(resp.Header),
		Body:       body,
		Truncated:  truncated,
		Attempts:   st.attempts,
	}
}

// tokenSource marks token failures so that they are never retried and
// never print the token endpoint's body.
type tokenSource struct{ src oauth2.TokenSource }

// Token returns the wrapped source's token or a *TokenError.
func (t tokenSource) Token() (*oauth2.Token, error) {
	tok, err := t.src.Token()
	if err != nil {
		return nil, &TokenError{Err: err}
	}
	return tok, nil
}

// logTransport logs one record per attempt: method, redacted URL, status
// (0 when no response), attempt number and duration. Nothing else: no
// headers, no bodies, no error texts that might quote a URL.
type logTransport struct {
	next   http.RoundTripper
	logger *slog.Logger
}

// RoundTrip sends one attempt and logs it.
func (t *logTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	attempt := 1
	if st := stateFrom(req.Context()); st != nil {
		st.attempts++
		attempt = st.attempts
	}
	start := time.Now()
	resp, err := t.next.RoundTrip(req)
	status := 0
	level := slog.LevelInfo
	if resp != nil {
		status = resp.StatusCode
		if status >= 400 {
			level = slog.LevelWarn
		}
	} else if err != nil {
		level = slog.LevelWarn
	}
	if t.logger.Enabled(req.Context(), level) {
		t.logger.LogAttrs(req.Context(), level, "http request",
			slog.String("method", req.Method),
			slog.String("url", RedactURL(req.URL)),
			slog.Int("status", status),
			slog.Int("attempt", attempt),
			slog.Duration("duration", time.Since(start)),
		)
	}
	return resp, err
}
