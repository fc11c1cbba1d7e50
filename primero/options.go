package primero

import (
	"log/slog"
	"net/http"

	"github.com/casebridge/casebridge/internal/transport"
	"golang.org/x/oauth2"
)

// Option configures a Client. Options validate their arguments; New
// returns the first error.
type Option func(*config) error

// RetryPolicy says how often and how patiently safe requests are retried.
type RetryPolicy = transport.RetryPolicy

// DefaultRetryPolicy is the policy used when WithRetry is not given.
func DefaultRetryPolicy() RetryPolicy { return transport.DefaultRetryPolicy() }

type authKind int

const (
	authNone authKind = iota
	authBasic
	authToken
	authOAuth2
	authLegacy
)

type config struct {
	auth       authKind
	authCount  int
	user, pass string
	tokens     oauth2.TokenSource
	httpClient *http.Client
	retry      *RetryPolicy
	logger     *slog.Logger
	userAgent  string
	filterable []string
	maxBody    int64
}

func (c *config) setAuth(k authKind) {
	c.auth = k
	c.authCount++
}

// WithBasicAuth authenticates every request with HTTP Basic, the default
// for Primero service accounts (no login call, no session, no CSRF).
func WithBasicAuth(userName, password string) Option {
	return func(c *config) error {
		if err := transport.RequireString("WithBasicAuth.userName", userName); err != nil {
			return err
		}
		if err := transport.RequireString("WithBasicAuth.password", password); err != nil {
			return err
		}
		c.setAuth(authBasic)
		c.user, c.pass = userName, password
		return nil
	}
}

// WithToken sends a fixed bearer token (e.g. an identity-provider JWT) on
// every request.
func WithToken(token string) Option {
	return func(c *config) error {
		if err := transport.RequireString("WithToken.token", token); err != nil {
			return err
		}
		if err := transport.RequireNoControl("WithToken.token", token); err != nil {
			return err
		}
		c.setAuth(authToken)
		c.tokens = oauth2.StaticTokenSource(&oauth2.Token{AccessToken: token, TokenType: "Bearer"})
		return nil
	}
}

// WithOAuth2 takes bearer tokens from ts (identity-provider installs,
// PRIMERO_ID_EXTERNAL=true). Wrap ts in oauth2.ReuseTokenSource to cache.
// A token Primero refuses with 401 is not sent again: calls fail at once
// (ErrCredentialsRejected) for as long as ts returns that token, and go
// out again as soon as it returns another one (a refresh), or after
// Client.ResetAuth. A source that mints a new token for every call thus
// gets one refused request per call: cache it.
func WithOAuth2(ts oauth2.TokenSource) Option {
	return func(c *config) error {
		if ts == nil {
			return transport.NewValidationError("WithOAuth2.ts", "must not be nil")
		}
		c.setAuth(authOAuth2)
		c.tokens = ts
		return nil
	}
}

// WithLegacyLogin logs in with POST /api/v2/tokens and sends the returned
// JWT as a bearer (Primero v2.0 to v2.10). The token is renewed by logging in
// again shortly before it expires. A v2.11+ server answers the login
// without a token; the client then fails with an error advising
// WithBasicAuth (pitfall 30). A refused login is never retried nor posted
// again, and a refused token not sent again, until Client.ResetAuth
// (pitfall 29). The login is bound to the context of the call that needs
// it; other calls waiting for it give up at the end of their own context.
func WithLegacyLogin(userName, password string) Option {
	return func(c *config) error {
		if err := transport.RequireString("WithLegacyLogin.userName", userName); err != nil {
			return err
		}
		if err := transport.RequireString("WithLegacyLogin.password", password); err != nil {
			return err
		}
		c.setAuth(authLegacy)
		c.user, c.pass = userName, password
		return nil
	}
}

// WithHTTPClient supplies the base HTTP client (its RoundTripper, Timeout,
// Jar and CheckRedirect). It is not modified.
func WithHTTPClient(hc *http.Client) Option {
	return func(c *config) error {
		if hc == nil {
			return transport.NewValidationError("WithHTTPClient.hc", "must not be nil")
		}
		c.httpClient = hc
		return nil
	}
}

// WithRetry sets the retry policy for safe requests (GET, PUT, DELETE...).
// Writes (POST, PATCH) are never retried.
func WithRetry(p RetryPolicy) Option {
	return func(c *config) error {
		if err := p.Validate(); err != nil {
			return err
		}
		c.retry = &p
		return nil
	}
}

// DefaultMaxResponseBytes is the cap on an answer's body unless
// WithMaxResponseBytes is given: 64 MiB, room for a page of 1000 large
// cases.
const DefaultMaxResponseBytes = transport.DefaultMaxResponseBytes

// WithMaxResponseBytes caps the body of every successful answer (each
// page of a list, each login): a longer body fails with an error matching
// ErrResponseTooLarge, and reading stops at the cap; a body whose
// Content-Length is larger is not read at all. Error answers keep at most
// 64 KiB whatever the cap. n must be positive.
func WithMaxResponseBytes(n int64) Option {
	return func(c *config) error {
		if n <= 0 {
			return transport.NewValidationError("WithMaxResponseBytes.n", "must be positive")
		}
		c.maxBody = n
		return nil
	}
}

// WithLogger logs one record per HTTP attempt (method, redacted URL,
// status, attempt, duration). Without it the client is silent.
func WithLogger(l *slog.Logger) Option {
	return func(c *config) error {
		if l == nil {
			return transport.NewValidationError("WithLogger.l", "must not be nil")
		}
		c.logger = l
		return nil
	}
}

// WithUserAgent sets the User-Agent header.
func WithUserAgent(ua string) Option {
	return func(c *config) error {
		if err := transport.RequireString("WithUserAgent.ua", ua); err != nil {
			return err
		}
		if err := transport.RequireNoControl("WithUserAgent.ua", ua); err != nil {
			return err
		}
		c.userAgent = ua
		return nil
	}
}

// WithFilterableFields declares form fields of the deployment that the
// integration role may filter on, in addition to the built-in filterable
// names Primero always accepts (docs/systems/primero.md). Filters on any
// other name are refused before sending (pitfall 3).
func WithFilterableFields(names ...string) Option {
	return func(c *config) error {
		for i, n := range names {
			if !validFieldName(n) {
				return transport.NewValidationError("WithFilterableFields["+itoa(i)+"]", "is not a valid field name")
			}
		}
		c.filterable = append(c.filterable, names...)
		return nil
	}
}
