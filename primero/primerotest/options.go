package primerotest

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// AuthMode selects which login flow POST /api/v2/tokens implements. HTTP
// Basic is accepted in every mode.
type AuthMode int

const (
	// AuthBasic: HTTP Basic on every request (default; always accepted).
	// POST /api/v2/tokens then answers in the current (v2.11+) session shape.
	AuthBasic AuthMode = iota
	// AuthSession: v2.11+; POST /api/v2/tokens sets the _app_session and
	// CSRF-TOKEN cookies and returns no token; writes need X-CSRF-Token.
	AuthSession
	// AuthLegacyJWT: v2.0-2.10; POST /api/v2/tokens returns
	// {"id","user_name","token"} and an Authorization response header; the
	// client sends "Authorization: Bearer <token>".
	AuthLegacyJWT
)

// String returns the mode's name: basic, session or legacy.
func (m AuthMode) String() string {
	switch m {
	case AuthSession:
		return "session"
	case AuthLegacyJWT:
		return "legacy"
	}
	return "basic"
}

// User is a Primero user known to the fake.
type User struct {
	UserName, Password, FullName, Agency, Email, Phone, Position string
	// Permission is the scope of GET /cases: "all" (default), "group",
	// "agency" or "self".
	Permission string
	// Groups are the user group unique_ids (used by the "group" scope).
	Groups []string
	// Location is the user's location code (users/refer-to filter).
	Location string
	// Services are the service types the user provides.
	Services []string
	// CanReceiveReferrals means the user holds receive_referral (a valid
	// referral recipient).
	CanReceiveReferrals bool
	// Role is the unique_id of the user's role (AddRole, WithRole); empty
	// or unknown means DefaultRole, which reads and writes every form.
	Role string
	// ReadDenied are case fields taken out of what the user's role reads,
	// a shortcut for a narrower role: they are not rendered, and filters
	// on them are silently ignored, ID fields included, as Primero ignores
	// filters on unreadable fields (pitfall 3).
	ReadDenied []string
	// CanOverrideConsent means the user holds consent_override (only
	// checked with Quirks.ConsentOverrideNeedsPermission).
	CanOverrideConsent bool
	// Disabled users cannot log in and cannot receive referrals.
	Disabled bool
}

// Quirks switches the behaviours docs/systems/primero.md lists as
// unconfirmed on a running server: each field's default is the fake's best
// reading of the Primero source, and tests can flip it to check a client
// copes either way.
type Quirks struct {
	// BasicFailuresCountTowardLockout: failed HTTP Basic attempts count
	// toward the 6-failure lockout like failed logins (unconfirmed on a live
	// server). Default true.
	BasicFailuresCountTowardLockout bool
	// PlainText429: the login throttle answers Rack::Attack's plain text
	// "Retry later" with no Retry-After; false answers the JSON error
	// envelope. Default true.
	PlainText429 bool
	// LoginNeedsCSRF: in AuthSession mode the login POST itself must carry
	// the X-CSRF-Token of a CSRF-TOKEN cookie obtained from an earlier GET,
	// such as the public GET /api/v2/primero (v2.11+; read in source).
	// Default true.
	LoginNeedsCSRF bool
	// DuplicateCaseIDConflict: creating a case whose case_id exists is a
	// 409 like a duplicate id (unique index; unconfirmed). Default true.
	DuplicateCaseIDConflict bool
	// PutIsPatch: PUT /cases/:id behaves as PATCH (Rails routing;
	// unconfirmed). Default true.
	PutIsPatch bool
	// EmptyFilterMatchesNothing: an empty filter value (`sex=`) compares
	// with null and matches nothing (unconfirmed); false ignores it.
	// Default true.
	EmptyFilterMatchesNothing bool
	// OpenNumericRangeMatchesNothing: `age=5..` (open upper bound) on a
	// field with a srch_ integer column matches nothing, as Primero compares
	// the upper bound with NULL (read in source); false treats it as >= 5.
	// Other numeric fields always take `a..` as >= a. Default true.
	OpenNumericRangeMatchesNothing bool
	// BulkReferralPartial: a failing record in a bulk referral stops the
	// batch with earlier ones already referred, no transaction
	// (unconfirmed). False validates every record first. Default true.
	BulkReferralPartial bool
	// RemoteReferralsRespondable: an integrator may PATCH a remote referral
	// to accepted/rejected/done (unconfirmed). Default true.
	RemoteReferralsRespondable bool
	// DisabledRecipientBlocksResponse: accept, reject or done of a
	// non-remote referral whose recipient was disabled (or lost
	// receive_referral) since fails with 422 to_user_can_receive; revoke is
	// never blocked (read in source). Default true.
	DisabledRecipientBlocksResponse bool
	// AnyoneMayRespond: a referral may be accepted/rejected/done by anyone
	// who can read and update the case, not only the recipient (read in
	// source). Default true.
	AnyoneMayRespond bool
	// AcceptBumpsCase: accepting a referral saves the case, so its
	// last_updated_at moves (last_updated_by does not). Default true.
	AcceptBumpsCase bool
	// BasicWithIdP: HTTP Basic keeps working when identity-provider bearer
	// tokens are configured (service accounts; unconfirmed in practice).
	// False refuses Basic with 401 once WithBearerToken is used. Default true.
	BasicWithIdP bool
	// ReloginRedirects: POST /api/v2/tokens while a live session cookie is
	// sent gets a 302 redirect. Devise answers JSON there for the API's
	// non-navigational format (read in source), so the default is false.
	ReloginRedirects bool
	// RequireModuleID: creating a case without module_id is a 422 "Invalid
	// Record JSON" at /module_id. Primero instead keeps only the core
	// fields and answers 200 (read in source); this switch is for clients
	// that want the loud variant in tests. Default false.
	RequireModuleID bool
	// ConsentOverrideNeedsPermission: consent_overridden is refused with 403
	// unless the caller holds consent_override (User.CanOverrideConsent).
	// Primero checks this only in the UI (unconfirmed). Default false.
	ConsentOverrideNeedsPermission bool
}

