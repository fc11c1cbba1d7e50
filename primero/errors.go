package primero

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/casebridge/casebridge/internal/transport"
)

// Sentinel errors, shared with every casebridge client: use errors.Is.
var (
	ErrBadRequest   = transport.ErrBadRequest   // 400
	ErrUnauthorized = transport.ErrUnauthorized // 401: bad credentials or locked account; never retried
	ErrForbidden    = transport.ErrForbidden    // 403: out of scope, missing permission or CSRF
	ErrNotFound     = transport.ErrNotFound     // 404
	ErrConflict     = transport.ErrConflict     // 409: duplicate id or case_id
	ErrValidation   = transport.ErrValidation   // 422, or refused before sending
	ErrLocked       = transport.ErrLocked       // 423
	ErrRateLimited  = transport.ErrRateLimited  // 429
	ErrUnavailable  = transport.ErrUnavailable  // 502/503/504 (503: system locked for a configuration update)
	ErrServer       = transport.ErrServer       // other 5xx

	// ErrCredentialsRejected: the call was not sent, because Primero had
	// refused these credentials with 401 already (see Client.ResetAuth).
	// It comes with ErrUnauthorized.
	ErrCredentialsRejected = transport.ErrCredentialsRejected
	// ErrResponseTooLarge: an answer's body exceeded the cap
	// (WithMaxResponseBytes).
	ErrResponseTooLarge = transport.ErrResponseTooLarge
)

// ErrAmbiguousMatch is matched by errors.Is on an *AmbiguousMatchError.
var ErrAmbiguousMatch = errors.New("primero: ambiguous match")

// ErrFilterIgnored is returned when Primero answered records that do not
// match an exact filter, which means it ignored the filter (pitfall 3).
var ErrFilterIgnored = errors.New("primero: filter ignored by the server")

// ErrConsent is matched by errors.Is when a referral is refused client-side
// because the case lacks the consent Primero's rule requires.
var ErrConsent = errors.New("primero: consent required")

// ErrTransition is matched by errors.Is on a *TransitionError.
var ErrTransition = errors.New("primero: referral transition not applied")

// ValidationError names each refused field by its JSON path; it never
// quotes values. It is shared by every casebridge client.
type ValidationError = transport.ValidationError

// FieldError is one entry of a ValidationError.
type FieldError = transport.FieldError

// ErrorDetail is one entry of Primero's error envelope
// {"errors": [{"status", "resource", "message", "detail"}]}, as the server
// sent it. Message and Detail are decoded from a string or an array of
// strings. They may hold personal data: see APIError.ServerErrors.
type ErrorDetail struct {
	Status   int      `json:"status"`
	Resource string   `json:"resource,omitempty"`
	Message  []string `json:"message,omitempty"`
	Detail   []string `json:"detail,omitempty"`
}

// APIError is an answer of Primero with a status of 400 or more.
//
// Its exported fields and Error hold only what cannot carry a person's
// data: the status, the redacted URL, Primero's message keys and fixed
// status texts (Codes) and the field names and JSON pointers it named
// (Fields). Everything else the server wrote (Devise's 401 text, exception
// texts, a proxy's or firewall's page echoing the submitted values) is
// counted in Withheld and reachable only through ServerErrors.
type APIError struct {
	Method     string
	URL        string // secrets and filter values removed
	StatusCode int
	// Codes are Primero's message keys ("transition.errors.consent") and
	// fixed texts ("Not Found", "Invalid Record JSON"), in the order sent.
	Codes []string
	// Fields are the field names and JSON pointers the server named
	// ("/date_of_birth", "consent"), in the order sent.
	Fields []string
	// Withheld counts the server texts left out of Codes and Fields
	// because they may echo values.
	Withheld int
	// RetryAfter is the server's Retry-After (429, 503), zero if absent.
	RetryAfter time.Duration
	// PlainText is true when the body was not JSON (e.g. Rack::Attack's
	// "Retry later" 429, plain text (unconfirmed); a JSON 429 decodes
	// too); the text itself is not kept.
	PlainText bool
	// Attempts is how many times the request was sent.
	Attempts int

	server []ErrorDetail
	http   *transport.HTTPError
}

