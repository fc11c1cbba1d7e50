package primero

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/casebridge/casebridge/internal/transport"
	"golang.org/x/oauth2"
)

// legacyLifetime is Primero's JWT lifetime when the token carries no exp.
const legacyLifetime = time.Hour

// reloginMargin: a new login happens this long before the token expires.
const reloginMargin = 5 * time.Minute

// legacyTokenSource logs in with POST /api/v2/tokens (legacy JWT shape)
// and renews the token reloginMargin before it expires.
type legacyTokenSource struct {
	base       *url.URL
	http       *transport.Client
	user, pass string
	now        func() time.Time

	mu  sync.Mutex
	tok *oauth2.Token
}

func newLegacyTokenSource(base *url.URL, hc *transport.Client, user, pass string) *legacyTokenSource {
	return &legacyTokenSource{base: base, http: hc, user: user, pass: pass, now: time.Now}
}

// Token returns the cached token or logs in again when it is within
// reloginMargin of its expiry.
func (s *legacyTokenSource) Token() (*oauth2.Token, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.tok != nil && s.now().Add(reloginMargin).Before(s.tok.Expiry) {
		return s.tok, nil
	}
	tok, err := s.login()
	if err != nil {
		return nil, err
	}
	s.tok = tok
	return tok, nil
}

func (s *legacyTokenSource) login() (*oauth2.Token, error) {
	body, _ := json.Marshal(map[string]any{"user": map[string]string{"user_name": s.user, "password": s.pass}})
	u := *s.base
	u.Path = s.base.Path + "/api/v2/tokens"
	req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, u.String(), bytes.NewReader(body))
	if err != nil {
		return nil, errors.New("primero: building login request failed")
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	resp, err := s.http.Do(req) // POST: never retried, so a wrong password counts once
	if err != nil {
		return nil, wrapErr(err)
	}
	defer resp.Body.Close()
	var out struct {
		Token string `json:"token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return nil, errors.New("primero: login answer is not JSON")
	}
	if out.Token == "" {
		if h := resp.Header.Get("Authorization"); strings.HasPrefix(h, "Bearer ") {
			out.Token = strings.TrimPrefix(h, "Bearer ")
		}
	}
	if out.Token == "" {
		return nil, errors.New("primero: login returned no token: the server uses v2.11+ sessions; use WithBasicAuth")
	}
	return &oauth2.Token{AccessToken: out.Token, TokenType: "Bearer", Expiry: jwtExpiry(out.Token, s.now())}, nil
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
