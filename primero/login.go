package primero

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/casebridge/casebridge/internal/transport"
)

// legacyLifetime is Primero's JWT lifetime when the token carries no exp.
const legacyLifetime = time.Hour

// reloginMargin: a new login happens this long before the token expires.
const reloginMargin = 5 * time.Minute

// legacyLogin logs in with POST /api/v2/tokens (the legacy JWT shape),
// renews the token reloginMargin before it expires, and never posts a
// password Primero refused until reset (each refusal counts toward the
// account lock, pitfall 29).
//
// One login runs at a time; callers waiting for it give up when their own
// context ends, and the login itself is bound to the context of the call
// that started it.
type legacyLogin struct {
	c          *Client
	user, pass string
	now        func() time.Time

	sem chan struct{} // held while a login is in flight

	mu      sync.Mutex
	tok     string
	expiry  time.Time
	refused error // set when the server refused the login (401 or 403)
}

func newLegacyLogin(c *Client, user, pass string) *legacyLogin {
	return &legacyLogin{c: c, user: user, pass: pass, now: time.Now, sem: make(chan struct{}, 1)}
}

// cached returns the token if it is still good, or the refusal.
func (s *legacyLogin) cached() (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.refused != nil {
		return "", s.refused
	}
	if s.tok != "" && s.now().Add(reloginMargin).Before(s.expiry) {
		return s.tok, nil
	}
	return "", nil
}

// token returns a valid token, logging in when needed.
func (s *legacyLogin) token(ctx context.Context) (string, error) {
	if tok, err := s.cached(); tok != "" || err != nil {
		return tok, err
	}
	select {
	case s.sem <- struct{}{}:
	case <-ctx.Done():
		return "", fmt.Errorf("primero: waiting for the login in progress: %w", ctx.Err())
	}
	defer func() { <-s.sem }()
	// Another caller may have logged in (or been refused) meanwhile.
	if tok, err := s.cached(); tok != "" || err != nil {
		return tok, err
	}
	tok, expiry, err := s.login(ctx)
	s.mu.Lock()
	defer s.mu.Unlock()
	if err != nil {
		var ae *APIError
		if errors.As(err, &ae) {
			switch ae.StatusCode {
			case http.StatusUnauthorized:
				s.refused = &transport.CredentialsRejectedError{Method: http.MethodPost, URL: transport.RedactURL(s.c.endpoint("tokens", nil))}
			case http.StatusForbidden:
				// v2.11+ checks a CSRF token before the credentials: the
				// legacy login can never succeed there.
				err = fmt.Errorf("primero: the legacy login was refused (403): the server uses v2.11+ sessions, which need a CSRF token; use WithBasicAuth: %w", err)
				s.refused = err
			}
		}
		return "", err
	}
	s.tok, s.expiry = tok, expiry
	return tok, nil
}

// reset forgets the token and a refusal: the next call logs in.
func (s *legacyLogin) reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tok, s.expiry, s.refused = "", time.Time{}, nil
}

// login posts the credentials once (a POST is never retried, so a wrong
// password counts once) and reads the token from the body or the
// Authorization header.
func (s *legacyLogin) login(ctx context.Context) (string, time.Time, error) {
	body := map[string]any{"user": map[string]string{"user_name": s.user, "password": s.pass}}
	var out struct {
		Token string `json:"token"`
	}
	_, hdr, err := s.c.send(ctx, http.MethodPost, s.c.endpoint("tokens", nil), body, &out, nil)
	if err != nil {
		return "", time.Time{}, err
	}
	if out.Token == "" {
		if h := hdr.Get("Authorization"); strings.HasPrefix(h, "Bearer ") {
			out.Token = strings.TrimPrefix(h, "Bearer ")
		}
	}
	if out.Token == "" {
		return "", time.Time{}, errors.New("primero: login returned no token: the server uses v2.11+ sessions; use WithBasicAuth")
	}
	return out.Token, jwtExpiry(out.Token, s.now()), nil
}

// jwtExpiry reads the exp claim of a JWT without verifying it (the server
// does); without one it assumes Primero's 1 h lifetime.
func jwtExpiry(tok string, now time.Time) time.Time {
	parts := strings.Split(tok, ".")
	if len(parts) == 3 {
		if raw, err := base64.RawURLEncoding.DecodeString(parts[1]); err == nil {
			var claims struct {
				Exp int64 `json:"exp"`
			}
			if json.Unmarshal(raw, &claims) == nil && claims.Exp > 0 {
				return time.Unix(claims.Exp, 0)
			}
		}
	}
	return now.Add(legacyLifetime)
}