// Error describes the failure with the status, the redacted URL, Primero's
// codes and the fields it named; never a text of the server.
func (e *APIError) Error() string {
	var b strings.Builder
	b.WriteString("primero: ")
	if e.Method != "" || e.URL != "" {
		fmt.Fprintf(&b, "%s %s: ", e.Method, e.URL)
	}
	fmt.Fprintf(&b, "%d %s", e.StatusCode, http.StatusText(e.StatusCode))
	if len(e.Codes) > 0 {
		b.WriteString(": ")
		b.WriteString(strings.Join(e.Codes, ", "))
	}
	if len(e.Fields) > 0 {
		b.WriteString(" (fields: ")
		b.WriteString(strings.Join(e.Fields, ", "))
		b.WriteString(")")
	}
	if e.StatusCode == http.StatusUnauthorized {
		b.WriteString(" (bad credentials or locked account; not retried, and not sent again by this client until ResetAuth:" +
			" Primero locks an account after 6 failed logins, for 30 minutes)")
	}
	if e.PlainText {
		b.WriteString(" (non-JSON body)")
	}
	if e.Withheld > 0 {
		fmt.Fprintf(&b, " (%d server text(s) withheld: see ServerErrors)", e.Withheld)
	}
	if e.RetryAfter > 0 {
		fmt.Fprintf(&b, " (retry after %s)", e.RetryAfter)
	}
	return b.String()
}

// ServerErrors returns the error entries as the server sent them, Devise's
// 401 body {"error": "..."} as one entry. They may hold personal data:
// servers, proxies and firewalls echo submitted values (a name, a phone
// number) in their messages. Never log them, store them, or put them in
// an error message; use Codes and Fields for that.
func (e *APIError) ServerErrors() []ErrorDetail { return e.server }

// Is maps the status code onto the shared sentinels.
func (e *APIError) Is(target error) bool {
	s := transport.SentinelForStatus(e.StatusCode)
	return s != nil && s == target
}

// Unwrap returns the transport's *transport.HTTPError (raw capped body,
// which may hold personal data like ServerErrors).
func (e *APIError) Unwrap() error {
	if e.http == nil {
		return nil
	}
	return e.http
}

// HasMessage reports whether any envelope entry carries the message key,
// e.g. "transition.errors.consent".
func (e *APIError) HasMessage(key string) bool {
	for _, d := range e.server {
		if slices.Contains(d.Message, key) {
			return true
		}
	}
	return slices.Contains(e.Codes, key)
}

// decodeAPIError turns the transport's HTTP error into an *APIError.
func decodeAPIError(he *transport.HTTPError) *APIError {
	e := &APIError{Method: he.Method, URL: he.URL, StatusCode: he.StatusCode, Attempts: he.Attempts, http: he}
	if d, ok := transport.ParseRetryAfter(he.Header.Get("Retry-After"), time.Now()); ok {
		e.RetryAfter = d
	}
	decodeErrorBody(e, he.Body)
	return e
}

