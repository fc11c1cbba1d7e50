package transport

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"
)

// fastPolicy retries quickly so the tests do not sleep.
var fastPolicy = RetryPolicy{MaxRetries: 3, MinWait: time.Millisecond, MaxWait: 2 * time.Millisecond, MaxRetryAfter: 50 * time.Millisecond}

// statusServer answers the first len(statuses) requests with those statuses,
// then 200, and counts requests.
func statusServer(t *testing.T, hdr http.Header, statuses ...int) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		i := int(n.Add(1)) - 1
		_, _ = io.Copy(io.Discard, r.Body)
		if i < len(statuses) {
			for k, v := range hdr {
				w.Header()[k] = v
			}
			w.WriteHeader(statuses[i])
			_, _ = io.WriteString(w, `{"errors":[{"status":`+http.StatusText(statuses[i])+`}]}`)
			return
		}
		_, _ = io.WriteString(w, `{"ok":true}`)
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

func newClient(t *testing.T, cfg Config) *Client {
	t.Helper()
	if cfg.Retry == nil {
		p := fastPolicy
		cfg.Retry = &p
	}
	c, err := New(cfg)
	require.NoError(t, err)
	return c
}

func do(t *testing.T, c *Client, ctx context.Context, method, url string) (*http.Response, error) {
	t.Helper()
	var body io.Reader
	if method == http.MethodPost || method == http.MethodPatch {
		body = strings.NewReader(`{"data":{}}`)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, body)
	require.NoError(t, err)
	resp, err := c.Do(req)
	if resp != nil {
		t.Cleanup(func() { resp.Body.Close() })
	}
	return resp, err
}

func TestGETRetriedAfter503sThenSucceeds(t *testing.T) {
	srv, n := statusServer(t, nil, 503, 503)
	resp, err := do(t, newClient(t, Config{}), context.Background(), http.MethodGet, srv.URL)
	require.NoError(t, err)
	assert.Equal(t, 200, resp.StatusCode)
	assert.EqualValues(t, 3, n.Load())
}

func TestRetriesExhaustedReturnFinalResponseAsHTTPError(t *testing.T) {
	srv, n := statusServer(t, nil, 503, 503, 503, 503, 503)
	_, err := do(t, newClient(t, Config{}), context.Background(), http.MethodGet, srv.URL)
	var he *HTTPError
	require.ErrorAs(t, err, &he)
	assert.Equal(t, 503, he.StatusCode)
	assert.Equal(t, 4, he.Attempts)
	assert.Contains(t, string(he.Body), "errors")
	assert.ErrorIs(t, err, ErrUnavailable)
	assert.EqualValues(t, 4, n.Load())
}

func TestPOSTNotRetriedAfter503(t *testing.T) {
	srv, n := statusServer(t, nil, 503)
	_, err := do(t, newClient(t, Config{}), context.Background(), http.MethodPost, srv.URL)
	assert.ErrorIs(t, err, ErrUnavailable)
	assert.EqualValues(t, 1, n.Load())
}

func TestPOSTMarkedIdempotentIsRetried(t *testing.T) {
	srv, n := statusServer(t, nil, 503, 502)
	resp, err := do(t, newClient(t, Config{}), Idempotent(context.Background()), http.MethodPost, srv.URL)
	require.NoError(t, err)
	assert.Equal(t, 200, resp.StatusCode)
	assert.EqualValues(t, 3, n.Load())
}

func TestStatusesNeverRetried(t *testing.T) {
	for _, tc := range []struct {
		status int
		want   error
	}{
		{401, ErrUnauthorized}, {403, ErrForbidden}, {404, ErrNotFound}, {409, ErrConflict},
		{422, ErrValidation}, {400, ErrBadRequest}, {501, ErrServer},
	} {
		t.Run(http.StatusText(tc.status), func(t *testing.T) {
			srv, n := statusServer(t, nil, tc.status, tc.status)
			for _, m := range []string{http.MethodGet, http.MethodPut, http.MethodDelete} {
				n.Store(0)
				_, err := do(t, newClient(t, Config{}), context.Background(), m, srv.URL)
				assert.ErrorIs(t, err, tc.want)
				assert.EqualValues(t, 1, n.Load(), "%s sent more than once", m)
			}
		})
	}
}

