package progres

import (
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/casebridge/casebridge/internal/transport"
	"golang.org/x/oauth2"
)

// PasswordGrant is the Azure AD B2C resource-owner password grant PING
// uses. Tenant and policy are configuration, never a built-in test tenant
// (pitfall 30).
type PasswordGrant struct {
	// TokenURL is the full token endpoint. When empty it is built as
	// <Origin>/<Tenant>.onmicrosoft.com/<Policy>/oauth2/v2.0/token.
	TokenURL string
	// Origin defaults to https://<Tenant>.b2clogin.com.
	Origin string
	Tenant string // e.g. "contoso" (without .onmicrosoft.com)
	Policy string // the ROPC user flow, e.g. "B2C_1_ROPC"

	ClientID string
	Scope    string // e.g. https://<tenant>.onmicrosoft.com/<api>/API.Read
	Username string
	Password string
	// Geo is sent as the x-ms-cpim-geo cookie, as the earlier integration's adaptor
	// does ("EU" when empty; "-" sends no cookie).
	Geo string
}

// tokenURL validates g and returns its token endpoint.
func (g PasswordGrant) tokenURL() (string, error) {
	v := &ValidationError{}
	for _, f := range []struct{ path, val string }{
		{"PasswordGrant.ClientID", g.ClientID}, {"PasswordGrant.Scope", g.Scope},
		{"PasswordGrant.Username", g.Username}, {"PasswordGrant.Password", g.Password},
	} {
		if strings.TrimSpace(f.val) == "" {
			v.Add(f.path, "is required")
		}
	}
	if g.Geo != "" && !validHeaderName(g.Geo) {
		v.Add("PasswordGrant.Geo", "is not a valid cookie value")
	}
	raw := g.TokenURL
	if raw == "" {
		if !pathSegment(g.Tenant) {
			v.Add("PasswordGrant.Tenant", "is required: letters, digits, '-' or '_'")
		}
		if !pathSegment(g.Policy) {
			v.Add("PasswordGrant.Policy", "is required: letters, digits, '-' or '_'")
		}
		origin := g.Origin
		if origin == "" {
			origin = "https://" + g.Tenant + ".b2clogin.com"
		}
		raw = strings.TrimRight(origin, "/") + "/" + g.Tenant + ".onmicrosoft.com/" + g.Policy + "/oauth2/v2.0/token"
	}
	if err := v.Err(); err != nil {
		return "", err
	}
	if _, err := parseGatewayURL("PasswordGrant.TokenURL", raw); err != nil {
		return "", err
	}
	return raw, nil
}

// pathSegment accepts an id that is safe in a URL path.
func pathSegment(s string) bool {
	if s == "" || len(s) > 100 {
		return false
	}
	return onlyRunes(s, func(r rune) bool { return isAlnum(r) || r == '-' || r == '_' })
}

// parseGatewayURL accepts https, or http to a loopback host (the fakes).
func parseGatewayURL(path, raw string) (*url.URL, error) {
	u, err := transport.ParseBaseURL(raw)
	if err != nil {
		return nil, transport.NewValidationError(path, "is not an absolute http(s) URL without credentials, query or fragment")
	}
	if u.Scheme == "http" {
		host := u.Hostname()
		if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
			return nil, transport.NewValidationError(path, "must be https (http only to a loopback host)")
		}
	}
	return u, nil
}

// WithPasswordGrant authenticates PING calls with tokens from the B2C
// password grant. The token is reused until shortly before it expires,
// then renewed; after a 401 it is renewed once and the call repeated once.
func WithPasswordGrant(g PasswordGrant) Option {
	return func(c *config) error {
		if _, err := g.tokenURL(); err != nil {
			return err
		}
		c.grant = &g
		c.pingOnly = append(c.pingOnly, "WithPasswordGrant")
		return nil
	}
}

// WithTokenSource takes PING bearer tokens from ts instead of a password
// grant (wrap it in oauth2.ReuseTokenSource to cache).
func WithTokenSource(ts oauth2.TokenSource) Option {
	return func(c *config) error {
		if ts == nil {
			return transport.NewValidationError("WithTokenSource.ts", "must not be nil")
		}
		c.tokens = ts
		c.pingOnly = append(c.pingOnly, "WithTokenSource")
		return nil
	}
}

