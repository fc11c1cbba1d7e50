package progrestest

import (
	"crypto/x509"
	"time"
)

// Defaults of a fresh fake (synthetic credentials).
const (
	// DefaultSubscriptionKey is the Ocp-Apim-Subscription-Key both fakes accept.
	DefaultSubscriptionKey = "synthetic-subscription-key"
	// DefaultInboundAPIKey is the API key the DTP fake sends with its pushes.
	DefaultInboundAPIKey = "synthetic-inbound-key"
	// DefaultInboundHeader is the header carrying it. DTP's real header is
	// not public; x-api-key is the only name seen (unconfirmed).
	DefaultInboundHeader = "X-Api-Key"
	// DefaultDTPPrefix is the path the DTP operations are served under.
	DefaultDTPPrefix = "/dtp"
)

// config is what the Options set, for either fake.
type config struct {
	addr            string
	subscriptionKey string
	clock           func() time.Time
	latency         time.Duration
	chaos           *Chaos
	err             error

	// DTP.
	ca               *CA
	pins             []string
	thumbprintHeader string
	prefix           string
	inboundURL       string
	inboundKey       string
	inboundHeader    string
	inboundRoots     *x509.CertPool
	inboundClient    *KeyPair
	partialRedeliver bool
	pushTimeout      time.Duration

	// PING.
	ping PINGConfig
}

func defaultConfig() config {
	return config{
		addr:            "127.0.0.1:0",
		subscriptionKey: DefaultSubscriptionKey,
		clock:           time.Now,
		prefix:          DefaultDTPPrefix,
		inboundKey:      DefaultInboundAPIKey,
		inboundHeader:   DefaultInboundHeader,
		pushTimeout:     DefaultPushTimeout,
		ping:            DefaultPINGConfig(),
	}
}

// Option configures a fake.
type Option func(*config)

// WithAddr sets the listen address (default "127.0.0.1:0", a free port).
func WithAddr(addr string) Option { return func(c *config) { c.addr = addr } }

// WithSubscriptionKey sets the Ocp-Apim-Subscription-Key the fake accepts.
func WithSubscriptionKey(key string) Option { return func(c *config) { c.subscriptionKey = key } }

// WithClock sets the fake's clock (token expiry, certificate validity).
func WithClock(now func() time.Time) Option { return func(c *config) { c.clock = now } }

// WithLatency delays every answer by d.
func WithLatency(d time.Duration) Option { return func(c *config) { c.latency = d } }

// WithCA makes the DTP fake use ca for its server certificate and to verify
// client certificates (default: a fresh CA).
func WithCA(ca *CA) Option { return func(c *config) { c.ca = ca } }

// WithThumbprintPin accepts only client certificates with one of these
// SHA-1 thumbprints (upper-case hex), as APIM's certificate policy can
// (unconfirmed how DTP pins); others get 403.
func WithThumbprintPin(thumbprints ...string) Option {
	return func(c *config) { c.pins = append(c.pins, thumbprints...) }
}

// WithThumbprintHeader requires the client certificate's thumbprint in the
// named header as well (the project docs speak of a thumbprint "included in
// every request"; no such header is public, so this is off by default).
func WithThumbprintHeader(name string) Option { return func(c *config) { c.thumbprintHeader = name } }

// WithDTPPrefix sets the path under which the DTP operations are served
// (default "/dtp").
func WithDTPPrefix(p string) Option { return func(c *config) { c.prefix = p } }

// WithInbound sets where the DTP fake pushes notifications: the URL of the
// integration's Handler, and the API key it sends there in
// DefaultInboundHeader.
func WithInbound(url, apiKey string) Option {
	return func(c *config) { c.inboundURL, c.inboundKey = url, apiKey }
}

// WithInboundHeader sets the header the push's API key goes in.
func WithInboundHeader(name string) Option { return func(c *config) { c.inboundHeader = name } }

// WithInboundTLS trusts roots for an https inbound URL and, when client is
// not nil, presents it (an inbound listener requiring mutual TLS).
func WithInboundTLS(roots *x509.CertPool, client *KeyPair) Option {
	return func(c *config) { c.inboundRoots, c.inboundClient = roots, client }
}

// WithPartialRedelivery makes the DTP fake deliver again only the items
// the handler's answer reports as failed ({"results": [{"index",
// "status": "failed"}]}), instead of the whole notification. Whether the
// real DTP can do either is not public (unconfirmed).
func WithPartialRedelivery() Option { return func(c *config) { c.partialRedeliver = true } }

// DefaultPushTimeout is how long the DTP fake waits for the inbound
// handler's answer to a push.
const DefaultPushTimeout = 30 * time.Second

// WithPushTimeout sets how long the DTP fake waits for the inbound
// handler's answer to a push before it gives up and keeps the notification
// for the next Push (default DefaultPushTimeout; 0 or less keeps it).
func WithPushTimeout(d time.Duration) Option {
	return func(c *config) {
		if d > 0 {
			c.pushTimeout = d
		}
	}
}

// WithPING replaces the PING fake's configuration (see PINGConfig).
func WithPING(p PINGConfig) Option { return func(c *config) { c.ping = p } }
