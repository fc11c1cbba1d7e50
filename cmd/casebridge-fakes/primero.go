package main

import (
	"github.com/casebridge/casebridge/primero/primerotest"
)

// primeroBearer is the synthetic identity-provider token of -auth bearer.
const primeroBearer = "synthetic-idp-token-1"

// primeroFake serves primerotest.
type primeroFake struct{}

// Name implements fake.
func (primeroFake) Name() string { return "primero" }

// Start implements fake: the Primero fake with n synthetic cases, its
// seeded case forms and lookups (consistent with the cases), and the login
// flow auth. HTTP Basic works in every mode, as on a real Primero.
func (primeroFake) Start(addr string, set settings) (running, error) {
	opts := []primerotest.Option{primerotest.WithAddr(addr)}
	if set.Chaos != nil {
		opts = append(opts, primerotest.WithChaos(*set.Chaos))
	}
	switch set.Auth {
	case "session":
		opts = append(opts, primerotest.WithAuthMode(primerotest.AuthSession))
	case "legacy":
		opts = append(opts, primerotest.WithAuthMode(primerotest.AuthLegacyJWT), primerotest.WithVersion("2.10"))
	case "bearer":
		opts = append(opts, primerotest.WithBearerToken(primeroBearer, primerotest.DefaultUser))
	}
	s, err := primerotest.Start(opts...)
	if err != nil {
		return nil, err
	}
	s.AddSyntheticCases(set.Cases)
	return primeroRunning{s: s, auth: set.Auth}, nil
}

// primeroRunning is a started Primero fake.
type primeroRunning struct {
	s    *primerotest.Server
	auth string
}

// Describe implements running: URL, credentials, the login flow and a curl
// example.
func (r primeroRunning) Describe() []string {
	url := r.s.URL()
	lines := []string{
		"url: " + url,
		"user: " + primerotest.DefaultUser + " password: " + primerotest.DefaultPassword + " (permission all)",
		"recipient: " + primerotest.DefaultRecipient + " password: " + primerotest.DefaultRecipientPassword + " (receives referrals)",
		"auth: " + r.auth,
	}
	switch r.auth {
	case "session":
		lines = append(lines, "login: GET "+url+"/api/v2/primero for the CSRF-TOKEN cookie, then POST /api/v2/tokens "+
			`{"user":{"user_name":…,"password":…}} with X-CSRF-Token; writes send X-CSRF-Token too`)
	case "legacy":
		lines = append(lines, "login: POST "+url+`/api/v2/tokens {"user":{"user_name":…,"password":…}}, then Authorization: Bearer <token>`)
	case "bearer":
		lines = append(lines, "bearer: "+primeroBearer+" (Authorization: Bearer, as "+primerotest.DefaultUser+")")
	}
	return append(lines,
		"forms: "+url+"/api/v2/forms?record_type=case, lookups: "+url+"/api/v2/lookups",
		"example: curl -u "+primerotest.DefaultUser+":"+primerotest.DefaultPassword+" '"+url+"/api/v2/cases?per=5'")
}

// Close implements running.
func (r primeroRunning) Close() { r.s.Close() }
