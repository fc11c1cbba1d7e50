package transport

import (
	"errors"
	"io"
	"strconv"
)

// DefaultMaxResponseBytes caps the body of a successful response when
// Config.MaxResponseBytes is zero: 64 MiB, room for a page of 1000 large
// cases, far below what would exhaust a small worker's memory.
const DefaultMaxResponseBytes int64 = 64 << 20

// ErrResponseTooLarge is matched by errors.Is on a *ResponseTooLargeError.
var ErrResponseTooLarge = errors.New("response body too large")

// ResponseTooLargeError is a successful response whose body is longer than
// the limit: declared so by its Content-Length (then nothing is read), or
// found so while reading (then reading stops at the limit).
type ResponseTooLargeError struct {
	Method string
	URL    string // redacted with RedactURL
	Limit  int64
}

// Error names the request and the limit.
func (e *ResponseTooLargeError) Error() string {
	return e.Method + " " + e.URL + ": response body exceeds the limit of " + strconv.FormatInt(e.Limit, 10) + " bytes"
}

// Is reports true for ErrResponseTooLarge.
func (e *ResponseTooLargeError) Is(target error) bool { return target == ErrResponseTooLarge }

// limitedBody lets at most limit bytes through; reading past them fails
// with err (and keeps failing).
type limitedBody struct {
	rc   io.ReadCloser
	left int64
	err  *ResponseTooLargeError
}

// Read reads up to the limit, then reports the error if the body goes on.
func (b *limitedBody) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	if b.left <= 0 {
		// At the limit: the body is acceptable only if it ends here.
		var probe [1]byte
		n, err := b.rc.Read(probe[:])
		if n > 0 {
			return 0, b.err
		}
		return 0, err
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.rc.Read(p)
	b.left -= int64(n)
	return n, err
}

// Close closes the underlying body.
func (b *limitedBody) Close() error { return b.rc.Close() }
