package main

import (
	"github.com/casebridge/casebridge/primero/primerotest"
)

// primeroFake serves primerotest.
type primeroFake struct{}

// Name implements fake.
func (primeroFake) Name() string { return "primero" }

// Start implements fake: the Primero fake with n synthetic cases.
func (primeroFake) Start(addr string, n int) (running, error) {
	s, err := primerotest.Start(primerotest.WithAddr(addr))
	if err != nil {
		return nil, err
	}
	s.AddSyntheticCases(n)
	return primeroRunning{s}, nil
}

// primeroRunning is a started Primero fake.
type primeroRunning struct{ s *primerotest.Server }

// Describe implements running: URL, credentials and a curl example.
func (r primeroRunning) Describe() []string {
	return []string{
		"url: " + r.s.URL(),
		"user: " + primerotest.DefaultUser + " password: " + primerotest.DefaultPassword + " (HTTP Basic, permission all)",
		"recipient: " + primerotest.DefaultRecipient + " password: " + primerotest.DefaultRecipientPassword + " (receives referrals)",
		"example: curl -u " + primerotest.DefaultUser + ":" + primerotest.DefaultPassword + " '" + r.s.URL() + "/api/v2/cases?per=5'",
	}
}

// Close implements running.
func (r primeroRunning) Close() { r.s.Close() }