// WithDeployment sets the PartnerId (PNR-nnnn) and the interop id
// (INT-nnnn) PING issued for the deployment. Required for PING.
func WithDeployment(partnerID, interopID string) Option {
	return func(c *config) error {
		if !pathSegment(partnerID) {
			return transport.NewValidationError("WithDeployment.partnerID", "is required: letters, digits, '-' or '_'")
		}
		if !pathSegment(interopID) {
			return transport.NewValidationError("WithDeployment.interopID", "is required: letters, digits, '-' or '_'")
		}
		c.partnerID, c.interopID = partnerID, interopID
		c.pingOnly = append(c.pingOnly, "WithDeployment")
		return nil
	}
}

// ShippingProcesses are the ShippingProcessId of each PING operation,
// issued per deployment. DefaultShippingProcesses has the ids of the
// pilot deployment.
type ShippingProcesses struct {
	PendingInterventions string // list of referrals waiting for Primero (fetch)
	InterventionDetail   string // rows of one intervention (fetch, {record_ids})
	TransferStatus       string // set transfer status / send Primero's decision (sync ingestion)
	Decisions            string // list of decisions on Primero's referrals (fetch)
	DecisionDetail       string // one decision (fetch, {record_ids})
	MarkSynced           string // mark a decision synced with Primero (sync ingestion)
	CreateReferral       string // a new proGres referral from Primero (async ingestion, checkstatus)
}

// DefaultShippingProcesses returns the pilot deployment's ids.
func DefaultShippingProcesses() ShippingProcesses {
	return ShippingProcesses{
		PendingInterventions: "SHP-2747", InterventionDetail: "SHP-2358", TransferStatus: "SHP-2748",
		Decisions: "SHP-2795", DecisionDetail: "SHP-2796", MarkSynced: "SHP-2284", CreateReferral: "SHP-2731",
	}
}

func (p ShippingProcesses) validate() error {
	v := &ValidationError{}
	for _, f := range []struct{ path, val string }{
		{"PendingInterventions", p.PendingInterventions}, {"InterventionDetail", p.InterventionDetail},
		{"TransferStatus", p.TransferStatus}, {"Decisions", p.Decisions}, {"DecisionDetail", p.DecisionDetail},
		{"MarkSynced", p.MarkSynced}, {"CreateReferral", p.CreateReferral},
	} {
		if !pathSegment(f.val) {
			v.Add("ShippingProcesses."+f.path, "is required: letters, digits, '-' or '_'")
		}
	}
	return v.Err()
}

// WithShippingProcesses sets the deployment's ShippingProcessIds.
func WithShippingProcesses(p ShippingProcesses) Option {
	return func(c *config) error {
		if err := p.validate(); err != nil {
			return err
		}
		c.processes = &p
		c.pingOnly = append(c.pingOnly, "WithShippingProcesses")
		return nil
	}
}

// WithColumns sets the column names the typed PING rows are read from
// (the aliases of each shipping process's query differ by operation and
// deployment).
func WithColumns(cols Columns) Option {
	return func(c *config) error {
		if err := cols.validate(); err != nil {
			return err
		}
		c.columns = &cols
		c.pingOnly = append(c.pingOnly, "WithColumns")
		return nil
	}
}

// WithMaxPages bounds how many pages one lazy fetch reads (default 10000),
// a guard against a gateway that never stops saying more records are
// available.
func WithMaxPages(n int) Option {
	return func(c *config) error {
		if err := transport.RequireRange("WithMaxPages.n", n, 1, 1_000_000); err != nil {
			return err
		}
		c.pageLimit = n
		c.pingOnly = append(c.pingOnly, "WithMaxPages")
		return nil
	}
}

// withClock sets the clock deciding token renewal (tests).
func withClock(now func() time.Time) Option {
	return func(c *config) error { c.now = now; return nil }
}
