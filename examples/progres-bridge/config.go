package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/casebridge/casebridge/examples/internal/cliutil"
)

// The environment variables the bridge reads its secrets from. Secrets
// never come from flags: a command line is visible to every user of the
// machine (ps, /proc) and is kept in shell histories.
const (
	envPrimeroUser     = "CASEBRIDGE_PRIMERO_USER"
	envPrimeroPassword = "CASEBRIDGE_PRIMERO_PASSWORD"
	envSubscriptionKey = "CASEBRIDGE_PROGRES_SUBSCRIPTION_KEY"
	envInboundKey      = "CASEBRIDGE_INBOUND_API_KEY"
	envPINGUser        = "CASEBRIDGE_PING_USERNAME"
	envPINGPassword    = "CASEBRIDGE_PING_PASSWORD"
)

// Gateways.
const (
	gatewayDTP  = "dtp"
	gatewayPING = "ping"
)

// demoDBName is the demo's state file with no -db, in a temporary
// directory removed at the end: the demo's fakes start afresh on every
// run, so state kept from an earlier run would describe systems that are
// gone.
const demoDBName = "state.db"

// config is the bridge's configuration: flags and environment, checked.
type config struct {
	// demo is true when neither -primero-url nor -progres-url is given:
	// the bridge starts the fakes in-process.
	demo bool
	// tempState is true when the demo keeps its state in a temporary
	// SQLite file (no -db).
	tempState bool

	primeroURL string
	progresURL string
	gateway    string
	dsn        string
	interval   time.Duration
	start      time.Time
	verbose    bool

	// Primero accounts the flows use (user names, not secrets).
	intakeUser  string
	unhcrUser   string
	unhcrAgency string

	// The inbound endpoint DTP pushes to.
	listen, tlsCert, tlsKey, clientCA string

	// DTP client certificate and the gateway's CA (files).
	dtpCert, dtpKey, dtpCA string

	// PING deployment (not secrets).
	pingTokenURL, pingTenant, pingPolicy, pingClientID, pingScope string
	pingPartner, pingInterop                                      string

	// From the environment.
	primeroUser, primeroPassword string
	subscriptionKey              string
	inboundKey                   string
	pingUser, pingPassword       string
}

// flagStrings are the flags read as text before they are checked.
type flagStrings struct {
	start string
}

// newFlagSet declares the flags into c. It prints nothing itself.
func newFlagSet(c *config, s *flagStrings) *flag.FlagSet {
	fs := flag.NewFlagSet("progres-bridge", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&c.primeroURL, "primero-url", "", "Primero base URL, e.g. https://primero.example.org (with -progres-url; default: the in-process fakes)")
	fs.StringVar(&c.progresURL, "progres-url", "", "the proGres gateway's base URL: DTP's operations base, or PING's host (with -primero-url)")
	fs.StringVar(&c.gateway, "gateway", gatewayDTP, "proGres gateway: dtp (pushes to the inbound endpoint; the Gambella pilot) or ping (polled)")
	fs.StringVar(&c.dsn, "db", "", "state database: a SQLite file path (or sqlite:PATH) or a postgres:// URL without a password (PGPASSWORD or ~/.pgpass supply it); required with real systems (default for the demo: a temporary SQLite file, removed at the end)")
	fs.DurationVar(&c.interval, "interval", 0, "run a cycle of every flow this often until SIGINT or SIGTERM, e.g. 5m (default: one cycle, then exit)")
	fs.StringVar(&s.start, "start", "", "RFC 3339 time the polling flows start from on their first run, when the state holds no cursor yet (later runs resume from the cursor)")
	fs.BoolVar(&c.verbose, "v", false, "log each flow run and HTTP call to stderr (identifiers and counts only)")
	fs.StringVar(&c.intakeUser, "intake-user", "progres_intake", "Primero user who owns the cases created from proGres referrals")
	fs.StringVar(&c.unhcrUser, "unhcr-user", "unhcr_cw", "Primero user that referrals to UNHCR are addressed to")
	fs.StringVar(&c.unhcrAgency, "unhcr-agency", "UNHCR", "service_implementing_agency a service referred to UNHCR names in Primero")
	fs.StringVar(&c.listen, "listen", ":8443", "address of the inbound endpoint DTP pushes to (dtp only)")
	fs.StringVar(&c.tlsCert, "tls-cert", "", "inbound endpoint's TLS certificate (PEM file; dtp, required with real systems)")
	fs.StringVar(&c.tlsKey, "tls-key", "", "inbound endpoint's TLS private key (PEM file)")
	fs.StringVar(&c.clientCA, "tls-client-ca", "", "CA bundle (PEM file) that DTP's client certificate must chain to: mutual TLS on the inbound endpoint (optional)")
	fs.StringVar(&c.dtpCert, "dtp-cert", "", "client certificate presented to DTP (PEM file; dtp, required)")
	fs.StringVar(&c.dtpKey, "dtp-key", "", "its private key (PEM file)")
	fs.StringVar(&c.dtpCA, "dtp-ca", "", "CA bundle (PEM file) to verify DTP's server certificate (default: the system roots)")
	fs.StringVar(&c.pingTokenURL, "ping-token-url", "", "PING's Azure AD B2C token endpoint (default: built from -ping-tenant and -ping-policy)")
	fs.StringVar(&c.pingTenant, "ping-tenant", "", "PING's B2C tenant (ping)")
	fs.StringVar(&c.pingPolicy, "ping-policy", "", "PING's B2C user flow, e.g. B2C_1_ROPC (ping)")
	fs.StringVar(&c.pingClientID, "ping-client-id", "", "PING's B2C client id (ping)")
	fs.StringVar(&c.pingScope, "ping-scope", "", "PING's B2C scope (ping)")
	fs.StringVar(&c.pingPartner, "ping-partner", "", "PING partner id (ping)")
	fs.StringVar(&c.pingInterop, "ping-interop", "", "PING interoperability id (ping)")
	return fs
}

