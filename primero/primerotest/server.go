package primerotest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/casebridge/casebridge/internal/fakeserver"
)

// Defaults of a fresh server (synthetic credentials).
const (
	// DefaultUser is a service account with group permission "all".
	DefaultUser = "primero_api"
	// DefaultPassword is DefaultUser's password.
	DefaultPassword = "synthetic-pass-1"
	// DefaultAgency is the agency unique_id of the default users.
	DefaultAgency = "agency-unicef"
	// DefaultRecipient is a second default user, permission "self", that
	// holds receive_referral: a valid referral recipient.
	DefaultRecipient = "synthetic_recipient"
	// DefaultRecipientPassword is DefaultRecipient's password.
	DefaultRecipientPassword = "synthetic-pass-2"
)

// maxBody caps a request body (Primero accepts attachments up to 20 MB).
const maxBody = 25 << 20

// Server is a stateful fake Primero v2 server on loopback. All methods are
// safe for concurrent use.
type Server struct {
	cfg      config
	srv      *http.Server
	listener net.Listener
	url      string

	mu sync.Mutex // guards everything below

	// cases in creation order; index maps by id and case_id.
	cases         []map[string]any
	encoded       [][]byte   // cached JSON of cases[i], nil when stale
	encView       []*view    // the view encoded[i] was rendered for
	encFields     []string   // the fieldsKey encoded[i] was rendered with
	encScratch    []byte     // reused render buffer of encode
	gen           uint64     // write generation: bumped by invalidateLists
	listIdx       *listIndex // sorted and matching indexes of generation gen
	byID          map[string]int
	byCaseID      map[string]int
	createdSorted bool      // cases are in non-decreasing created_at order
	lastStamp     time.Time // newest last_updated_at handed out
	synthSeq      int       // synthetic cases created so far

	transitions map[string][]map[string]any // by case id, creation order
	history     map[string][]map[string]any // record history by case id, oldest first
	flags       map[string][]map[string]any // flags by case id, oldest first
	nextFlagID  int

	users       map[string]*userState
	userOrder   []string
	nextUID     int
	sessions    map[string]*session
	tokens      map[string]*issuedToken
	bearers     map[string]string      // IdP bearer token -> user_name
	blacklisted map[string]bool        // IdP bearer tokens expired by a login or logout
	loginTimes  map[string][]time.Time // throttle key -> recent login POSTs

	forms       []map[string]any
	lookups     []map[string]any
	locations   []*location
	locByCode   map[string]*location
	agencies    []map[string]any
	nextCfgID   int
	roles       map[string]*Role
	schemaCache *schema // nil when forms, lookups, roles or users changed

	lockedFor time.Duration // >0: system locked, 503 on every call

	log fakeserver.Log       // the requests received
	inj *fakeserver.Injector // queued faults, chaos, latency
}

// NewServer starts a fake on 127.0.0.1 and closes it on t.Cleanup.
func NewServer(t testing.TB, opts ...Option) *Server {
	t.Helper()
	s, err := Start(opts...)
	if err != nil {
		t.Fatalf("primerotest: start: %v", err)
	}
	t.Cleanup(s.Close)
	return s
}

// Start starts a fake without a testing.TB (examples, cmd/casebridge-fakes);
// the caller must call Close.
func Start(opts ...Option) (*Server, error) {
	cfg := defaultConfig()
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.err != nil {
		return nil, cfg.err
	}
	s := &Server{
		cfg:           cfg,
		byID:          map[string]int{},
		byCaseID:      map[string]int{},
		createdSorted: true,
		transitions:   map[string][]map[string]any{},
		history:       map[string][]map[string]any{},
		flags:         map[string][]map[string]any{},
		users:         map[string]*userState{},
		sessions:      map[string]*session{},
		tokens:        map[string]*issuedToken{},
		bearers:       map[string]string{},
		blacklisted:   map[string]bool{},
		loginTimes:    map[string][]time.Time{},
		locByCode:     map[string]*location{},
		roles:         map[string]*Role{},
		inj:           fakeserver.NewInjector(faultResponses, isLogin),
	}
	s.inj.SetLatency(cfg.latency)
	if cfg.chaos != nil {
		if err := s.inj.SetChaos(*cfg.chaos); err != nil {
			return nil, err
		}
	}
	s.seedDefaults()
	for _, r := range cfg.roles {
		s.AddRole(r)
	}
	for _, u := range cfg.users {
		s.AddUser(u)
	}
	for tok, name := range cfg.bearers {
		s.bearers[tok] = name
	}
	ln, err := net.Listen("tcp", cfg.addr)
	if err != nil {
		return nil, fmt.Errorf("primerotest: listen on %s: %w", cfg.addr, err)
	}
	s.listener = ln
	s.url = "http://" + ln.Addr().String()
	s.srv = &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = s.srv.Serve(ln) }()
	return s, nil
}