func TestRetried408And429(t *testing.T) {
	srv, n := statusServer(t, nil, 408, 429)
	_, err := do(t, newClient(t, Config{}), context.Background(), http.MethodGet, srv.URL)
	require.NoError(t, err)
	assert.EqualValues(t, 3, n.Load())
}

func TestRetryAfterHonouredAndCapped(t *testing.T) {
	hdr := http.Header{"Retry-After": {"1"}}
	srv, n := statusServer(t, hdr, 429)
	p := RetryPolicy{MaxRetries: 2, MinWait: time.Millisecond, MaxWait: time.Millisecond, MaxRetryAfter: time.Hour}
	var waits []time.Duration
	c := newClient(t, Config{Retry: &p})
	inner := c.rc.Backoff
	c.rc.Backoff = func(min, max time.Duration, i int, r *http.Response) time.Duration {
		d := inner(min, max, i, r)
		waits = append(waits, d)
		return d
	}
	_, err := do(t, c, context.Background(), http.MethodGet, srv.URL)
	require.NoError(t, err)
	assert.EqualValues(t, 2, n.Load())
	assert.Equal(t, []time.Duration{time.Second}, waits, "Retry-After: 1 honoured")

	// A huge Retry-After is capped by MaxRetryAfter.
	capped := RetryPolicy{MaxRetries: 1, MinWait: time.Millisecond, MaxWait: time.Millisecond, MaxRetryAfter: 20 * time.Millisecond}
	resp := &http.Response{StatusCode: 429, Header: http.Header{"Retry-After": {"3600"}}}
	assert.Equal(t, 20*time.Millisecond, capped.backoff(time.Millisecond, time.Millisecond, 0, resp))
	resp.Header.Set("Retry-After", time.Now().Add(time.Hour).UTC().Format(http.TimeFormat))
	assert.Equal(t, 20*time.Millisecond, capped.backoff(time.Millisecond, time.Millisecond, 0, resp))
}

func TestBackoffExponentialWithJitter(t *testing.T) {
	p := RetryPolicy{MinWait: 100 * time.Millisecond, MaxWait: time.Second}
	for attempt, want := range []time.Duration{100 * time.Millisecond, 200 * time.Millisecond, 400 * time.Millisecond, 800 * time.Millisecond, time.Second, time.Second} {
		for range 20 {
			d := p.backoff(p.MinWait, p.MaxWait, attempt, nil)
			assert.GreaterOrEqual(t, d, want/2)
			assert.LessOrEqual(t, d, want)
		}
	}
}

func TestConnectionErrorRetriedOnlyForSafeRequests(t *testing.T) {
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) == 1 {
			hj, _ := w.(http.Hijacker)
			conn, _, _ := hj.Hijack()
			conn.Close()
			return
		}
		_, _ = io.WriteString(w, "{}")
	}))
	defer srv.Close()
	c := newClient(t, Config{})
	_, err := do(t, c, context.Background(), http.MethodGet, srv.URL)
	require.NoError(t, err)
	assert.EqualValues(t, 2, n.Load())

	n.Store(0)
	_, err = do(t, c, context.Background(), http.MethodPost, srv.URL)
	var re *RequestError
	require.ErrorAs(t, err, &re)
	assert.EqualValues(t, 1, n.Load(), "POST resent after a dropped connection")
}

func TestContextCancellationStopsRetries(t *testing.T) {
	srv, n := statusServer(t, http.Header{"Retry-After": {"30"}}, 503, 503, 503, 503)
	p := RetryPolicy{MaxRetries: 3, MinWait: time.Millisecond, MaxWait: time.Millisecond, MaxRetryAfter: time.Minute}
	c := newClient(t, Config{Retry: &p})
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		for n.Load() == 0 {
			time.Sleep(time.Millisecond)
		}
		cancel()
	}()
	_, err := do(t, c, ctx, http.MethodGet, srv.URL)
	require.ErrorIs(t, err, context.Canceled)
	assert.EqualValues(t, 1, n.Load())
}

