package main

import (
	"bytes"
	"context"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/casebridge/casebridge/consent"
	"github.com/casebridge/casebridge/primero/primerotest"
)

func TestNormaliseURL(t *testing.T) {
	same := []string{
		"https://primero.example.org", "https://primero.example.org/", "HTTPS://Primero.Example.ORG",
		"https://primero.example.org:443", "https://primero.example.org/api/v2", "https://primero.example.org/api/v2/",
		"https://primero.example.org?x=1#y",
	}
	for _, u := range same {
		n, err := normaliseURL(u)
		require.NoError(t, err, u)
		assert.Equal(t, "https://primero.example.org", n, u)
	}
	for _, pair := range [][2]string{
		{"http://primero.example.org:80/", "http://primero.example.org"},
		{"http://127.0.0.1:8080", "http://127.0.0.1:8080"},
		{"https://example.org/primero/", "https://example.org/primero"},
		{"http://[::1]:3000", "http://[::1]:3000"},
	} {
		n, err := normaliseURL(pair[0])
		require.NoError(t, err)
		assert.Equal(t, pair[1], n)
	}
	a, _ := identify("https://staging.example.org")
	b, _ := identify("https://primero.example.org")
	assert.NotEqual(t, a.system, b.system)
	assert.True(t, consent.IsIdentifier(a.system))
	_, err := identify("not a url")
	assert.Error(t, err)
}

// TestTwoServersShareOneStateDB: two Primero servers that hold the same
// case ids (here two fakes seeded alike; in life a staging copy of
// production) share one state database. The second server's cases must
// be referred, not skipped as "already referred" because the first
// server's were.
func TestTwoServersShareOneStateDB(t *testing.T) {
	dsn := "sqlite:" + filepath.Join(t.TempDir(), "state.db")
	staging, production := primerotest.NewServer(t), primerotest.NewServer(t)
	staging.AddSyntheticCases(30)
	production.AddSyntheticCases(30)
	require.Equal(t, staging.Cases()[0]["id"], production.Cases()[0]["id"], "the two servers share case ids")

	var out bytes.Buffer
	require.NoError(t, run(context.Background(), &out, []string{"-url", staging.URL(), "-db", dsn}))
	require.NoError(t, run(context.Background(), &out, []string{"-url", production.URL(), "-db", dsn}))

	want := consentedInScope(staging)
	require.NotEmpty(t, want)
	for _, f := range []*primerotest.Server{staging, production} {
		for _, id := range want {
			assert.Len(t, f.Referrals(id), 1, "case %s on %s", id, f.URL())
		}
	}
	// Each server has its own audit trail in the shared database.
	for _, f := range []*primerotest.Server{staging, production} {
		events := trailEvents(t, dsn, f.URL())
		require.NotEmpty(t, events)
		srv, _ := identify(f.URL())
		for _, e := range events {
			assert.Equal(t, srv.system, e.Record.System)
		}
	}
}

// TestResetServerAtSameAddress: a server reset at the same address keeps
// its identity, but the links stored for it name referrals it no longer
// has. They must be dropped, and its cases referred again.
func TestResetServerAtSameAddress(t *testing.T) {
	dsn := "sqlite:" + filepath.Join(t.TempDir(), "state.db")
	before, err := primerotest.Start()
	require.NoError(t, err)
	before.AddSyntheticCases(30)
	addr := before.URL()
	var out bytes.Buffer
	require.NoError(t, run(context.Background(), &out, []string{"-url", addr, "-db", dsn}))
	before.Close()

	after := primerotest.NewServer(t, primerotest.WithAddr(addr[len("http://"):]))
	after.AddSyntheticCases(30)
	require.Equal(t, addr, after.URL())
	out.Reset()
	require.NoError(t, run(context.Background(), &out, []string{"-url", after.URL(), "-db", dsn}))
	want := consentedInScope(after)
	for _, id := range want {
		assert.Len(t, after.Referrals(id), 1, "case %s", id)
	}
	assert.Contains(t, out.String(), "stored links pointed at referrals this Primero does not have")
}