// URL returns the server's base URL, e.g. "http://127.0.0.1:43121" (clients
// append /api/v2/...).
func (s *Server) URL() string { return s.url }

// Close stops the server and closes its open connections (requests held
// by latency or a timeout fault end at once).
func (s *Server) Close() {
	s.inj.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := s.srv.Shutdown(ctx); err != nil {
		_ = s.srv.Close()
	}
}

// now is the server clock.
func (s *Server) now() time.Time { return s.cfg.clock().UTC() }

// ServeHTTP implements http.Handler: it records the request, applies the
// injected faults, latency and the system lock, authenticates, and routes.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody))
	if err != nil {
		writeError(w, r, http.StatusBadRequest, "Bad Request", nil)
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	w.Header().Set("X-Content-Type-Options", "nosniff")

	s.mu.Lock()
	locked := s.lockedFor
	s.mu.Unlock()

	s.inj.Intercept(&s.log, w, r, body, bodyRedaction(r), func(w http.ResponseWriter) {
		if !isJSON(r) {
			// Rails parses a body into params only for a JSON content
			// type: any other body is never read, so it carries no data.
			body = nil
		}
		s.route(w, r, body, locked)
	})
}

// routingError is the detail of a 404 for a route that does not exist.
func routingError(r *http.Request) string {
	return "No route matches [" + r.Method + "] \"" + r.URL.Path + "\""
}

// isJSON reports whether the request declares a JSON body.
func isJSON(r *http.Request) bool {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return err == nil && mt == "application/json"
}

// writeLocked answers 503 while the system is locked for a configuration
// update.
func writeLocked(w http.ResponseWriter, r *http.Request, locked time.Duration) {
	secs := fakeserver.RetryAfterSeconds(locked)
	w.Header().Set("Retry-After", secs)
	writeError(w, r, http.StatusServiceUnavailable, "Service Unavailable", "Retry-After: "+secs)
}

// route dispatches an API request to its handler.
//
// A locked system answers 503 to the public endpoints and to authenticated
// calls; an unauthenticated call to a protected endpoint is 401 first, as
// authenticate_user! runs before the lock check.
func (s *Server) route(w http.ResponseWriter, r *http.Request, body []byte, locked time.Duration) {
	const prefix = "/api/v2/"
	if !strings.HasPrefix(r.URL.Path, prefix) {
		writeError(w, r, http.StatusNotFound, "Not Found", routingError(r))
		return
	}
	parts := strings.Split(strings.Trim(strings.TrimPrefix(r.URL.Path, prefix), "/"), "/")
	m := r.Method

	// Public endpoints (logout too: without a session it is a 200).
	public := len(parts) == 1 && ((parts[0] == "primero" && m == http.MethodGet) ||
		(parts[0] == "identity_providers" && m == http.MethodGet) ||
		(parts[0] == "tokens" && (m == http.MethodPost || m == http.MethodDelete)))
	if public && locked > 0 {
		writeLocked(w, r, locked)
		return
	}
	switch {
	case public && parts[0] == "primero":
		s.handlePrimero(w, r)
		return
	case public && parts[0] == "identity_providers":
		s.handleIdentityProviders(w, r)
		return
	case public && m == http.MethodPost:
		s.handleLogin(w, r, body)
		return
	case public:
		s.handleLogout(w, r)
		return
	}

	u, ok := s.authenticate(w, r)
	if !ok {
		return
	}
	if locked > 0 {
		writeLocked(w, r, locked)
		return
	}

	switch {
	case parts[0] == "cases":
		s.routeCases(w, r, u, parts[1:], body)
	case len(parts) == 1 && parts[0] == "forms" && m == http.MethodGet:
		s.handleForms(w, r)
	case len(parts) == 2 && parts[0] == "forms" && m == http.MethodGet:
		s.handleForm(w, r, parts[1])
	case len(parts) == 1 && parts[0] == "lookups" && m == http.MethodGet:
		s.handleLookups(w, r)
	case len(parts) == 2 && parts[0] == "lookups" && m == http.MethodGet:
		s.handleLookup(w, r, parts[1])
	case len(parts) == 1 && parts[0] == "locations" && m == http.MethodGet:
		s.handleLocations(w, r)
	case len(parts) == 1 && parts[0] == "agencies" && m == http.MethodGet:
		s.handleAgencies(w, r)
	case len(parts) == 1 && parts[0] == "users" && m == http.MethodGet:
		s.handleUsers(w, r)
	case len(parts) == 2 && parts[0] == "users" && parts[1] == "refer-to" && m == http.MethodGet:
		s.handleReferTo(w, r, u)
	default:
		writeError(w, r, http.StatusNotFound, "Not Found", routingError(r))
	}
}

