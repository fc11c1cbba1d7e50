package transport

import (
	"crypto/sha256"
	"errors"
	"net/http"
	"sync/atomic"
)

// ErrCredentialsRejected is matched by errors.Is on a
// *CredentialsRejectedError: the request was not sent, because the server
// had already refused its credentials with 401.
var ErrCredentialsRejected = errors.New("credentials refused earlier: not sent again")

// CredentialsRejectedError is a request that was not sent because the
// server answered 401 to the same credentials before
// (Config.StopAfterUnauthorized). errors.Is matches ErrUnauthorized and
// ErrCredentialsRejected. Nothing from any response is in it.
type CredentialsRejectedError struct {
	Method string
	URL    string // redacted with RedactURL
}

// Error says the request was not sent and why.
func (e *CredentialsRejectedError) Error() string {
	return e.Method + " " + e.URL + ": not sent: the server refused these credentials with 401 earlier; " +
		"they are not sent again until the client is reset"
}

// Is reports true for ErrUnauthorized and ErrCredentialsRejected.
func (e *CredentialsRejectedError) Is(target error) bool {
	return target == ErrUnauthorized || target == ErrCredentialsRejected
}

// authGuard sits just above the base RoundTripper, where every credential
// is in place (Basic, or a bearer added by oauth2.Transport). It remembers
// a fingerprint of the Authorization header last refused with 401 and
// fails, without sending, every later request carrying the same header.
// A request with other credentials (a refreshed token) is sent. Requests
// already on the wire when the 401 arrives are not recalled: at most the
// in-flight ones reach the server.
type authGuard struct {
	next    http.RoundTripper
	refused atomic.Pointer[[sha256.Size]byte]
}

// RoundTrip refuses credentials refused before, else sends and watches
// for a 401.
func (g *authGuard) RoundTrip(req *http.Request) (*http.Response, error) {
	auth := req.Header.Get("Authorization")
	if auth == "" {
		return g.next.RoundTrip(req)
	}
	fp := sha256.Sum256([]byte(auth))
	if r := g.refused.Load(); r != nil && *r == fp {
		if req.Body != nil {
			_ = req.Body.Close() // a RoundTripper always closes the body
		}
		return nil, &CredentialsRejectedError{Method: req.Method, URL: RedactURL(req.URL)}
	}
	resp, err := g.next.RoundTrip(req)
	if err == nil && resp.StatusCode == http.StatusUnauthorized {
		g.refused.Store(&fp)
	}
	return resp, err
}

// reset forgets the refused credentials.
func (g *authGuard) reset() { g.refused.Store(nil) }
