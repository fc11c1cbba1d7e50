package transport

import (
	"errors"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strings"
)

// Redacted replaces a secret or personal value in URLs, headers and logs.
const Redacted = "REDACTED"

// safeQueryParams are query parameters whose values are paging, sorting or
// format controls, never secrets or personal data. Every other query value
// (filters may carry names or dates of birth, tokens and keys are secrets) is
// replaced by [Redacted]; the parameter names stay, so a log still shows
// which filters were sent.
var safeQueryParams = map[string]bool{
	"page": true, "per": true, "per_page": true, "pagesize": true, "page_size": true,
	"limit": true, "offset": true, "order": true, "order_by": true, "sort": true,
	"fields": true, "paging": true, "totalpages": true, "total_pages": true,
	"id_search": true, "record_type": true, "module_id": true, "exclude_subforms": true,
	"hierarchy": true, "extended": true, "types": true, "format": true, "locale": true,
	"skippaging": true, "skipmeta": true,
}

// secretHeaderSet are request or response headers whose values are
// credentials, by canonical name.
var secretHeaderSet = map[string]bool{
	"Authorization": true, "Proxy-Authorization": true, "Cookie": true, "Set-Cookie": true,
	"X-Csrf-Token": true, "X-Api-Key": true, "Api-Key": true, "X-Auth-Token": true, "X-Access-Token": true,
	"X-Amz-Security-Token": true, "X-Dhis2-Token": true,
	// proGres: the API Management subscription key (DTP and PING).
	"Ocp-Apim-Subscription-Key": true,
	// OSCaR (devise_token_auth): access-token, client and uid together
	// are the credential; uid is also the API user's email address.
	"Access-Token": true, "Client": true, "Uid": true,
}

// secretHeaderWords mark a credential header by a part of its lower-case
// name.
var secretHeaderWords = []string{"token", "secret", "password", "api-key", "apikey", "subscription-key", "functions-key"}

// RedactURL renders u for errors and logs: the user info is dropped and
// every query value not in a small set of paging and sorting parameters is
// replaced by REDACTED (tokens, passwords, keys, and filter values that may be
// personal data). The path and parameter names are kept. Parameter order is
// made deterministic.
func RedactURL(u *url.URL) string {
	if u == nil {
		return ""
	}
	c := *u
	c.User = nil
	c.Fragment = ""
	c.RawFragment = ""
	if c.RawQuery != "" {
		q, err := url.ParseQuery(c.RawQuery)
		if err != nil {
			// An unparsable query could hide anything: drop it.
			c.RawQuery = Redacted
		} else {
			c.RawQuery = redactQuery(q)
		}
	}
	return c.String()
}

// RedactURLString is RedactURL for a URL held as a string. A string that
// does not parse as a URL is replaced entirely by REDACTED.
func RedactURLString(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return Redacted
	}
	return RedactURL(u)
}

func redactQuery(q url.Values) string {
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		safe := safeQueryParams[strings.ToLower(k)]
		for _, v := range q[k] {
			if b.Len() > 0 {
				b.WriteByte('&')
			}
			b.WriteString(url.QueryEscape(k))
			b.WriteByte('=')
			if safe {
				b.WriteString(url.QueryEscape(v))
			} else {
				b.WriteString(Redacted)
			}
		}
	}
	return b.String()
}

// RedactHeader returns a copy of h with credential headers replaced by
// REDACTED (see [IsSecretHeader]). Keys are matched case-insensitively, so a
// header set without canonicalization is redacted too.
func RedactHeader(h http.Header) http.Header {
	if h == nil {
		return nil
	}
	c := h.Clone()
	for k, vs := range c {
		if IsSecretHeader(k) {
			for i := range vs {
				vs[i] = Redacted
			}
		}
	}
	return c
}

// IsSecretHeader reports whether a header's values are credentials (or an
// account identifier that goes with them): Authorization, cookies, CSRF
// tokens, API and subscription keys, and any header whose name says token,
// secret, password or key-of-an-API.
func IsSecretHeader(name string) bool {
	if secretHeaderSet[http.CanonicalHeaderKey(name)] {
		return true
	}
	lk := strings.ToLower(name)
	for _, s := range secretHeaderWords {
		if strings.Contains(lk, s) {
			return true
		}
	}
	return false
}

// quotedRe is a double-quoted run in an error text.
var quotedRe = regexp.MustCompile(`"(?:[^"\\]|\\.)*"`)

// elideQuoted replaces every quoted run of an error text by "…": the
// standard library quotes the bytes it could not read (net/http a
// malformed status line, net/url a bad escape), which come from the
// server and could hold anything.
func elideQuoted(s string) string { return quotedRe.ReplaceAllString(s, `"…"`) }

// cleanErr strips the URL that *url.Error quotes (it may hold secrets in the
// query) and keeps only the operation and the underlying cause.
func cleanErr(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}