// routeCases dispatches /api/v2/cases/... requests; rest is the path after
// "cases".
func (s *Server) routeCases(w http.ResponseWriter, r *http.Request, u *userState, rest []string, body []byte) {
	m := r.Method
	// PUT routed to update (unconfirmed; Quirks.PutIsPatch).
	isUpdate := m == http.MethodPatch || (m == http.MethodPut && s.cfg.quirks.PutIsPatch)
	switch {
	case len(rest) == 0 && m == http.MethodGet:
		s.handleListCases(w, r, u)
	case len(rest) == 0 && m == http.MethodPost:
		s.handleCreateCase(w, r, u, body)
	case len(rest) == 1 && rest[0] == "referrals" && m == http.MethodPost:
		s.handleBulkReferral(w, r, u, body)
	case len(rest) == 1 && m == http.MethodGet:
		s.handleGetCase(w, r, u, rest[0])
	case len(rest) == 1 && isUpdate:
		s.handleUpdateCase(w, r, u, rest[0], body)
	case len(rest) == 1 && m == http.MethodDelete:
		s.handleDeleteCase(w, r, u, rest[0])
	case len(rest) == 2 && rest[1] == "referrals" && m == http.MethodGet:
		s.handleListReferrals(w, r, u, rest[0], []string{typeReferral})
	case len(rest) == 2 && rest[1] == "transfers" && m == http.MethodGet:
		s.handleListReferrals(w, r, u, rest[0], []string{typeTransfer})
	case len(rest) == 2 && rest[1] == "record_history" && m == http.MethodGet:
		s.handleRecordHistory(w, r, u, rest[0])
	case len(rest) == 2 && rest[1] == "transitions" && m == http.MethodGet:
		var types []string
		if v := r.URL.Query().Get("types"); v != "" {
			types = strings.Split(v, ",")
		}
		s.handleListReferrals(w, r, u, rest[0], types)
	case len(rest) == 2 && rest[1] == "flags" && m == http.MethodGet:
		s.handleListFlags(w, r, u, rest[0])
	case len(rest) == 2 && rest[1] == "flags" && m == http.MethodPost:
		s.handleCreateFlag(w, r, u, rest[0], body)
	case len(rest) == 3 && rest[1] == "flags" && isUpdate:
		s.handleResolveFlag(w, r, u, rest[0], rest[2], body)
	case len(rest) == 2 && rest[1] == "assigns" && m == http.MethodPost:
		s.handleAssign(w, r, u, rest[0], body)
	case len(rest) == 2 && rest[1] == "transfers" && m == http.MethodPost:
		s.handleCreateTransfer(w, r, u, rest[0], body)
	case len(rest) == 3 && rest[1] == "transfers" && isUpdate:
		s.handleUpdateTransfer(w, r, u, rest[0], rest[2], body)
	case len(rest) == 2 && rest[1] == "referrals" && m == http.MethodPost:
		s.handleCreateReferral(w, r, u, rest[0], body)
	case len(rest) == 3 && rest[1] == "referrals" && isUpdate:
		s.handleUpdateReferral(w, r, u, rest[0], rest[2], body)
	case len(rest) == 3 && rest[1] == "referrals" && m == http.MethodDelete:
		s.handleRevokeReferral(w, r, u, rest[0], rest[2])
	default:
		writeError(w, r, http.StatusNotFound, "Not Found", routingError(r))
	}
}

// errNoData is returned by decodeData when the body has no "data" object.
var errNoData = errors.New("param is missing or the value is empty: data")

// errBadJSON is returned by decodeData when a JSON body does not parse.
var errBadJSON = errors.New("error occurred while parsing request parameters")
