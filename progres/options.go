package progres

import (
	"crypto/tls"
	"crypto/x509"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/casebridge/casebridge/internal/transport"
	"golang.org/x/oauth2"
)

// Option configures a DTPClient or a PINGClient. Options validate their
// arguments; NewDTP and NewPING return the first error, and refuse an
// option that belongs to the other gateway.
type Option func(*config) error

type config struct {
	httpClient      *http.Client
	retry           *RetryPolicy
	logger          *slog.Logger
	userAgent       string
	subscriptionKey string

	// DTP only.
	certs            []tls.Certificate
	rootCAs          *x509.CertPool
	thumbprintHeader string
	opURLs           map[DTPOperation]string

	// PING only.
	grant     *PasswordGrant
	tokens    oauth2.TokenSource
	partnerID string
	interopID string
	processes *ShippingProcesses
	columns   *Columns
	pageLimit int
	now       func() time.Time

	dtpOnly, pingOnly []string // names of the gateway-specific options used
}

// WithSubscriptionKey sets the Azure API Management subscription key, sent
// as Ocp-Apim-Subscription-Key on every call (required for both gateways).
func WithSubscriptionKey(key string) Option {
	return func(c *config) error {
		if err := requireHeaderValue("WithSubscriptionKey.key", key); err != nil {
			return err
		}
		c.subscriptionKey = key
		return nil
	}
}

// WithHTTPClient supplies the base HTTP client (its RoundTripper, Timeout
// and Jar); it is not modified. Redirects are never followed, whatever its
// CheckRedirect says. For DTP its Transport must be nil or an
// *http.Transport, which is cloned to present the client certificate.
func WithHTTPClient(hc *http.Client) Option {
	return func(c *config) error {
		if hc == nil {
			return transport.NewValidationError("WithHTTPClient.hc", "must not be nil")
		}
		c.httpClient = hc
		return nil
	}
}

// WithRetry sets the retry policy for the requests that change nothing
// (PING fetch and status checks). DTP operations and PING ingestion are
// writes and are never retried.
func WithRetry(p RetryPolicy) Option {
	return func(c *config) error {
		if err := p.Validate(); err != nil {
			return err
		}
		c.retry = &p
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
		if err := requireHeaderValue("WithUserAgent.ua", ua); err != nil {
			return err
		}
		c.userAgent = ua
		return nil
	}
}

// requireHeaderValue refuses an empty value or one that would corrupt a header.
func requireHeaderValue(path, v string) error {
	if err := transport.RequireString(path, v); err != nil {
		return err
	}
	return transport.RequireNoControl(path, v)
}

// applyOptions runs opts on a fresh config for gateway ("DTP" or "PING")
// and refuses the other gateway's options.
func applyOptions(opts []Option, gateway string) (*config, error) {
	cfg := &config{}
	for i, o := range opts {
		if o == nil {
			return nil, transport.NewValidationError("opts["+itoa(i)+"]", "is nil")
		}
		if err := o(cfg); err != nil {
			return nil, err
		}
	}
	if cfg.subscriptionKey == "" {
		return nil, transport.NewValidationError("WithSubscriptionKey", "is required")
	}
	other := cfg.pingOnly
	if gateway == "PING" {
		other = cfg.dtpOnly
	}
	if len(other) > 0 {
		return nil, transport.NewValidationError(other[0], "is not an option of "+gateway)
	}
	return cfg, nil
}

// transportConfig is the shared part of both clients' transports.
func (c *config) transportConfig(defaultUA string) transport.Config {
	ua := c.userAgent
	if ua == "" {
		ua = defaultUA
	}
	return transport.Config{HTTPClient: noRedirects(c.httpClient), Retry: c.retry, Logger: c.logger, UserAgent: ua}
}

// noRedirects returns a copy of hc (or a default client) that does not
// follow redirects: Go would follow a 302 to a POST with a GET, and a
// gateway's login page answering 200 would look like a delivered referral.
// The clients treat any answer other than 2xx as an error.
func noRedirects(hc *http.Client) *http.Client {
	c := &http.Client{Timeout: transport.DefaultTimeout}
	if hc != nil {
		*c = *hc
	}
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return c
}

// checkStatus refuses an answer that is not 2xx (a redirect, since they
// are not followed); transport.Client.Do already returned 4xx and 5xx as
// errors.
func checkStatus(resp *http.Response) error {
	if resp.StatusCode/100 == 2 {
		return nil
	}
	return &APIError{Method: resp.Request.Method, URL: transport.RedactURL(resp.Request.URL), StatusCode: resp.StatusCode}
}

// validHeaderName accepts an HTTP header token.
func validHeaderName(s string) bool {
	if s == "" {
		return false
	}
	return onlyRunes(s, func(r rune) bool { return isAlnum(r) || strings.ContainsRune("!#$%&'*+-.^_`|~", r) })
}
