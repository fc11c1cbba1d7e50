package transport

import (
	"context"
	"errors"
	"math/rand/v2"
	"net/http"
	"strconv"
	"time"
)

// RetryPolicy says how often and how patiently a request is retried.
type RetryPolicy struct {
	// MaxRetries is the number of retries after the first attempt (0 disables retries).
	MaxRetries int
	// MinWait is the first backoff; each retry doubles it, up to MaxWait.
	MinWait time.Duration
	// MaxWait caps the exponential backoff.
	MaxWait time.Duration
	// MaxRetryAfter caps a server's Retry-After: a longer request is waited
	// for only this long. Zero means the default cap (60s): a Retry-After is
	// never ignored.
	MaxRetryAfter time.Duration
}

// withDefaults fills the fields whose zero value means "the default".
func (p RetryPolicy) withDefaults() RetryPolicy {
	if p.MaxRetryAfter == 0 {
		p.MaxRetryAfter = DefaultRetryPolicy().MaxRetryAfter
	}
	return p
}

// DefaultRetryPolicy is 3 retries, 200ms doubling up to 5s, Retry-After capped at 60s.
func DefaultRetryPolicy() RetryPolicy {
	return RetryPolicy{MaxRetries: 3, MinWait: 200 * time.Millisecond, MaxWait: 5 * time.Second, MaxRetryAfter: 60 * time.Second}
}

// Validate checks the policy; errors name the field under "RetryPolicy".
func (p RetryPolicy) Validate() error {
	v := &ValidationError{}
	if p.MaxRetries < 0 || p.MaxRetries > 20 {
		v.Add("RetryPolicy.MaxRetries", "must be between 0 and 20")
	}
	if p.MinWait < 0 {
		v.Add("RetryPolicy.MinWait", "must not be negative")
	}
	if p.MaxWait < p.MinWait {
		v.Add("RetryPolicy.MaxWait", "must not be less than MinWait")
	}
	if p.MaxRetryAfter < 0 {
		v.Add("RetryPolicy.MaxRetryAfter", "must not be negative")
	}
	return v.Err()
}

type idempotentKey struct{}

// Idempotent marks the requests made with ctx as safe to retry even when
// their method is a write (POST, PATCH). Use it only for a write the server
// deduplicates (an idempotency key, a client-made id that answers 409 when
// repeated, ...).
func Idempotent(ctx context.Context) context.Context {
	return context.WithValue(ctx, idempotentKey{}, true)
}

// IsIdempotent reports whether ctx was marked with Idempotent.
func IsIdempotent(ctx context.Context) bool {
	v, _ := ctx.Value(idempotentKey{}).(bool)
	return v
}

// SafeMethod reports whether a method may be repeated without a second effect.
func SafeMethod(method string) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodPut, http.MethodDelete, http.MethodOptions:
		return true
	}
	return false
}

// callState travels in the request context through one Do call.
type callState struct {
	method   string
	retry    bool // the request may be retried
	attempts int
}

type callStateKey struct{}

func stateFrom(ctx context.Context) *callState {
	s, _ := ctx.Value(callStateKey{}).(*callState)
	return s
}

// Retryable reports whether a response status may be retried for a
// retry-safe request: 408, 429 and 5xx except 501. 401 and 403 never are.
func Retryable(status int) bool {
	switch {
	case status == http.StatusRequestTimeout, status == http.StatusTooManyRequests:
		return true
	case status == http.StatusNotImplemented:
		return false
	case status >= 500:
		return true
	}
	return false
}

// checkRetry is the retryablehttp.CheckRetry of the transport.
func checkRetry(ctx context.Context, resp *http.Response, err error) (bool, error) {
	if ctxErr := ctx.Err(); ctxErr != nil {
		return false, ctxErr
	}
	st := stateFrom(ctx)
	safe := st != nil && st.retry
	if err != nil {
		var te *TokenError
		var cre *CredentialsRejectedError
		if errors.As(err, &te) || errors.As(err, &cre) {
			return false, nil
		}
		return safe, nil
	}
	if resp == nil {
		return false, nil
	}
	return safe && Retryable(resp.StatusCode), nil
}

// backoff returns the wait before retry number attempt (0-based): a capped
// Retry-After for 429 and 503 when the server sent one, else exponential
// backoff with jitter (a random wait between half and all of min·2^attempt,
// capped at max).
func (p RetryPolicy) backoff(min, max time.Duration, attempt int, resp *http.Response) time.Duration {
	if resp != nil && (resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable) {
		if d, ok := ParseRetryAfter(resp.Header.Get("Retry-After"), time.Now()); ok {
			if d > p.MaxRetryAfter {
				d = p.MaxRetryAfter
			}
			return d
		}
	}
	if min <= 0 {
		return 0
	}
	d := min
	for i := 0; i < attempt && d < max; i++ {
		d *= 2
	}
	if d > max {
		d = max
	}
	half := d / 2
	if half <= 0 {
		return d
	}
	return half + time.Duration(rand.Int64N(int64(half)+1))
}

// ParseRetryAfter reads a Retry-After header: delay seconds or an HTTP date
// (relative to now). It reports false for an empty or invalid value; a date
// in the past gives 0.
func ParseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	if v == "" {
		return 0, false
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		if n < 0 {
			return 0, false
		}
		if n > int64(24*time.Hour/time.Second) {
			n = int64(24 * time.Hour / time.Second)
		}
		return time.Duration(n) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		d := t.Sub(now)
		if d < 0 {
			d = 0
		}
		return d, true
	}
	return 0, false
}
