package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	neturl "net/url"
	"strings"
	"testing"
	"time"

	"github.com/casebridge/casebridge/primero/primerotest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// serve runs the command with args until the test ends and returns the
// printed listing, keyed by the label before ": ".
func serve(t *testing.T, args ...string) map[string]string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, args, pw)
		pw.Close()
	}()
	lines := map[string]string{}
	sc := bufio.NewScanner(pr)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(line, "ready") {
			break
		}
		if k, v, ok := strings.Cut(line, ": "); ok {
			lines[k] = v
		}
	}
	go func() { _, _ = io.Copy(io.Discard, pr) }()
	t.Cleanup(func() {
		cancel()
		require.NoError(t, <-done)
	})
	require.NotEmpty(t, lines["url"])
	return lines
}

var httpClient = &http.Client{Timeout: 5 * time.Second}

// get sends a GET and decodes the JSON answer.
func get(t *testing.T, c *http.Client, url string, auth func(*http.Request)) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	if auth != nil {
		auth(req)
	}
	res, err := c.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	var body map[string]any
	_ = json.NewDecoder(res.Body).Decode(&body)
	return res.StatusCode, body
}

func basic(r *http.Request) { r.SetBasicAuth(primerotest.DefaultUser, primerotest.DefaultPassword) }

func TestRunServesPrimeroFake(t *testing.T) {
	url := serve(t, "-cases", "7")["url"]
	status, body := get(t, httpClient, url+"/api/v2/cases", basic)
	require.Equal(t, http.StatusOK, status)
	assert.EqualValues(t, 7, body["metadata"].(map[string]any)["total"])
}

// loginBody is a POST /api/v2/tokens body for the default user.
func loginBody() io.Reader {
	return strings.NewReader(`{"user":{"user_name":"` + primerotest.DefaultUser + `","password":"` + primerotest.DefaultPassword + `"}}`)
}

func TestAuthModes(t *testing.T) {
	t.Run("session", func(t *testing.T) {
		url := serve(t, "-auth", "session")["url"]
		c := &http.Client{Jar: must(cookiejar.New(nil)), Timeout: 5 * time.Second}
		status, _ := get(t, c, url+"/api/v2/primero", nil)
		require.Equal(t, http.StatusOK, status)
		var csrf string
		for _, ck := range c.Jar.Cookies(must(neturl.Parse(url))) {
			if ck.Name == "CSRF-TOKEN" {
				csrf = ck.Value
			}
		}
		require.NotEmpty(t, csrf, "the public endpoint hands out the CSRF cookie")
		req, _ := http.NewRequest(http.MethodPost, url+"/api/v2/tokens", loginBody())
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-CSRF-Token", csrf)
		res, err := c.Do(req)
		require.NoError(t, err)
		res.Body.Close()
		require.Equal(t, http.StatusOK, res.StatusCode)
		status, _ = get(t, c, url+"/api/v2/cases", nil)
		assert.Equal(t, http.StatusOK, status, "the session cookie authenticates")
	})
	t.Run("legacy", func(t *testing.T) {
		url := serve(t, "-auth", "legacy")["url"]
		res, err := httpClient.Post(url+"/api/v2/tokens", "application/json", loginBody())
		require.NoError(t, err)
		var body map[string]any
		require.NoError(t, json.NewDecoder(res.Body).Decode(&body))
		res.Body.Close()
		tok, _ := body["token"].(string)
		require.NotEmpty(t, tok)
		status, _ := get(t, httpClient, url+"/api/v2/cases", func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+tok) })
		assert.Equal(t, http.StatusOK, status)
	})
	t.Run("bearer", func(t *testing.T) {
		lines := serve(t, "-auth", "bearer")
		tok, _, _ := strings.Cut(lines["bearer"], " ")
		require.NotEmpty(t, tok)
		status, _ := get(t, httpClient, lines["url"]+"/api/v2/cases", func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+tok) })
		assert.Equal(t, http.StatusOK, status)
		status, _ = get(t, httpClient, lines["url"]+"/api/v2/cases", func(r *http.Request) { r.Header.Set("Authorization", "Bearer wrong") })
		assert.Equal(t, http.StatusUnauthorized, status)
	})
	require.Error(t, run(context.Background(), []string{"-auth", "oauth"}, io.Discard))
}

func TestFormsAndLookupsMatchTheCases(t *testing.T) {
	url := serve(t, "-cases", "12")["url"]
	_, forms := get(t, httpClient, url+"/api/v2/forms?record_type=case", basic)
	sources := map[string]string{}
	for _, f := range forms["data"].([]any) {
		for _, fe := range f.(map[string]any)["fields"].([]any) {
			m := fe.(map[string]any)
			src, _ := m["option_strings_source"].(string)
			sources[m["name"].(string)] = src
		}
	}
	require.Equal(t, "lookup lookup-gender", sources["sex"])
	_, lookup := get(t, httpClient, url+"/api/v2/lookups/lookup-gender", basic)
	genders := map[string]bool{}
	for _, v := range lookup["data"].(map[string]any)["values"].([]any) {
		genders[v.(map[string]any)["id"].(string)] = true
	}
	_, cases := get(t, httpClient, url+"/api/v2/cases?per=100", basic)
	require.Len(t, cases["data"], 12)
	for _, c := range cases["data"].([]any) {
		assert.True(t, genders[c.(map[string]any)["sex"].(string)], "every sex is a lookup value")
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
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

// -chaos fails that share of requests, from a plan fixed by -chaos-seed:
// the same seed gives the same sequence of faults, so that a bridge can be
// tried against faults a colleague can reproduce.
func TestChaosFlagFailsRequestsReproducibly(t *testing.T) {
	outcomes := func() []string {
		lines := serve(t, "-cases", "2", "-chaos", "0.5", "-chaos-seed", "3")
		require.Contains(t, lines["chaos"], "0.5 of requests fail (seed 3)")
		c := &http.Client{Timeout: 500 * time.Millisecond}
		var got []string
		for range 12 {
			req, _ := http.NewRequest(http.MethodGet, lines["url"]+"/api/v2/cases", nil)
			basic(req)
			res, err := c.Do(req)
			if err != nil {
				got = append(got, "error")
				continue
			}
			res.Body.Close()
			got = append(got, res.Status)
		}
		return got
	}
	first := outcomes()
	assert.Contains(t, first, "200 OK")
	assert.NotEqual(t, 12, strings.Count(strings.Join(first, ","), "200 OK"), "some requests fail: %v", first)
	assert.Equal(t, first, outcomes(), "the same seed, the same faults")
}

func TestChaosFlagRefusesARateOutsideZeroToOne(t *testing.T) {
	err := run(context.Background(), []string{"-chaos", "1.5"}, io.Discard)
	require.ErrorContains(t, err, "-chaos")
	require.ErrorContains(t, err, "Chaos.Rate")
}
