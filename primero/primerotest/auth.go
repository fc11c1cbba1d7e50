package primerotest

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// userState is a user plus its authentication state.
type userState struct {
	User
	id          int
	failed      int
	lockedUntil time.Time
}

// session is a v2.11 cookie session.
type session struct {
	user     string
	csrf     string
	expires  time.Time
	lastSeen time.Time
}

// issuedToken is a legacy JWT handed out by POST /api/v2/tokens.
type issuedToken struct {
	user    string
	expires time.Time
}

const (
	sessionCookie = "_app_session"
	csrfCookie    = "CSRF-TOKEN"
	csrfHeader    = "X-CSRF-Token"
)

// AddUser adds a user, or replaces the user of the same name (keeping its
// lockout state).
func (s *Server) AddUser(u User) {
	if u.Permission == "" {
		u.Permission = "all"
	}
	if u.FullName == "" {
		u.FullName = "Synthetic " + u.UserName
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.schemaChanged()
	if old, ok := s.users[u.UserName]; ok {
		old.User = u
		return
	}
	s.nextUID++
	s.users[u.UserName] = &userState{User: u, id: s.nextUID}
	s.userOrder = append(s.userOrder, u.UserName)
}

// FailedLogins returns the failed attempts counted toward userName's lockout.
func (s *Server) FailedLogins(userName string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if u, ok := s.users[userName]; ok {
		s.expireLock(u)
		return u.failed
	}
	return 0
}

// Locked reports whether userName is locked out.
func (s *Server) Locked(userName string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ok := s.users[userName]
	return ok && s.isLocked(u)
}

// expireLock resets an expired lock (Devise unlock_strategy :time resets
// the failed attempts when the lock expires).
func (s *Server) expireLock(u *userState) {
	if !u.lockedUntil.IsZero() && !s.now().Before(u.lockedUntil) {
		u.lockedUntil = time.Time{}
		u.failed = 0
	}
}

func (s *Server) isLocked(u *userState) bool {
	s.expireLock(u)
	return !u.lockedUntil.IsZero()
}

// checkPassword checks a user name and password under s.mu, counting a
// failure toward the lockout when count is true. Locked accounts fail even
// with the right password.
func (s *Server) checkPassword(name, password string, count bool) (*userState, bool) {
	u, ok := s.users[name]
	if !ok {
		return nil, false
	}
	if s.isLocked(u) {
		return nil, false
	}
	if u.Password == password && u.Disabled {
		return nil, false // inactive account: refused, not a failed attempt
	}
	if u.Password != password {
		if count {
			u.failed++
			if u.failed >= s.cfg.maxFailed {
				u.lockedUntil = s.now().Add(s.cfg.lockFor)
			}
		}
		return nil, false
	}
	u.failed = 0
	return u, true
}

// authenticate resolves the caller or writes the 401/403 and returns false.
func (s *Server) authenticate(w http.ResponseWriter, r *http.Request) (*userState, bool) {
	s.mu.Lock()
	u, status, msg := s.resolveCaller(r)
	s.mu.Unlock()
	switch status {
	case 0:
		return u, true
	case http.StatusUnauthorized:
		if msg != "" {
			// IdP token errors come from the controller, in the envelope.
			writeUnauthorizedEnvelope(w, r, msg)
		} else {
			writeUnauthorized(w)
		}
	default:
		writeError(w, r, status, msg, nil)
	}
	return nil, false
}

// resolveCaller finds the user of a request under s.mu. It returns a status
// (0 = authenticated) and, for envelope errors, the message.
func (s *Server) resolveCaller(r *http.Request) (*userState, int, string) {
	auth := r.Header.Get("Authorization")
	switch {
	case strings.HasPrefix(auth, "Basic "):
		name, pass, ok := r.BasicAuth()
		// Basic for service accounts in IdP mode (unconfirmed; Quirks.BasicWithIdP).
		if !ok || (len(s.bearers) > 0 && !s.cfg.quirks.BasicWithIdP) {
			return nil, http.StatusUnauthorized, ""
		}
		// Failed Basic attempts count toward the lockout (unconfirmed; Quirks.BasicFailuresCountTowardLockout).
		u, ok := s.checkPassword(name, pass, s.cfg.quirks.BasicFailuresCountTowardLockout)
		if !ok {
			return nil, http.StatusUnauthorized, ""
		}
		return u, 0, ""
	case strings.HasPrefix(auth, "Bearer "):
		tok := strings.TrimPrefix(auth, "Bearer ")
		if s.blacklisted[tok] {
			return nil, http.StatusUnauthorized, "Blacklisted JWT token"
		}
		if name, ok := s.bearers[tok]; ok {
			if u, ok := s.users[name]; ok && !u.Disabled {
				return u, 0, ""
			}
			return nil, http.StatusUnauthorized, ""
		}
		if it, ok := s.tokens[tok]; ok && s.now().Before(it.expires) {
			if u, ok := s.users[it.user]; ok && !u.Disabled && !s.isLocked(u) {
				return u, 0, ""
			}
		}
		if len(s.bearers) > 0 {
			return nil, http.StatusUnauthorized, "Signature verification failed"
		}
		return nil, http.StatusUnauthorized, ""
	}
	if c, err := r.Cookie(sessionCookie); err == nil {
		sess, ok := s.sessions[c.Value]
		now := s.now()
		if !ok || !now.Before(sess.expires) || now.Sub(sess.lastSeen) >= s.cfg.tokenLifetime {
			delete(s.sessions, c.Value)
			return nil, http.StatusUnauthorized, ""
		}
		u, ok := s.users[sess.user]
		if !ok || u.Disabled {
			return nil, http.StatusUnauthorized, ""
		}
		if isWrite(r.Method) && r.Header.Get(csrfHeader) != sess.csrf {
			return nil, http.StatusForbidden, "Can't verify CSRF token authenticity."
		}
		sess.lastSeen = now
		return u, 0, ""
	}
	return nil, http.StatusUnauthorized, ""
}

func isWrite(method string) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return false
	}
	return true
}

