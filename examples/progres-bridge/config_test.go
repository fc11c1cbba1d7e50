package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// env is a fake environment for parseConfig.
type env map[string]string

func (e env) get(k string) string { return e[k] }

// realEnv has every secret a real DTP or PING run needs.
var realEnv = env{
	envPrimeroUser: "integration", envPrimeroPassword: "secret-primero-pass",
	envSubscriptionKey: "secret-subscription", envInboundKey: "secret-inbound-key-0001",
	envPINGUser: "ping-account", envPINGPassword: "secret-ping-pass",
}

// realDTP are the flags of a complete real DTP run.
var realDTP = []string{"-primero-url", "https://primero.example.org", "-progres-url", "https://dtp.example.org/dtp",
	"-db", "postgres://bridge@db.example.org/casebridge", "-dtp-cert", "c.pem", "-dtp-key", "k.pem",
	"-tls-cert", "s.pem", "-tls-key", "sk.pem"}

// realPING are the flags of a complete real PING run.
var realPING = []string{"-gateway", "ping", "-primero-url", "https://primero.example.org", "-progres-url", "https://ping.example.org",
	"-db", "state.db", "-ping-tenant", "t", "-ping-policy", "B2C_1_ROPC", "-ping-client-id", "id", "-ping-scope", "s",
	"-ping-partner", "p1", "-ping-interop", "i1"}

func with(base []string, more ...string) []string {
	return append(append([]string(nil), base...), more...)
}

// TestConfigRefusesBadValues: every bad flag or missing secret is an error
// naming the flag or the environment variable, and no error repeats a
// secret.
func TestConfigRefusesBadValues(t *testing.T) {
	cases := []struct {
		name string
		args []string
		env  env
		want string
	}{
		{"unknown gateway", []string{"-gateway", "smtp"}, nil, "-gateway"},
		{"negative interval", []string{"-interval", "-5s"}, nil, "-interval"},
		{"interval not a duration", []string{"-interval", "often"}, nil, "-interval"},
		{"start not RFC 3339", []string{"-start", "yesterday"}, nil, "-start"},
		{"empty db", []string{"-db", ""}, nil, "-db"},
		{"password in db URL", []string{"-db", "postgres://bridge:secret-db@db.example.org/x"}, nil, "-db"},
		{"password in db query", []string{"-db", "postgres://db.example.org/x?password=secret-db"}, nil, "-db"},
		{"password in db keywords", []string{"-db", "host=db user=bridge password=secret-db"}, nil, "-db"},
		{"bad listen", []string{"-listen", "8443"}, nil, "-listen"},
		{"cert without key", []string{"-tls-cert", "s.pem"}, nil, "-tls-key"},
		{"client CA without TLS", with(realDTP[:len(realDTP)-4], "-dtp-cert", "c", "-dtp-key", "k", "-tls-client-ca", "ca.pem"), realEnv, "-tls-client-ca"},
		{"blank intake user", []string{"-intake-user", " "}, nil, "-intake-user"},
		{"demo refuses real settings", []string{"-dtp-cert", "c.pem"}, nil, "-dtp-cert"},
		{"DTP flag with PING", with(realPING, "-listen", ":9443"), realEnv, "-listen"},
		{"only primero url", []string{"-primero-url", "https://primero.example.org"}, realEnv, "-progres-url"},
		{"only progres url", []string{"-progres-url", "https://dtp.example.org"}, realEnv, "-primero-url"},
		{"progres url over http", with(realDTP, "-progres-url", "http://dtp.example.org"), realEnv, "-progres-url"},
		{"credentials in a URL", with(realDTP, "-primero-url", "https://u:secret-url@primero.example.org"), realEnv, "-primero-url"},
		{"relative URL", with(realDTP, "-primero-url", "primero.example.org"), realEnv, "-primero-url"},
		{"real run without db", realDTP[:4], realEnv, "-db"},
		{"no Primero user", realDTP, without(realEnv, envPrimeroUser), envPrimeroUser},
		{"no Primero password", realDTP, without(realEnv, envPrimeroPassword), envPrimeroPassword},
		{"no subscription key", realDTP, without(realEnv, envSubscriptionKey), envSubscriptionKey},
		{"no inbound key", realDTP, without(realEnv, envInboundKey), envInboundKey},
		{"short inbound key", realDTP, merge(realEnv, env{envInboundKey: "short"}), envInboundKey},
		{"no DTP certificate", with(realDTP[:6], "-tls-cert", "s", "-tls-key", "k"), realEnv, "-dtp-cert"},
		{"no inbound TLS", with(realDTP[:10]), realEnv, "-tls-cert"},
		{"no PING password", realPING, without(realEnv, envPINGPassword), envPINGPassword},
		{"no PING tenant", with(realPING[:8], "-ping-client-id", "id", "-ping-scope", "s", "-ping-partner", "p", "-ping-interop", "i"), realEnv, "-ping-tenant"},
		{"no PING partner", with(realPING[:16]), realEnv, "-ping-partner"},
		{"unknown flag", []string{"-password", "x"}, nil, "-password"},
		{"stray argument", []string{"extra"}, nil, "extra"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parseConfig(tc.args, tc.env.get)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
			assert.NotContains(t, err.Error(), "secret", "an error never repeats a secret")
		})
	}
}

