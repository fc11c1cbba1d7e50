package progres_test

import (
	"sync"
	"testing"
	"time"

	"github.com/casebridge/casebridge/progres"
	"github.com/casebridge/casebridge/progres/progrestest"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"
)

// clock is a settable clock shared by the client and the fake.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2025, 11, 2, 8, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// grantFor is the password grant for the fake.
func grantFor(s *progrestest.PINGServer) progres.PasswordGrant {
	cfg := s.Config()
	return progres.PasswordGrant{Origin: s.URL(), Tenant: cfg.Tenant, Policy: cfg.Policy, ClientID: cfg.ClientID,
		Scope: cfg.Scope, Username: cfg.Username, Password: cfg.Password}
}

// newPING returns a client for the fake with fast retries.
func newPING(t testing.TB, s *progrestest.PINGServer, opts ...progres.Option) *progres.PINGClient {
	t.Helper()
	all := append([]progres.Option{
		progres.WithSubscriptionKey(progrestest.DefaultSubscriptionKey),
		progres.WithPasswordGrant(grantFor(s)),
		progres.WithDeployment(progrestest.DefaultPartnerID, progrestest.DefaultInteropID),
		progres.WithRetry(fastRetry),
	}, opts...)
	c, err := progres.NewPING(s.URL(), all...)
	require.NoError(t, err)
	return c
}

// countPath counts the fake's recorded requests to path.
func countPath(reqs []progrestest.Request, path string) int {
	n := 0
	for _, r := range reqs {
		if r.Path == path {
			n++
		}
	}
	return n
}

const fetchPath = "/primes/fetch/paging/v3/retrievedatawithpaging"

// staticToken is a fixed bearer token source.
type staticToken struct{}

// Token returns a fixed token.
func (staticToken) Token() (*oauth2.Token, error) {
	return &oauth2.Token{AccessToken: "static-token", TokenType: "Bearer"}, nil
}
