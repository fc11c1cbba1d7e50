package primerotest

import "time"

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
	// ReadDenied are case fields the user's role may not read: filters on
	// them are silently ignored (ID fields stay filterable), as Primero
	// does (pitfall 3). Records are still returned whole.
	ReadDenied []string
	// CanOverrideConsent means the user holds consent_override (only
	// checked with Quirks.ConsentOverrideNeedsPermission).
	CanOverrideConsent bool
	// Disabled users cannot log in and cannot receive referrals.
	Disabled bool
}

// Quirks switches the behaviours that reference/primero.md marks
// "(unconfirmed)": each field's default is the fake's best reading of the
// Primero source, and tests can flip it to check a client copes either way.
type Quirks struct {
	// BasicFailuresCountTowardLockout: failed HTTP Basic attempts count
	// toward the 6-failure lockout like failed logins (unconfirmed on a live
	// server). Default true.
	BasicFailuresCountTowardLockout bool
	// PlainText429: the login throttle answers Rack::Attack's plain text
	// "Retry later" (unconfirmed); false answers the JSON error envelope.
	// Default true.
	PlainText429 bool
	// WWWAuthenticate: a 401 carries `WWW-Authenticate: Basic
	// realm="Primero"` (unconfirmed). Default true.
	WWWAuthenticate bool
	// LoginNeedsCSRF: in AuthSession mode the login POST itself must carry
	// the X-CSRF-Token of a CSRF-TOKEN cookie obtained from an earlier GET
	// (unconfirmed). Default false.
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
	// OpenNumericRangeMatchesNothing: `age=5..` (open upper bound on a
	// number) matches nothing, as one Primero code path compares with NULL
	// (unconfirmed); false treats it as >= 5. Default false.
	OpenNumericRangeMatchesNothing bool
	// BulkReferralPartial: a failing record in a bulk referral stops the
	// batch with earlier ones already referred, no transaction
	// (unconfirmed). False validates every record first. Default true.
	BulkReferralPartial bool
	// RemoteReferralsRespondable: an integrator may PATCH a remote referral
	// to accepted/rejected/done (unconfirmed). Default true.
	RemoteReferralsRespondable bool
	// DisabledRecipientBlocksResponse: reject, done or revoke of a
	// non-remote referral whose recipient was disabled since fails with 422
	// to_user_can_receive (unconfirmed). Default true.
	DisabledRecipientBlocksResponse bool
	// AnyoneMayRespond: a referral may be accepted/rejected/done by anyone
	// who can see the case, not only the recipient (unconfirmed). Default
	// true.
	AnyoneMayRespond bool
	// AcceptBumpsCase: accepting a referral recomputes referred_users_accepted
	// and so bumps the case's last_updated_at (unconfirmed; §5.6 lists only
	// create, reject, done and revoke). Default true.
	AcceptBumpsCase bool
	// BasicWithIdP: HTTP Basic keeps working when identity-provider bearer
	// tokens are configured (service accounts; unconfirmed in practice).
	// False refuses Basic with 401 once WithBearerToken is used. Default true.
	BasicWithIdP bool
	// ReloginRedirects: POST /api/v2/tokens while a live session cookie is
	// sent gets Devise's 302 redirect, not JSON (unconfirmed). Default true.
	ReloginRedirects bool
	// RequireModuleID: creating a case without module_id is a 422 "Invalid
	// Record JSON" at /module_id, since permitted fields are computed per
	// module (unconfirmed as a hard requirement). Default false.
	RequireModuleID bool
	// ConsentOverrideNeedsPermission: consent_overridden is refused with 403
	// unless the caller holds consent_override (User.CanOverrideConsent).
	// Primero checks this only in the UI (unconfirmed). Default false.
	ConsentOverrideNeedsPermission bool
	// DropUnknownFields: POST and PATCH silently drop top-level fields that
	// no form defines (Primero's permitted-field filtering). Default true;
	// fields become known through the built-in CPIMS+ list, AddForm and
	// WithFields.
	DropUnknownFields bool
}

// DefaultQuirks returns the default Quirks.
func DefaultQuirks() Quirks {
	return Quirks{
		BasicFailuresCountTowardLockout: true,
		PlainText429:                    true,
		WWWAuthenticate:                 true,
		DuplicateCaseIDConflict:         true,
		PutIsPatch:                      true,
		EmptyFilterMatchesNothing:       true,
		BulkReferralPartial:             true,
		RemoteReferralsRespondable:      true,
		DisabledRecipientBlocksResponse: true,
		AnyoneMayRespond:                true,
		AcceptBumpsCase:                 true,
		DropUnknownFields:               true,
		BasicWithIdP:                    true,
		ReloginRedirects:                true,
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
	}
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

// WithFields declares extra known case fields (name → Primero form field
// type such as "text_field", "date_field", "numeric_field", "tick_box",
// "select_box", "subform"); known fields are writable, filterable and
// validated by type.
func WithFields(fields map[string]string) Option {
	return func(c *config) {
		for k, v := range fields {
			c.fields[k] = v
		}
	}
}
