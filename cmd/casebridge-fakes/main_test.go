package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/casebridge/casebridge/primero/primerotest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRunServesPrimeroFake(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"-cases", "7"}, pw)
		pw.Close()
	}()

	var url string
	sc := bufio.NewScanner(pr)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if u, ok := strings.CutPrefix(line, "url: "); ok {
			url = u
		}
		if strings.HasPrefix(line, "ready") {
			break
		}
	}
	require.NotEmpty(t, url)
	go func() { _, _ = io.Copy(io.Discard, pr) }()

	req, _ := http.NewRequest(http.MethodGet, url+"/api/v2/cases", nil)
	req.SetBasicAuth(primerotest.DefaultUser, primerotest.DefaultPassword)
	res, err := (&http.Client{Timeout: 5 * time.Second}).Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	require.Equal(t, http.StatusOK, res.StatusCode)
	var body struct {
		Metadata struct{ Total int } `json:"metadata"`
	}
	require.NoError(t, json.NewDecoder(res.Body).Decode(&body))
	assert.Equal(t, 7, body.Metadata.Total)

	cancel()
	require.NoError(t, <-done)
}

func TestRunRejectsNonLoopback(t *testing.T) {
	err := run(context.Background(), []string{"-addr", "0.0.0.0:0"}, io.Discard)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "loopback")
	require.Error(t, run(context.Background(), []string{"-cases", "-1"}, io.Discard))
}

func TestNthAddr(t *testing.T) {
	tests := []struct {
		port string
		i    int
		want string
	}{
		{"0", 0, "127.0.0.1:0"},
		{"0", 2, "127.0.0.1:0"},
		{"8080", 0, "127.0.0.1:8080"},
		{"8080", 1, "127.0.0.1:8081"},
	}
	for _, tt := range tests {
		got, err := nthAddr("127.0.0.1", tt.port, tt.i)
		require.NoError(t, err)
		assert.Equal(t, tt.want, got)
	}
	_, err := nthAddr("127.0.0.1", "8080abc", 0)
	assert.Error(t, err)
}
