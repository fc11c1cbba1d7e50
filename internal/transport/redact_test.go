package transport

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRedactURL(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"https://u:p@h.example/api?page=1&per=50", "https://h.example/api?page=1&per=50"},
		{"https://h.example/a?token=abc&api_key=k&sex=female", "https://h.example/a?api_key=REDACTED&sex=REDACTED&token=REDACTED"},
		{"https://h.example/a?order_by=created_at&order=asc#frag", "https://h.example/a?order=asc&order_by=created_at"},
		{"https://h.example/a?q=%zz", "https://h.example/a?REDACTED"},
	} {
		assert.Equal(t, tc.want, RedactURLString(tc.in), tc.in)
	}
	assert.Equal(t, Redacted, RedactURLString("://bad"))
}

func TestRedactHeader(t *testing.T) {
	h := http.Header{"Authorization": {"Basic x"}, "Cookie": {"a=b"}, "X-Csrf-Token": {"c"}, "X-Api-Key": {"k"}, "X-Custom-Token": {"t"}, "Content-Type": {"application/json"}}
	r := RedactHeader(h)
	for _, k := range []string{"Authorization", "Cookie", "X-Csrf-Token", "X-Api-Key", "X-Custom-Token"} {
		assert.Equal(t, Redacted, r.Get(k), k)
	}
	assert.Equal(t, "application/json", r.Get("Content-Type"))
	assert.Equal(t, "Basic x", h.Get("Authorization"), "original untouched")
}

// TestRedactHeaderClientSecrets covers every secret header a casebridge
// client or fake sends: the proGres subscription key, the inbound API key,
// OSCaR's devise_token_auth triple and DHIS2's token header.
func TestRedactHeaderClientSecrets(t *testing.T) {
	secrets := []string{
		"Ocp-Apim-Subscription-Key", "ocp-apim-subscription-key", "X-Api-Key", "x-api-key",
		"Access-Token", "Client", "Uid", "X-Dhis2-Token", "Proxy-Authorization", "Set-Cookie",
		"X-Functions-Key", "X-Password",
	}
	h := http.Header{}
	for _, k := range secrets {
		h[k] = []string{"synthetic-secret-1"} // raw (non-canonical) keys too
	}
	h.Set("Idempotency-Key", "ref-1")
	h.Set("Accept", "application/json")
	r := RedactHeader(h)
	for k, vs := range r {
		for _, v := range vs {
			assert.NotEqual(t, "synthetic-secret-1", v, k)
		}
	}
	for _, k := range secrets {
		assert.True(t, IsSecretHeader(k), k)
	}
	assert.Equal(t, "ref-1", r.Get("Idempotency-Key"), "an idempotency key is no secret and helps debugging")
	assert.Equal(t, "application/json", r.Get("Accept"))
	assert.False(t, IsSecretHeader("Content-Type"))
}

func TestValidationErrorNeverQuotesValues(t *testing.T) {
	v := &ValidationError{}
	assert.NoError(t, v.Err())
	v.Add("data.name_first", "must not be empty")
	v.Add("services_section[1].unique_id", "duplicate")
	err := v.Err()
	require.ErrorIs(t, err, ErrValidation)
	assert.Equal(t, "validation failed: data.name_first: must not be empty; services_section[1].unique_id: duplicate", err.Error())
}

func TestParseBaseURL(t *testing.T) {
	u, err := ParseBaseURL("https://primero.example/")
	require.NoError(t, err)
	assert.Equal(t, "https://primero.example", u.String())
	for _, bad := range []string{"", "ftp://x", "/relative", "https://user:pw@h", "https://h/?a=1"} {
		_, err := ParseBaseURL(bad)
		var ve *ValidationError
		require.ErrorAs(t, err, &ve, bad)
		assert.True(t, ve.Has("baseURL"))
		if strings.Contains(bad, "pw") {
			assert.NotContains(t, err.Error(), "pw")
		}
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	d, ok := ParseRetryAfter("7", now)
	assert.True(t, ok)
	assert.Equal(t, 7*time.Second, d)
	d, ok = ParseRetryAfter(now.Add(90*time.Second).Format(http.TimeFormat), now)
	assert.True(t, ok)
	assert.Equal(t, 90*time.Second, d)
	for _, bad := range []string{"", "-1", "soon"} {
		_, ok := ParseRetryAfter(bad, now)
		assert.False(t, ok, bad)
	}
}

func FuzzRedactURL(f *testing.F) {
	for _, s := range []string{"https://u:p@h/a?token=x&page=1", "http://h/?password=p", "%%", "http://h/?a=1;b=2", "?000000=000000"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		u, err := url.Parse(raw)
		if err != nil {
			return
		}
		out, err := url.Parse(RedactURL(u))
		if err != nil {
			t.Fatalf("redacted URL does not parse: %v", err)
		}
		if out.User != nil {
			t.Fatal("user info kept")
		}
		if out.RawQuery == Redacted {
			return
		}
		q, err := url.ParseQuery(out.RawQuery)
		if err != nil {
			t.Fatalf("redacted query does not parse: %v", err)
		}
		for k, vs := range q {
			if safeQueryParams[strings.ToLower(k)] {
				continue
			}
			for _, v := range vs {
				if v != Redacted {
					t.Fatalf("value of %q kept", k)
				}
			}
		}
	})
}
