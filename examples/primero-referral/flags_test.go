package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestParseFlagsRefusesBadValues: every bad value is an error naming its
// flag (-cases -5 used to reach the fake and panic there).
func TestParseFlagsRefusesBadValues(t *testing.T) {
	cases := []struct {
		args []string
		flag string
	}{
		{[]string{"-cases", "-5"}, "-cases"},
		{[]string{"-cases", "0"}, "-cases"},
		{[]string{"-cases", "2000000"}, "-cases"},
		{[]string{"-cases", "many"}, "-cases"},
		{[]string{"-progress", "0"}, "-progress"},
		{[]string{"-url", "primero.example.org"}, "-url"},
		{[]string{"-url", "ftp://primero.example.org"}, "-url"},
		{[]string{"-url", "https://someone:secret@primero.example.org"}, "-url"},
		{[]string{"-url", "https://primero.example.org", "-cases", "10"}, "-cases"},
		{[]string{"-location", ""}, "-location"},
		{[]string{"-location", "XX01 XX02"}, "-location"},
		{[]string{"-user", ""}, "-user"},
		{[]string{"-recipient", "primero_api"}, "-recipient"},
		{[]string{"-db", ""}, "-db"},
		{[]string{"-nosuchflag"}, "-nosuchflag"},
		{[]string{"extra"}, "extra"},
	}
	for _, tc := range cases {
		_, err := parseFlags(tc.args)
		if assert.Error(t, err, "%v", tc.args) {
			assert.Contains(t, err.Error(), tc.flag, "%v", tc.args)
			assert.NotContains(t, err.Error(), "secret", "an error never repeats a password")
		}
	}
}

func TestParseFlagsDefaultsAndValues(t *testing.T) {
	c, err := parseFlags(nil)
	require.NoError(t, err)
	assert.Equal(t, config{user: "primero_api", password: c.password, recipient: "synthetic_recipient",
		recipientPass: c.recipientPass, location: "XX01", cases: 60, progress: 1000}, c)

	c, err = parseFlags([]string{"-url", "https://primero.example.org/", "-location", "XX02", "-progress", "5", "-db", "state.db"})
	require.NoError(t, err)
	assert.Equal(t, "https://primero.example.org/", c.url)
	assert.Equal(t, "XX02", c.location)
	assert.Equal(t, 5, c.progress)
	assert.Equal(t, "state.db", c.dsn)
}

// TestHelpExitsZero: -h prints the flags on stdout and exits 0; a bad flag
// exits 2 with the flag named on stderr, and nothing is run.
func TestHelpExitsZero(t *testing.T) {
	_, err := parseFlags([]string{"-h"})
	assert.True(t, errors.Is(err, flag.ErrHelp))

	var stdout, stderr bytes.Buffer
	assert.Equal(t, 0, exitStatus(context.Background(), []string{"-h"}, &stdout, &stderr))
	assert.Contains(t, stdout.String(), "-cases")
	assert.Contains(t, stdout.String(), "-db")
	assert.Empty(t, stderr.String())

	stdout.Reset()
	assert.Equal(t, 2, exitStatus(context.Background(), []string{"-cases", "-5"}, &stdout, &stderr))
	assert.Contains(t, stderr.String(), "-cases")
	assert.Empty(t, stdout.String(), "nothing ran")
}