// decodeErrorBody fills the server entries, Codes, Fields and Withheld
// from a body; it never fails.
func decodeErrorBody(e *APIError, body []byte) {
	var env struct {
		Errors []rawErrorDetail `json:"errors"`
		Error  json.RawMessage  `json:"error"`
	}
	if len(strings.TrimSpace(string(body))) == 0 {
		return
	}
	if err := json.Unmarshal(body, &env); err != nil {
		e.PlainText = true
		return
	}
	for _, r := range env.Errors {
		st := r.Status.int()
		if st == 0 {
			st = r.Code.int() // some docs call the key "code"
		}
		e.server = append(e.server, ErrorDetail{
			Status:   st,
			Resource: r.Resource.first(),
			Message:  r.Message,
			Detail:   r.Detail,
		})
	}
	if len(env.Error) > 0 {
		var s stringList
		if json.Unmarshal(env.Error, &s) == nil && len(s) > 0 {
			e.server = append(e.server, ErrorDetail{Status: e.StatusCode, Message: s})
		}
	}
	for _, d := range e.server {
		for _, m := range d.Message {
			e.keep(&e.Codes, m, isCode(m))
		}
		for _, f := range d.Detail {
			e.keep(&e.Fields, f, isFieldRef(f))
		}
	}
}

// keep appends s to list when safe (once), or counts it as withheld.
func (e *APIError) keep(list *[]string, s string, safe bool) {
	switch {
	case !safe:
		e.Withheld++
	case !slices.Contains(*list, s):
		*list = append(*list, s)
	}
}

var (
	// messageKeyRe is an i18n key such as "transition.errors.consent".
	messageKeyRe = regexp.MustCompile(`^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+$`)
	// fieldRefNameRe is a field name such as "date_of_birth" or "consent".
	fieldRefNameRe = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)
	// pointerRe is a JSON pointer of field names and indexes, "/services_section/0/service_type".
	pointerRe = regexp.MustCompile(`^(/[a-z0-9_]+)+$`)
	// paramMissingRe is Rails' ParameterMissing text, which names a parameter.
	paramMissingRe = regexp.MustCompile(`^param is missing or the value is empty: [a-z_]+$`)
)

// fixedMessages are texts Primero (or Rails, Rack::Attack) sends verbatim,
// which hold no value.
var fixedMessages = func() map[string]bool {
	m := map[string]bool{
		"Conflict: A record with this id already exists": true,
		"Invalid Record JSON":                            true,
		"Retry later":                                    true,
		"Can't verify CSRF token authenticity.":          true,
	}
	for st := 400; st < 600; st++ {
		if t := http.StatusText(st); t != "" {
			m[t] = true
		}
	}
	return m
}()

// isCode reports whether a message is a key or a fixed text, never free
// text that may echo a value.
func isCode(m string) bool {
	return len(m) <= 128 && (fixedMessages[m] || messageKeyRe.MatchString(m) || paramMissingRe.MatchString(m))
}

// isFieldRef reports whether a detail names a field (a name or a JSON
// pointer) rather than carrying text.
func isFieldRef(d string) bool {
	return len(d) <= 128 && (fieldRefNameRe.MatchString(d) || pointerRe.MatchString(d))
}

type rawErrorDetail struct {
	Status   FlexInt    `json:"status"`
	Code     FlexInt    `json:"code"`
	Resource stringList `json:"resource"`
	Message  stringList `json:"message"`
	Detail   stringList `json:"detail"`
}

// stringList decodes a JSON string, an array of strings (non-strings are
// rendered as JSON), or null.
type stringList []string

// UnmarshalJSON accepts a string, an array or null; other values are kept
// as their JSON text.
func (s *stringList) UnmarshalJSON(b []byte) error {
	var one string
	if err := json.Unmarshal(b, &one); err == nil {
		*s = stringList{one}
		return nil
	}
	var many []json.RawMessage
	if err := json.Unmarshal(b, &many); err == nil {
		out := make(stringList, 0, len(many))
		for _, m := range many {
			var str string
			if json.Unmarshal(m, &str) == nil {
				out = append(out, str)
			} else {
				out = append(out, string(m))
			}
		}
		*s = out
		return nil
	}
	if string(b) == "null" {
		*s = nil
		return nil
	}
	*s = stringList{string(b)}
	return nil
}

func (s stringList) first() string {
	if len(s) == 0 {
		return ""
	}
	return s[0]
}

// FlexInt is an integer id that also decodes from a numeric string;
// anything else decodes as 0.
type FlexInt int