// printUsage writes the command's help to w.
func printUsage(w io.Writer) {
	fmt.Fprintln(w, "Usage: progres-bridge [flags]")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Runs the referral flows between UNHCR's proGres and UNICEF's Primero: proGres referrals")
	fmt.Fprintln(w, "become Primero cases, Primero's decisions go back to proGres, Primero referrals to UNHCR")
	fmt.Fprintln(w, "go to proGres and proGres's decisions come back, each gated by the sharing agreement")
	fmt.Fprintln(w, "and recorded in an audit trail. With no flags it runs against in-process fakes with")
	fmt.Fprintln(w, "made-up data, then again on the same state, to show that nothing is done twice.")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Secrets come from the environment, never from flags:")
	for _, e := range [...][2]string{
		{envPrimeroUser, "Primero integration account"},
		{envPrimeroPassword, "its password"},
		{envSubscriptionKey, "proGres gateway subscription key (Ocp-Apim-Subscription-Key)"},
		{envInboundKey, "API key DTP sends to the inbound endpoint (dtp; at least 16 characters)"},
		{envPINGUser, "PING account (ping)"},
		{envPINGPassword, "its password (ping)"},
		{"PGPASSWORD", "PostgreSQL password, when -db is a postgres:// URL"},
	} {
		fmt.Fprintf(w, "  %-38s %s\n", e[0], e[1])
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Flags:")
	fs := newFlagSet(&config{}, &flagStrings{})
	fs.SetOutput(w)
	fs.PrintDefaults()
}

// parseConfig reads the command line and the environment (through getenv)
// and checks them. -h gives flag.ErrHelp; every other problem is an error
// naming the flag or the environment variable, never repeating a value
// that could be a secret.
func parseConfig(args []string, getenv func(string) string) (config, error) {
	var c config
	var s flagStrings
	set, err := cliutil.ParseFlags(newFlagSet(&c, &s), args)
	if err != nil {
		return c, err
	}
	c.demo = c.primeroURL == "" && c.progresURL == ""
	if !c.demo {
		c.primeroUser, c.primeroPassword = getenv(envPrimeroUser), getenv(envPrimeroPassword)
		c.subscriptionKey = getenv(envSubscriptionKey)
		c.inboundKey = getenv(envInboundKey)
		c.pingUser, c.pingPassword = getenv(envPINGUser), getenv(envPINGPassword)
	}
	return c, c.check(set, s)
}

// problems collects the configuration errors, each naming its flag or
// environment variable.
type problems []error

func (p *problems) flag(name, format string, args ...any) {
	*p = append(*p, fmt.Errorf("-"+name+": "+format, args...))
}

func (p *problems) env(name, format string, args ...any) {
	*p = append(*p, fmt.Errorf(name+": "+format, args...))
}

// check validates the parsed configuration; set names the flags given.
func (c *config) check(set map[string]bool, s flagStrings) error {
	var p problems
	switch c.gateway {
	case gatewayDTP, gatewayPING:
	default:
		p.flag("gateway", "must be dtp or ping")
	}
	if c.interval < 0 {
		p.flag("interval", "must not be negative")
	}
	if s.start != "" {
		t, err := time.Parse(time.RFC3339, s.start)
		if err != nil {
			p.flag("start", "must be an RFC 3339 time, like 2026-01-31T00:00:00Z")
		}
		c.start = t.UTC()
	}
	if set["db"] {
		checkDSN(&p, c.dsn)
	}
	for _, f := range [...]struct{ name, v string }{{"intake-user", c.intakeUser}, {"unhcr-user", c.unhcrUser}, {"unhcr-agency", c.unhcrAgency}} {
		if strings.TrimSpace(f.v) == "" || strings.ContainsAny(f.v, " \t\n") {
			p.flag(f.name, "must be one Primero name, without spaces")
		}
	}
	if c.gateway == gatewayDTP {
		if _, _, err := net.SplitHostPort(c.listen); err != nil {
			p.flag("listen", "must be host:port or :port, like :8443")
		}
		if (c.tlsCert == "") != (c.tlsKey == "") {
			p.flag("tls-key", "-tls-cert and -tls-key go together")
		}
		if c.clientCA != "" && c.tlsCert == "" {
			p.flag("tls-client-ca", "needs -tls-cert and -tls-key: mutual TLS is TLS first")
		}
	} else {
		for _, f := range []string{"listen", "tls-cert", "tls-key", "tls-client-ca", "dtp-cert", "dtp-key", "dtp-ca"} {
			if set[f] {
				p.flag(f, "is a DTP setting: PING is polled, and has no inbound endpoint or client certificate")
			}
		}
	}
	if c.demo {
		c.checkDemo(&p, set)
	} else {
		c.checkReal(&p, set)
	}
	return errors.Join(p...)
}

// demoOnly are the flags the demo refuses: they configure real systems.
var demoOnly = []string{"tls-cert", "tls-key", "tls-client-ca", "dtp-cert", "dtp-key", "dtp-ca",
	"ping-token-url", "ping-tenant", "ping-policy", "ping-client-id", "ping-scope", "ping-partner", "ping-interop"}

func (c *config) checkDemo(p *problems, set map[string]bool) {
	for _, f := range demoOnly {
		if set[f] {
			p.flag(f, "configures a real gateway: give -primero-url and -progres-url too")
		}
	}
	if !set["listen"] {
		c.listen = "127.0.0.1:0" // the fakes push to a free loopback port
	}
	if !set["db"] {
		c.tempState = true
	}
	if !set["unhcr-agency"] {
		c.unhcrAgency = demoAgencyUNHCR
	}
	if c.start.IsZero() {
		c.start = demoStart
	}
}

func (c *config) checkReal(p *problems, set map[string]bool) {
	if c.primeroURL == "" {
		p.flag("primero-url", "is required with -progres-url")
	} else {
		checkURL(p, "primero-url", c.primeroURL, false)
	}
	if c.progresURL == "" {
		p.flag("progres-url", "is required with -primero-url")
	} else {
		checkURL(p, "progres-url", c.progresURL, true)
	}
	if !set["db"] {
		p.flag("db", "is required with real systems: the state (cursors, links, audit trail) must outlive the process")
	}
	requireEnv(p, envPrimeroUser, c.primeroUser)
	requireEnv(p, envPrimeroPassword, c.primeroPassword)
	requireEnv(p, envSubscriptionKey, c.subscriptionKey)
	switch c.gateway {
	case gatewayDTP:
		if c.dtpCert == "" || c.dtpKey == "" {
			p.flag("dtp-cert", "-dtp-cert and -dtp-key are required: DTP authenticates the client certificate")
		}
		if c.tlsCert == "" {
			p.flag("tls-cert", "is required with real systems: the inbound endpoint receives children's data and serves TLS only")
		}
		requireEnv(p, envInboundKey, c.inboundKey)
		if c.inboundKey != "" && len(c.inboundKey) < 16 {
			p.env(envInboundKey, "must be at least 16 characters")
		}
	case gatewayPING:
		if c.pingTokenURL == "" && (c.pingTenant == "" || c.pingPolicy == "") {
			p.flag("ping-tenant", "-ping-tenant and -ping-policy (or -ping-token-url) are required")
		}
		for _, f := range [...]struct{ name, v string }{
			{"ping-client-id", c.pingClientID}, {"ping-scope", c.pingScope}, {"ping-partner", c.pingPartner}, {"ping-interop", c.pingInterop},
		} {
			if f.v == "" {
				p.flag(f.name, "is required with -gateway ping")
			}
		}
		requireEnv(p, envPINGUser, c.pingUser)
		requireEnv(p, envPINGPassword, c.pingPassword)
	}
}

// requireEnv refuses an unset or blank environment variable.
func requireEnv(p *problems, name, v string) {
	if strings.TrimSpace(v) == "" {
		p.env(name, "must be set in the environment")
	}
}

// checkURL refuses what is not an absolute http(s) URL without user
// information; httpsOnly refuses plain http too.
func checkURL(p *problems, name, raw string, httpsOnly bool) {
	u, err := url.Parse(raw)
	switch {
	case err != nil || u.Host == "":
		p.flag(name, "must be an absolute https URL, like https://host.example.org")
	case u.User != nil:
		p.flag(name, "must not hold a user name or password: credentials come from the environment")
	case u.Scheme == "https":
	case u.Scheme == "http" && !httpsOnly:
	default:
		p.flag(name, "must start with https://")
	}
}

// checkDSN refuses an empty -db and a DSN holding a password.
func checkDSN(p *problems, dsn string) {
	if strings.TrimSpace(dsn) == "" {
		p.flag("db", "must be a SQLite file path or a postgres:// URL")
		return
	}
	if u, err := url.Parse(dsn); err == nil && (u.Scheme == "postgres" || u.Scheme == "postgresql") {
		if _, has := u.User.Password(); has || u.Query().Has("password") {
			p.flag("db", "must not hold a password: set PGPASSWORD or use ~/.pgpass")
		}
		return
	}
	if strings.Contains(strings.ToLower(dsn), "password=") {
		p.flag("db", "must not hold a password: set PGPASSWORD or use ~/.pgpass")
	}
}