// loginBody is the POST /api/v2/tokens body.
type loginBody struct {
	User *struct {
		UserName string `json:"user_name"`
		Password string `json:"password"`
	} `json:"user"`
}

// throttleKey is Rack::Attack's discriminator: the lowercased user name
// without spaces.
func throttleKey(name string) string {
	return strings.ReplaceAll(strings.ToLower(name), " ", "")
}

// handleLogin implements POST /api/v2/tokens in the configured mode.
func (s *Server) handleLogin(w http.ResponseWriter, r *http.Request, body []byte) {
	var lb loginBody
	_ = json.Unmarshal(body, &lb)

	// A bearer (IdP or a live legacy JWT) may re-post without credentials.
	if lb.User == nil && strings.HasPrefix(r.Header.Get("Authorization"), "Bearer ") {
		u, ok := s.authenticate(w, r)
		if !ok {
			return
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		tok := r.Header.Get("Authorization")[len("Bearer "):]
		if _, idp := s.bearers[tok]; idp {
			if s.cfg.version >= 14 {
				// expire_other_user_sessions: the user's other tokens are
				// blacklisted.
				for other, name := range s.bearers {
					if name == u.UserName && other != tok {
						s.blacklisted[other] = true
					}
				}
			}
			writeJSON(w, http.StatusOK, map[string]any{
				"id": u.id, "user_name": u.UserName, "group_permission": u.Permission, "token": tok,
			})
			return
		}
		s.issueToken(w, u)
		return
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	name := ""
	if lb.User != nil {
		name = lb.User.UserName
	}
	// Rack::Attack throttles before authentication.
	if s.throttled(name) {
		// Rack::Attack's default answer: plain text, no Retry-After
		// (Quirks.PlainText429).
		if s.cfg.quirks.PlainText429 {
			w.Header().Set("Content-Type", "text/plain")
			w.WriteHeader(http.StatusTooManyRequests)
			_, _ = w.Write([]byte("Retry later\n"))
			return
		}
		writeError(w, r, http.StatusTooManyRequests, "Retry later", nil)
		return
	}
	// The login itself is CSRF-checked from v2.11, before any credential
	// check (Quirks.LoginNeedsCSRF).
	if s.cfg.authMode == AuthSession && s.cfg.quirks.LoginNeedsCSRF {
		c, err := r.Cookie(csrfCookie)
		if err != nil || c.Value == "" || r.Header.Get(csrfHeader) != c.Value {
			writeError(w, r, http.StatusForbidden, "Can't verify CSRF token authenticity.", nil)
			return
		}
	}
	// Re-login with a live session: Devise's require_no_authentication does
	// nothing for the API's JSON format, so it is a normal login
	// (Quirks.ReloginRedirects for the redirect instead).
	if s.cfg.authMode != AuthLegacyJWT && s.cfg.quirks.ReloginRedirects && s.liveSession(r) {
		w.Header().Set("Location", "/")
		w.WriteHeader(http.StatusFound)
		return
	}
	if lb.User == nil {
		writeError(w, r, http.StatusUnprocessableEntity, "param is missing or the value is empty: user", nil)
		return
	}
	u, ok := s.checkPassword(lb.User.UserName, lb.User.Password, true)
	if !ok {
		writeUnauthorized(w)
		return
	}
	if s.cfg.version >= 12 {
		s.expireSessions(u.UserName) // expire_other_user_sessions on login
	}
	switch s.cfg.authMode {
	case AuthLegacyJWT:
		s.issueToken(w, u)
	default:
		sid, csrf := randomToken(), randomToken()
		now := s.now()
		s.sessions[sid] = &session{user: u.UserName, csrf: csrf, expires: now.Add(s.cfg.tokenLifetime), lastSeen: now}
		http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: sid, Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode})
		http.SetCookie(w, &http.Cookie{Name: csrfCookie, Value: csrf, Path: "/", SameSite: http.SameSiteLaxMode})
		answer := map[string]any{"id": u.id, "user_name": u.UserName}
		if s.cfg.version >= 16 {
			answer["group_permission"] = u.Permission
		}
		writeJSON(w, http.StatusOK, answer)
	}
}