// DefaultQuirks returns the default Quirks.
func DefaultQuirks() Quirks {
	return Quirks{
		BasicFailuresCountTowardLockout: true,
		PlainText429:                    true,
		LoginNeedsCSRF:                  true,
		DuplicateCaseIDConflict:         true,
		PutIsPatch:                      true,
		EmptyFilterMatchesNothing:       true,
		OpenNumericRangeMatchesNothing:  true,
		BulkReferralPartial:             true,
		RemoteReferralsRespondable:      true,
		DisabledRecipientBlocksResponse: true,
		AnyoneMayRespond:                true,
		AcceptBumpsCase:                 true,
		BasicWithIdP:                    true,
	}
}

// config is what the Options set.
type config struct {
	addr            string
	authMode        AuthMode
	users           []User
	bearers         map[string]string
	tokenLifetime   time.Duration
	clock           func() time.Time
	latency         time.Duration
	quirks          Quirks
	maxFailed       int
	lockFor         time.Duration
	loginsPerMinute int
	fields          map[string]string
	roles           []Role
	version         int // Primero 2.x minor version
	chaos           *Chaos
	err             error
}

func defaultConfig() config {
	return config{
		addr:            "127.0.0.1:0",
		bearers:         map[string]string{},
		tokenLifetime:   time.Hour,
		clock:           time.Now,
		quirks:          DefaultQuirks(),
		maxFailed:       6,
		lockFor:         30 * time.Minute,
		loginsPerMinute: 6,
		fields:          map[string]string{},
		version:         DefaultVersion,
	}
}

// DefaultVersion is the Primero v2 minor version the fake behaves as by
// default: the development line after v2.16.
const DefaultVersion = 16

// WithVersion selects the Primero version ("2.11", "v2.14.3") whose
// version-dependent behaviours the fake reproduces:
//
//   - from 2.12 a password login expires the user's other sessions;
//   - from 2.14 a bearer POST /api/v2/tokens (identity provider) expires
//     the user's other bearer tokens, which then get 401;
//   - from 2.16 the login answer carries group_permission.
//
// The login flow itself is WithAuthMode (session login exists from 2.11,
// the legacy JWT until 2.10). An unparsable version is reported by Start.
func WithVersion(v string) Option {
	return func(c *config) {
		minor, err := parseMinor(v)
		if err != nil {
			c.err = err
			return
		}
		c.version = minor
	}
}

// parseMinor reads the minor version of a "2.x[.y]" version string.
func parseMinor(v string) (int, error) {
	parts := strings.Split(strings.TrimPrefix(v, "v"), ".")
	if len(parts) < 2 || parts[0] != "2" {
		return 0, fmt.Errorf("primerotest: version %q is not a Primero v2 version", v)
	}
	minor, err := strconv.Atoi(parts[1])
	if err != nil || minor < 0 {
		return 0, fmt.Errorf("primerotest: version %q is not a Primero v2 version", v)
	}
	return minor, nil
}

// Option configures a Server.
type Option func(*config)

// WithAuthMode selects the login flow of /api/v2/tokens (Basic always works).
func WithAuthMode(m AuthMode) Option { return func(c *config) { c.authMode = m } }

// WithUser adds a user (can be repeated); a user with an existing name
// replaces it.
func WithUser(u User) Option { return func(c *config) { c.users = append(c.users, u) } }

// WithBearerToken accepts "Authorization: Bearer <token>" as userName (the
// identity-provider mode).
func WithBearerToken(token, userName string) Option {
	return func(c *config) { c.bearers[token] = userName }
}

// WithTokenLifetime sets the legacy JWT and session lifetime (default 1h).
func WithTokenLifetime(d time.Duration) Option { return func(c *config) { c.tokenLifetime = d } }

// WithClock sets the server clock (default time.Now).
func WithClock(now func() time.Time) Option { return func(c *config) { c.clock = now } }

// WithLatency delays every response by d.
func WithLatency(d time.Duration) Option { return func(c *config) { c.latency = d } }

// WithAddr sets the listen address (default "127.0.0.1:0", a free loopback
// port).
func WithAddr(addr string) Option { return func(c *config) { c.addr = addr } }

// WithQuirks replaces the switches for unconfirmed behaviours.
func WithQuirks(q Quirks) Option { return func(c *config) { c.quirks = q } }

// WithLockout sets the failed attempts that lock an account (default 6) and
// how long it stays locked (default 30 minutes).
func WithLockout(maxFailed int, lockFor time.Duration) Option {
	return func(c *config) { c.maxFailed, c.lockFor = maxFailed, lockFor }
}

// WithLoginRateLimit sets how many POST /api/v2/tokens per minute a user
// name may make before 429 (default 6).
func WithLoginRateLimit(perMinute int) Option {
	return func(c *config) { c.loginsPerMinute = perMinute }
}

// WithFields declares extra case fields (name → Primero form field type
// such as "text_field", "date_field", "numeric_field", "tick_box",
// "select_box", "subform") on a form of every module, which the default
// role reads and writes: they are rendered, writable, filterable and
// validated by type (the rows of a declared subform are kept whole).
func WithFields(fields map[string]string) Option {
	return func(c *config) {
		for k, v := range fields {
			c.fields[k] = v
		}
	}
}
