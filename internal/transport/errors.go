package transport

import (
	"errors"
	"fmt"
	"net/http"

	"golang.org/x/oauth2"
)

// Sentinel errors shared by every client. Clients re-export them
// (var ErrNotFound = transport.ErrNotFound) so that errors.Is works the same
// across systems.
var (
	// ErrBadRequest: the server refused the request as malformed (400).
	ErrBadRequest = errors.New("bad request")
	// ErrUnauthorized: missing, wrong or expired credentials (401). Never retried.
	ErrUnauthorized = errors.New("unauthorized")
	// ErrForbidden: authenticated but not allowed (403). Never retried.
	ErrForbidden = errors.New("forbidden")
	// ErrNotFound: the resource does not exist or is not visible (404).
	ErrNotFound = errors.New("not found")
	// ErrConflict: the write conflicts with existing state, e.g. a duplicate id (409).
	ErrConflict = errors.New("conflict")
	// ErrValidation: the input was refused, by the client before sending or by the server (422).
	ErrValidation = errors.New("validation failed")
	// ErrLocked: the resource or account is locked (423).
	ErrLocked = errors.New("locked")
	// ErrRateLimited: too many requests (429).
	ErrRateLimited = errors.New("rate limited")
	// ErrUnavailable: the service is temporarily unavailable (502, 503, 504).
	ErrUnavailable = errors.New("service unavailable")
	// ErrServer: any other server error (5xx).
	ErrServer = errors.New("server error")
	// ErrTimeout: the server reported a request timeout (408).
	ErrTimeout = errors.New("request timeout")
)

// SentinelForStatus returns the sentinel error matching an HTTP status code,
// or nil for a status below 400 or a 4xx without a sentinel.
func SentinelForStatus(status int) error {
	switch status {
	case http.StatusBadRequest:
		return ErrBadRequest
	case http.StatusUnauthorized:
		return ErrUnauthorized
	case http.StatusForbidden:
		return ErrForbidden
	case http.StatusNotFound, http.StatusGone:
		return ErrNotFound
	case http.StatusRequestTimeout:
		return ErrTimeout
	case http.StatusConflict:
		return ErrConflict
	case http.StatusUnprocessableEntity:
		return ErrValidation
	case http.StatusLocked:
		return ErrLocked
	case http.StatusTooManyRequests:
		return ErrRateLimited
	case http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return ErrUnavailable
	}
	if status >= 500 {
		return ErrServer
	}
	return nil
}

// HTTPError is the final response of a request that ended with a status of
// 400 or more: the status, the response headers (credentials removed), the
// body capped at [MaxErrorBody] bytes and the URL with secrets removed.
// Clients embed or wrap it in their own *APIError, which decodes Body.
// Error never prints the body (it may echo personal data).
type HTTPError struct {
	Method     string
	URL        string // redacted with RedactURL
	StatusCode int
	Header     http.Header // Set-Cookie and credential headers removed
	Body       []byte      // at most MaxErrorBody bytes
	Truncated  bool        // true if the body was longer than MaxErrorBody
	Attempts   int         // how many times the request was sent
}

// Error returns "METHOD redacted-url: status N Status-Text".
func (e *HTTPError) Error() string {
	return fmt.Sprintf("%s %s: status %d %s", e.Method, e.URL, e.StatusCode, http.StatusText(e.StatusCode))
}

// Is maps the status code onto the shared sentinels.
func (e *HTTPError) Is(target error) bool {
	s := SentinelForStatus(e.StatusCode)
	return s != nil && s == target
}

// RequestError is a request that got no HTTP response (connection refused,
// reset, DNS failure, token source failure, cancelled context). The URL is
// redacted and the underlying error stripped of the URL it may quote.
type RequestError struct {
	Method   string
	URL      string // redacted with RedactURL
	Attempts int
	Err      error
}

// Error returns "METHOD redacted-url: after N attempt(s): cause", with
// the quoted parts of the cause (bytes the server sent) elided.
func (e *RequestError) Error() string {
	return fmt.Sprintf("%s %s: after %d attempt(s): %s", e.Method, e.URL, e.Attempts, elideQuoted(fmt.Sprint(e.Err)))
}

// Unwrap returns the underlying cause (for errors.Is with context.Canceled,
// net errors, ...).
func (e *RequestError) Unwrap() error { return e.Err }

// TokenError wraps a failure of the oauth2.TokenSource. It is never retried.
type TokenError struct{ Err error }

// Error says the token could not be obtained, without the token endpoint's
// body, a non-standard error code, or the quoted parts of the cause.
func (e *TokenError) Error() string {
	var re *oauth2.RetrieveError
	if errors.As(e.Err, &re) && re.Response != nil {
		// RetrieveError.Error quotes the token endpoint's body: never print it.
		msg := fmt.Sprintf("obtaining access token: token endpoint answered status %d", re.Response.StatusCode)
		if oauth2ErrorCodes[re.ErrorCode] {
			// Only the standard codes: a server may put anything in "error".
			msg += " (" + re.ErrorCode + ")"
		}
		return msg
	}
	return "obtaining access token: " + elideQuoted(cleanErr(e.Err).Error())
}

// oauth2ErrorCodes are the token endpoint error codes of RFC 6749 §5.2.
var oauth2ErrorCodes = map[string]bool{
	"invalid_request": true, "invalid_client": true, "invalid_grant": true,
	"unauthorized_client": true, "unsupported_grant_type": true, "invalid_scope": true,
}

// Unwrap returns the token source's error.
func (e *TokenError) Unwrap() error { return e.Err }

// Is reports ErrUnauthorized: without a token the request cannot authenticate.
func (e *TokenError) Is(target error) bool { return target == ErrUnauthorized }