func without(e env, key string) env {
	out := merge(e, nil)
	delete(out, key)
	return out
}

func merge(a, b env) env {
	out := env{}
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		out[k] = v
	}
	return out
}

// TestConfigDemoDefaults: no flags is the demo, on a temporary SQLite
// file, with a start for the first run, and reads no secret from the
// environment.
func TestConfigDemoDefaults(t *testing.T) {
	c, err := parseConfig(nil, realEnv.get)
	require.NoError(t, err)
	assert.True(t, c.demo)
	assert.True(t, c.tempState)
	assert.Empty(t, c.dsn)
	assert.Equal(t, gatewayDTP, c.gateway)
	assert.Equal(t, "127.0.0.1:0", c.listen)
	assert.Equal(t, demoStart, c.start)
	assert.Zero(t, c.interval)
	assert.Empty(t, c.primeroPassword+c.subscriptionKey+c.inboundKey+c.pingPassword, "the demo uses the fakes' own credentials")
}

// TestConfigRealSystems: URLs and files come from flags, secrets from the
// environment.
func TestConfigRealSystems(t *testing.T) {
	c, err := parseConfig(with(realDTP, "-interval", "5m", "-start", "2026-11-01T00:00:00+01:00", "-tls-client-ca", "ca.pem"), realEnv.get)
	require.NoError(t, err)
	assert.False(t, c.demo)
	assert.Equal(t, "https://dtp.example.org/dtp", c.progresURL)
	assert.Equal(t, 5*time.Minute, c.interval)
	assert.Equal(t, time.Date(2026, 10, 31, 23, 0, 0, 0, time.UTC), c.start)
	assert.Equal(t, ":8443", c.listen)
	assert.Equal(t, "ca.pem", c.clientCA)
	assert.Equal(t, "integration", c.primeroUser)
	assert.Equal(t, "secret-primero-pass", c.primeroPassword)
	assert.Equal(t, "secret-subscription", c.subscriptionKey)
	assert.Equal(t, "secret-inbound-key-0001", c.inboundKey)

	c, err = parseConfig(realPING, realEnv.get)
	require.NoError(t, err)
	assert.Equal(t, gatewayPING, c.gateway)
	assert.Equal(t, "ping-account", c.pingUser)
	assert.Equal(t, "secret-ping-pass", c.pingPassword)
}

// TestHelpAndBadFlagExitStatus: -h prints the flags and the environment
// variables on stdout and exits 0; a bad flag exits 2 naming it on
// stderr, and nothing runs.
func TestHelpAndBadFlagExitStatus(t *testing.T) {
	_, err := parseConfig([]string{"-h"}, env{}.get)
	assert.True(t, errors.Is(err, flag.ErrHelp))

	var stdout, stderr bytes.Buffer
	assert.Equal(t, exitOK, exitStatus(context.Background(), []string{"-h"}, env{}.get, &stdout, &stderr))
	for _, want := range []string{"-gateway", "-interval", "-db", "-listen", envPrimeroPassword, envInboundKey, "PGPASSWORD"} {
		assert.Contains(t, stdout.String(), want)
	}
	assert.Empty(t, stderr.String())

	stdout.Reset()
	assert.Equal(t, exitUsage, exitStatus(context.Background(), []string{"-gateway", "smtp"}, env{}.get, &stdout, &stderr))
	assert.True(t, strings.HasPrefix(stderr.String(), "progres-bridge: -gateway:"), stderr.String())
	assert.Empty(t, stdout.String(), "nothing ran")
}
