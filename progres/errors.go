package progres

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/casebridge/casebridge/internal/transport"
)

// Sentinel errors, shared with every casebridge client: use errors.Is.
var (
	ErrBadRequest   = transport.ErrBadRequest   // 400
	ErrUnauthorized = transport.ErrUnauthorized // 401: wrong or missing subscription key or token; never retried
	ErrForbidden    = transport.ErrForbidden    // 403: e.g. a client certificate APIM does not accept
	ErrNotFound     = transport.ErrNotFound     // 404
	ErrConflict     = transport.ErrConflict     // 409
	ErrValidation   = transport.ErrValidation   // 422, or refused before sending
	ErrRateLimited  = transport.ErrRateLimited  // 429
	ErrUnavailable  = transport.ErrUnavailable  // 502/503/504
	ErrServer       = transport.ErrServer       // other 5xx
)

// ErrIngestionPending is matched by errors.Is when an async ingestion had
// no result yet when Wait's deadline passed.
var ErrIngestionPending = errors.New("progres: async ingestion still pending")

// ErrGateway is matched by errors.Is when PING answered 2xx with an
// ErrorMessage in its envelope.
var ErrGateway = errors.New("progres: gateway reported an error")

// ValidationError names each refused field by its JSON path; it never
// quotes values. It is shared by every casebridge client.
type ValidationError = transport.ValidationError

// FieldError is one entry of a ValidationError.
type FieldError = transport.FieldError

// RetryPolicy says how often and how patiently safe requests are retried.
type RetryPolicy = transport.RetryPolicy

// DefaultRetryPolicy is the policy used when WithRetry is not given.
func DefaultRetryPolicy() RetryPolicy { return transport.DefaultRetryPolicy() }

// APIError is an answer of DTP, PING or the B2C token endpoint with a
// status of 400 or more. It holds no body text: the gateways' messages are
// not documented and may echo what was sent.
type APIError struct {
	Method     string
	URL        string // secrets and query values removed
	StatusCode int
	// APIMStatus is the statusCode of Azure API Management's error body
	// {"statusCode": 401, "message": "..."}, 0 when the body was not one.
	// The message itself is not kept.
	APIMStatus int
	// OAuthError is the error code of a token endpoint's OAuth error body
	// (e.g. "invalid_grant"); its description is not kept.
	OAuthError string
	// RetryAfter is the server's Retry-After (429, 503), zero if absent.
	RetryAfter time.Duration
	// Attempts is how many times the request was sent.
	Attempts int

	http *transport.HTTPError
}

// Error describes the failure by status, redacted URL and codes, never by
// body.
func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "progres: %s %s: %d %s", e.Method, e.URL, e.StatusCode, http.StatusText(e.StatusCode))
	if e.OAuthError != "" {
		b.WriteString(" (" + e.OAuthError + ")")
	}
	switch e.StatusCode {
	case http.StatusUnauthorized:
		b.WriteString(" (missing or wrong subscription key, token or credentials; not retried)")
	case http.StatusForbidden:
		b.WriteString(" (refused: check the client certificate and the subscription)")
	}
	if e.RetryAfter > 0 {
		fmt.Fprintf(&b, " (retry after %s)", e.RetryAfter)
	}
	return b.String()
}

// Is maps the status code onto the shared sentinels.
func (e *APIError) Is(target error) bool {
	s := transport.SentinelForStatus(e.StatusCode)
	return s != nil && s == target
}

// Unwrap returns the transport's *transport.HTTPError (raw capped body).
func (e *APIError) Unwrap() error {
	if e.http == nil {
		return nil
	}
	return e.http
}

// DecodeErrorBody decodes an error answer's body for the status: APIM's
// {"statusCode", "message"} or an OAuth {"error", "error_description"}. It
// never fails and keeps no message text.
func DecodeErrorBody(status int, body []byte) *APIError {
	e := &APIError{StatusCode: status}
	decodeErrorBody(e, body)
	return e
}

func decodeErrorBody(e *APIError, body []byte) {
	var env struct {
		StatusCode json.Number `json:"statusCode"`
		Error      string      `json:"error"`
	}
	if json.Unmarshal(body, &env) != nil {
		return
	}
	if n, err := strconv.Atoi(env.StatusCode.String()); err == nil {
		e.APIMStatus = n
	}
	if validOAuthCode(env.Error) {
		e.OAuthError = env.Error
	}
}

// validOAuthCode accepts an RFC 6749 error code: short, lower-case letters
// and underscores. Anything else is not printed.
func validOAuthCode(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, r := range s {
		if (r < 'a' || r > 'z') && r != '_' {
			return false
		}
	}
	return true
}

// wrapErr converts transport errors into *APIError and leaves others.
func wrapErr(err error) error {
	var he *transport.HTTPError
	if errors.As(err, &he) {
		e := &APIError{Method: he.Method, URL: he.URL, StatusCode: he.StatusCode, Attempts: he.Attempts, http: he}
		if d, ok := transport.ParseRetryAfter(he.Header.Get("Retry-After"), time.Now()); ok {
			e.RetryAfter = d
		}
		decodeErrorBody(e, he.Body)
		return e
	}
	return err
}

// DecodeError is a 2xx answer whose body could not be decoded.
type DecodeError struct {
	Method, URL string
	// Path names the part of the answer that was refused, e.g. "Data" or
	// "Data[2].Data"; empty for the body as a whole.
	Path string
	Err  error
}

// Error names the request and the part, not the body.
func (e *DecodeError) Error() string {
	where := ""
	if e.Path != "" {
		where = " at " + e.Path
	}
	return "progres: " + e.Method + " " + e.URL + ": decoding response" + where + ": " + describeJSONErr(e.Err)
}

// Unwrap returns the cause.
func (e *DecodeError) Unwrap() error { return e.Err }

// describeJSONErr avoids quoting values from the body.
func describeJSONErr(err error) string {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	var ve *ValidationError
	switch {
	case errors.As(err, &se):
		return "invalid JSON at offset " + strconv.FormatInt(se.Offset, 10)
	case errors.As(err, &te):
		return "field " + te.Field + " has JSON type " + te.Value
	case errors.As(err, &ve):
		return ve.Error()
	case err != nil && errors.Is(err, errShape):
		return err.Error()
	}
	return "invalid response"
}

// errShape marks decoder errors whose text is written by this package and
// quotes nothing from the body.
var errShape = errors.New("unexpected shape")

// shapeErr returns an error wrapping errShape with a fixed description.
func shapeErr(desc string) error { return fmt.Errorf("%s: %w", desc, errShape) }
