package progres

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/casebridge/casebridge/internal/transport"
	"golang.org/x/oauth2"
)

// renewMargin: a token is renewed this long before it expires.
const renewMargin = 2 * time.Minute

// defaultLifetime is assumed when the token answer carries no expires_in.
const defaultLifetime = 5 * time.Minute

// b2cSource gets tokens with the B2C password grant and reuses each until
// renewMargin before its expiry. It is an oauth2.TokenSource for the
// transport's oauth2.Transport. It makes the grant itself rather than
// through oauth2.Config.PasswordCredentialsToken, which cannot send the
// response_type parameter and geo cookie the earlier integration sends, reads expiry
// from the wall clock only (renewal must follow an injectable clock in
// tests), and quotes the token endpoint's body in its errors.
type b2cSource struct {
	tokenURL string
	form     url.Values
	geo      string
	http     *transport.Client
	now      func() time.Time

	mu  sync.Mutex
	tok *oauth2.Token
	gen int // incremented with every new token
}

func newB2CSource(g PasswordGrant, tokenURL string, hc *transport.Client, now func() time.Time) *b2cSource {
	form := url.Values{
		"grant_type":    {"password"},
		"username":      {g.Username},
		"password":      {g.Password},
		"client_id":     {g.ClientID},
		"scope":         {g.Scope},
		"response_type": {"token"},
	}
	geo := g.Geo
	if geo == "" {
		geo = "EU"
	}
	return &b2cSource{tokenURL: tokenURL, form: form, geo: geo, http: hc, now: now}
}

// Token returns the cached token, or a new one when none is cached or the
// cached one is within renewMargin of its expiry.
func (s *b2cSource) Token() (*oauth2.Token, error) { return s.token(context.Background()) }

// token is Token with the caller's context for a grant it has to make.
func (s *b2cSource) token(ctx context.Context) (*oauth2.Token, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.tok != nil && s.now().Add(renewMargin).Before(s.tok.Expiry) {
		return s.tok, nil
	}
	tok, err := s.fetch(ctx)
	if err != nil {
		return nil, err
	}
	s.tok = tok
	s.gen++
	return tok, nil
}

// generation identifies the cached token.
func (s *b2cSource) generation() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.gen
}

// invalidate drops the cached token if it is still generation gen (so
// that concurrent 401s renew it once).
func (s *b2cSource) invalidate(gen int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.gen == gen {
		s.tok = nil
	}
}

// fetch POSTs the password grant once: a failed grant is never retried,
// so a wrong password counts once against any lockout.
func (s *b2cSource) fetch(ctx context.Context) (*oauth2.Token, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.tokenURL, bytes.NewReader([]byte(s.form.Encode())))
	if err != nil {
		return nil, errors.New("progres: building token request failed")
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	if s.geo != "-" {
		req.Header.Set("Cookie", "x-ms-cpim-geo="+s.geo)
	}
	resp, err := s.http.Do(req)
	if err != nil {
		return nil, wrapErr(err)
	}
	defer resp.Body.Close()
	if err := checkStatus(resp); err != nil {
		return nil, err
	}
	var out struct {
		AccessToken string          `json:"access_token"`
		TokenType   string          `json:"token_type"`
		ExpiresIn   json.RawMessage `json:"expires_in"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxAnswer)).Decode(&out); err != nil {
		return nil, errors.New("progres: token answer is not JSON")
	}
	if out.AccessToken == "" {
		return nil, errors.New("progres: token answer has no access_token")
	}
	if out.TokenType != "" && !strings.EqualFold(out.TokenType, "Bearer") {
		return nil, errors.New("progres: token answer is not a bearer token")
	}
	if err := transport.RequireNoControl("access_token", out.AccessToken); err != nil {
		return nil, errors.New("progres: token answer has an unusable access_token")
	}
	life, err := expiresIn(out.ExpiresIn)
	if err != nil {
		return nil, err
	}
	return &oauth2.Token{AccessToken: out.AccessToken, TokenType: "Bearer", Expiry: s.now().Add(life)}, nil
}

// expiresIn reads expires_in as a number or, as B2C documents it, a
// string of digits. Absent means defaultLifetime.
func expiresIn(raw json.RawMessage) (time.Duration, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return defaultLifetime, nil
	}
	s := string(raw)
	if strings.HasPrefix(s, `"`) {
		if json.Unmarshal(raw, &s) != nil {
			return 0, errors.New("progres: token answer has an invalid expires_in")
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 || n > 366*24*3600 {
		return 0, errors.New("progres: token answer has an invalid expires_in")
	}
	return time.Duration(n) * time.Second, nil
}