// UnmarshalJSON accepts 422 or "422".
func (f *FlexInt) UnmarshalJSON(b []byte) error {
	var n json.Number
	if json.Unmarshal(b, &n) == nil {
		if i, err := strconv.Atoi(n.String()); err == nil {
			*f = FlexInt(i)
		}
		return nil
	}
	var s string
	if json.Unmarshal(b, &s) == nil {
		if i, err := strconv.Atoi(s); err == nil {
			*f = FlexInt(i)
		}
	}
	return nil
}

func (f FlexInt) int() int { return int(f) }

// Int returns the value as an int.
func (f FlexInt) Int() int { return int(f) }

// AmbiguousMatchError is returned by Upsert when several cases carry the
// external id: the decision is left to a person (pitfall 2).
type AmbiguousMatchError struct {
	Field string   // the match field, e.g. "unhcr_individual_no"
	IDs   []string // the record ids (UUID id) of every matching case
}

// Error lists the field and the matching record ids, not the key value.
// An id that is not a UUID is not printed: it came from the server and
// could be anything.
func (e *AmbiguousMatchError) Error() string {
	ids := make([]string, len(e.IDs))
	for i, id := range e.IDs {
		ids[i] = id
		if !isUUID(id) {
			ids[i] = "(non-UUID id)"
		}
	}
	return fmt.Sprintf("primero: %d cases match on %s: %s; refusing to choose", len(e.IDs), e.Field, strings.Join(ids, ", "))
}

// Is reports true for ErrAmbiguousMatch.
func (e *AmbiguousMatchError) Is(target error) bool { return target == ErrAmbiguousMatch }

// TransitionError is a referral status change that was refused locally
// (not allowed from the current status) or that Primero answered with 200
// without applying it (pitfall 32).
type TransitionError struct {
	ReferralID string
	From       string // status before
	Requested  string // status asked for
	Got        string // status Primero returned ("unknown" if not a referral status); empty when refused locally
}

// Error says which transition was refused or silently ignored.
func (e *TransitionError) Error() string {
	if e.Got == "" {
		return fmt.Sprintf("primero: referral %s: transition %s -> %s is not allowed; not sent", e.ReferralID, e.From, e.Requested)
	}
	return fmt.Sprintf("primero: referral %s: requested %s but Primero returned %s (silent no-op)", e.ReferralID, e.Requested, e.Got)
}

// Is reports true for ErrTransition.
func (e *TransitionError) Is(target error) bool { return target == ErrTransition }

// notFound is a 404 the client concludes itself (a referral missing from
// its case's list, a lookup missing from every page); code says what.
func notFound(path, code string) *APIError {
	return &APIError{Method: http.MethodGet, URL: "/api/v2/" + path, StatusCode: http.StatusNotFound, Codes: []string{code}}
}

// referralStatus returns s when it is a referral status, else "unknown":
// a status from the server goes into an error message only if known.
func referralStatus(s string) string {
	switch s {
	case ReferralInProgress, ReferralAccepted, ReferralRejected, ReferralDone, ReferralRevoked:
		return s
	}
	return "unknown"
}

// wrapErr converts transport errors into *APIError and leaves others.
func wrapErr(err error) error {
	var he *transport.HTTPError
	if errors.As(err, &he) {
		return decodeAPIError(he)
	}
	return err
}

// DecodeErrorBody decodes an error answer's body (the errors[] envelope,
// Devise's {"error": ...} or plain text) for the status. It never fails:
// an undecodable body gives an APIError with PlainText set. As for every
// APIError, the server's texts are reachable only through ServerErrors. It is what the
// client applies to every error answer; it is exported for tests and for
// code that receives Primero error bodies by other routes (webhooks).
func DecodeErrorBody(status int, body []byte) *APIError {
	e := &APIError{StatusCode: status}
	decodeErrorBody(e, body)
	return e
}
