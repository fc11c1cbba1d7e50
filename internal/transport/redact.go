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

// secretHeaders are request or response headers whose values are credentials.
var secretHeaders = []string{
	"Authorization", "Proxy-Authorization", "Cookie", "Set-Cookie",
	"X-Csrf-Token", "X-Api-Key", "Api-Key", "X-Auth-Token", "X-Access-Token",
	"X-Amz-Security-Token", "X-Dhis2-Token",
}

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

// RedactHeader returns a copy of h with credential headers (Authorization,
// Cookie, Set-Cookie, X-CSRF-Token, API-key headers) replaced by REDACTED.
func RedactHeader(h http.Header) http.Header {
	if h == nil {
		return nil
	}
	c := h.Clone()
	for _, k := range secretHeaders {
		if _, ok := c[http.CanonicalHeaderKey(k)]; ok {
			c.Set(k, Redacted)
		}
	}
	for k := range c {
		lk := strings.ToLower(k)
		if strings.Contains(lk, "token") || strings.Contains(lk, "secret") || strings.Contains(lk, "api-key") || strings.Contains(lk, "apikey") {
			c.Set(k, Redacted)
		}
	}
	return c
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
