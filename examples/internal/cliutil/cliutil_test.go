package cliutil

import (
	"errors"
	"flag"
	"io"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestParseFlags: the flags given are named, -h is flag.ErrHelp, a bad
// flag or a stray argument is an error naming it.
func TestParseFlags(t *testing.T) {
	newFS := func() *flag.FlagSet {
		fs := flag.NewFlagSet("x", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		fs.String("db", "", "")
		fs.Int("n", 1, "")
		return fs
	}
	set, err := ParseFlags(newFS(), []string{"-db", "s.db"})
	require.NoError(t, err)
	assert.Equal(t, map[string]bool{"db": true}, set)
	_, err = ParseFlags(newFS(), []string{"-h"})
	assert.True(t, errors.Is(err, flag.ErrHelp))
	_, err = ParseFlags(newFS(), []string{"-n", "many"})
	assert.ErrorContains(t, err, "-n")
	_, err = ParseFlags(newFS(), []string{"extra"})
	assert.ErrorContains(t, err, `"extra"`)
}

func TestByCount(t *testing.T) {
	assert.Equal(t, []string{"b", "a", "c"}, ByCount(map[string]int{"a": 1, "b": 3, "c": 1}))
}