func TestSecretsNeverInErrorsOrLogs(t *testing.T) {
	srv, _ := statusServer(t, http.Header{"Set-Cookie": {"_app_session=SECRETCOOKIE"}}, 500, 500, 500, 500, 403)
	var logs bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	c := newClient(t, Config{Logger: logger, TokenSource: oauth2.StaticTokenSource(&oauth2.Token{AccessToken: "SECRETBEARER"})})
	u := srv.URL + "/api/v2/cases?page=2&access_token=SECRETQ&password=SECRETPW&name_first=PersonalName"
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	req.SetBasicAuth("user", "SECRETBASIC")
	req.Header.Set("Cookie", "_app_session=SECRETCOOKIE2")
	req.Header.Set("X-CSRF-Token", "SECRETCSRF")
	_, err := c.Do(req)
	var he *HTTPError
	require.ErrorAs(t, err, &he)
	assert.Equal(t, Redacted, he.Header.Get("Set-Cookie"))
	out := err.Error() + " " + logs.String() + " " + he.URL
	for _, s := range []string{"SECRETQ", "SECRETPW", "SECRETBEARER", "SECRETBASIC", "SECRETCOOKIE", "SECRETCSRF", "PersonalName"} {
		assert.NotContains(t, out, s)
	}
	assert.Contains(t, he.URL, "page=2")
	assert.Contains(t, logs.String(), `"attempt":4`)
	assert.Contains(t, logs.String(), `"status":500`)
	assert.Contains(t, logs.String(), "name_first=REDACTED")

	// Connection errors: the url.Error's URL must not leak either.
	dead := httptest.NewServer(http.NotFoundHandler())
	deadURL := dead.URL
	dead.Close()
	req, _ = http.NewRequest(http.MethodPost, deadURL+"/x?token=SECRETT", strings.NewReader("{}"))
	_, err = c.Do(req)
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "SECRETT")
}

func TestTokenSourceSendsBearerAndFailureNotRetried(t *testing.T) {
	var got atomic.Value
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got.Store(r.Header.Get("Authorization"))
	}))
	defer srv.Close()
	c := newClient(t, Config{TokenSource: oauth2.StaticTokenSource(&oauth2.Token{AccessToken: "tok-1"})})
	_, err := do(t, c, context.Background(), http.MethodGet, srv.URL)
	require.NoError(t, err)
	assert.Equal(t, "Bearer tok-1", got.Load())

	var calls atomic.Int32
	bad := newClient(t, Config{TokenSource: failingSource{&calls}})
	_, err = do(t, bad, context.Background(), http.MethodGet, srv.URL)
	assert.ErrorIs(t, err, ErrUnauthorized)
	assert.EqualValues(t, 1, calls.Load())
}

type failingSource struct{ n *atomic.Int32 }

func (f failingSource) Token() (*oauth2.Token, error) {
	f.n.Add(1)
	return nil, errors.New("idp down")
}

func TestErrorBodyCapped(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(400)
		_, _ = w.Write(bytes.Repeat([]byte("x"), MaxErrorBody*2))
	}))
	defer srv.Close()
	_, err := do(t, newClient(t, Config{}), context.Background(), http.MethodGet, srv.URL)
	var he *HTTPError
	require.ErrorAs(t, err, &he)
	assert.Len(t, he.Body, MaxErrorBody)
	assert.True(t, he.Truncated)
}

func TestUserAgentAndSilentByDefault(t *testing.T) {
	var ua atomic.Value
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { ua.Store(r.UserAgent()) }))
	defer srv.Close()
	c := newClient(t, Config{UserAgent: "casebridge-test/1"})
	_, err := do(t, c, context.Background(), http.MethodGet, srv.URL)
	require.NoError(t, err)
	assert.Equal(t, "casebridge-test/1", ua.Load())
	assert.False(t, c.Logger().Enabled(context.Background(), slog.LevelError))
}

func TestConfigValidation(t *testing.T) {
	bad := RetryPolicy{MaxRetries: -1, MinWait: time.Second, MaxWait: time.Millisecond}
	_, err := New(Config{Retry: &bad})
	var ve *ValidationError
	require.ErrorAs(t, err, &ve)
	assert.True(t, ve.Has("RetryPolicy.MaxRetries"))
	assert.True(t, ve.Has("RetryPolicy.MaxWait"))
	_, err = New(Config{UserAgent: "a\r\nX-Evil: 1"})
	assert.ErrorIs(t, err, ErrValidation)
}