// expireSessions ends every cookie session of a user, under s.mu.
func (s *Server) expireSessions(user string) {
	for id, sess := range s.sessions {
		if sess.user == user {
			delete(s.sessions, id)
		}
	}
}

// throttled records a login POST for name and reports whether it exceeds
// the per-minute limit (Rack::Attack counts every POST, before and whatever
// the authentication outcome).
func (s *Server) throttled(name string) bool {
	key := throttleKey(name)
	if key == "" {
		return false // no user name: Rack::Attack has no discriminator
	}
	now := s.now()
	times := s.loginTimes[key]
	kept := times[:0]
	for _, t := range times {
		if now.Sub(t) < time.Minute {
			kept = append(kept, t)
		}
	}
	kept = append(kept, now)
	s.loginTimes[key] = kept
	return len(kept) > s.cfg.loginsPerMinute
}

// liveSession reports whether r carries a live session cookie, under s.mu.
func (s *Server) liveSession(r *http.Request) bool {
	c, err := r.Cookie(sessionCookie)
	if err != nil {
		return false
	}
	sess, ok := s.sessions[c.Value]
	now := s.now()
	return ok && now.Before(sess.expires) && now.Sub(sess.lastSeen) < s.cfg.tokenLifetime
}

// issueToken answers a legacy JWT login.
func (s *Server) issueToken(w http.ResponseWriter, u *userState) {
	now := s.now()
	payload, _ := json.Marshal(map[string]any{"sub": u.id, "scp": "user", "exp": now.Add(s.cfg.tokenLifetime).Unix(), "jti": randomToken()})
	tok := "eyJhbGciOiJIUzI1NiJ9." + base64.RawURLEncoding.EncodeToString(payload) + "." + randomToken()
	s.tokens[tok] = &issuedToken{user: u.UserName, expires: now.Add(s.cfg.tokenLifetime)}
	w.Header().Set("Authorization", "Bearer "+tok)
	writeJSON(w, http.StatusOK, map[string]any{"id": u.id, "user_name": u.UserName, "token": tok})
}

// handleLogout implements DELETE /api/v2/tokens: 200 {} always. With a
// session it expires every session of the user, not only the caller's; a
// legacy token is revoked and an identity-provider token blacklisted.
// Without a session (a Basic client, or no credentials) nothing is expired.
func (s *Server) handleLogout(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	if c, err := r.Cookie(sessionCookie); err == nil && s.liveSession(r) {
		sess := s.sessions[c.Value]
		if r.Header.Get(csrfHeader) != sess.csrf {
			s.mu.Unlock()
			writeError(w, r, http.StatusForbidden, "Can't verify CSRF token authenticity.", nil)
			return
		}
		s.expireSessions(sess.user)
	}
	if tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
		if it, ok := s.tokens[tok]; ok {
			s.expireSessions(it.user)
			delete(s.tokens, tok)
		}
		if _, ok := s.bearers[tok]; ok {
			s.blacklisted[tok] = true
		}
	}
	s.mu.Unlock()
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", MaxAge: -1})
	writeJSON(w, http.StatusOK, map[string]any{})
}

// handlePrimero implements the public GET /api/v2/primero. In session mode
// it also hands out a CSRF-TOKEN cookie, so a client can log in when the
// login itself is CSRF-checked.
func (s *Server) handlePrimero(w http.ResponseWriter, r *http.Request) {
	if s.cfg.authMode == AuthSession {
		if _, err := r.Cookie(csrfCookie); err != nil {
			http.SetCookie(w, &http.Cookie{Name: csrfCookie, Value: randomToken(), Path: "/", SameSite: http.SameSiteLaxMode})
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": map[string]any{
		"sandbox_ui": false, "config_ui": "full", "webpush_enabled": false,
		"agencies_logo_options": []any{}, "use_identity_provider": len(s.cfg.bearers) > 0,
	}})
}

// handleIdentityProviders implements the public GET /api/v2/identity_providers.
func (s *Server) handleIdentityProviders(w http.ResponseWriter, r *http.Request) {
	data := []any{}
	if len(s.cfg.bearers) > 0 {
		data = append(data, map[string]any{
			"id": 1, "name": "Synthetic IdP", "unique_id": "synthetic-idp", "provider_type": "b2c",
			"authorization_url": s.url + "/idp/authorize", "client_id": "synthetic-client",
			"identity_scope": []string{"openid"}, "verification_url": s.url + "/idp/keys",
		})
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": data, "metadata": map[string]any{"use_identity_provider": len(data) > 0}})
}

// randomToken returns 32 random hex characters.
func randomToken() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("%x", b[:])
}

// randomUUID returns a random version-4 UUID.
func randomUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return formatUUID(b)
}

func formatUUID(b [16]byte) string {
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
