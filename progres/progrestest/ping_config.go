package progrestest

import "time"

// CheckStatusShape selects how checkstatus answers a finished ingestion.
type CheckStatusShape int

const (
	// StatusMalformed answers Data as a string holding the per-record
	// array, each record's inner Data object serialised without escaping
	// its quotes: the malformed answer the reference integration repairs
	// (default).
	StatusMalformed CheckStatusShape = iota
	// StatusString answers Data as a properly escaped JSON string.
	StatusString
	// StatusParsed answers Data as a JSON array.
	StatusParsed
)

// PINGConfig configures the PING fake. Member names and shapes the
// reference marks unconfirmed are set here.
type PINGConfig struct {
	Tenant   string // B2C tenant in the token path (default "casebridgetest")
	Policy   string // B2C policy in the token path (default "B2C_1_ROPC")
	ClientID string
	Scope    string
	Username string
	Password string
	// TokenLifetime is the expires_in of issued tokens (default 1h).
	TokenLifetime time.Duration
	// ExpiresInNumber answers expires_in as a number; the default is a
	// string, as B2C documents it.
	ExpiresInNumber bool

	PartnerID string // default "PNR-0001"
	InteropID string // default "INT-0001"
	// PageSize is the number of rows per fetch page (default 50).
	PageSize int
	// RecordIDColumns maps a ShippingProcessId to the column its
	// {record_ids} parameter filters on.
	RecordIDColumns map[string]string
	// ShippingProcesses are the ids the fake answers; others get 400.
	ShippingProcesses []string

	// StatusShape selects the checkstatus answer's Data form.
	StatusShape CheckStatusShape
	// PendingPolls is how many checkstatus polls of a transaction answer
	// Data null before the results (default 0).
	PendingPolls int
	// StatusMember and MessageMember are the per-record member names
	// besides Data (unconfirmed; default "Status" and "Message").
	StatusMember, MessageMember string
	// ListCreatedReferrals, when not 0, makes a referral created by async
	// ingestion (SHPCreateReferral) appear in the decision list and detail
	// (SHPDecisions, SHPDecisionDetail) with this interoperability status,
	// as soon as it is ingested. Whether proGres lists a new referral
	// there before deciding it is not public (unconfirmed): 0, the
	// default, lists nothing until a decision is added.
	ListCreatedReferrals int
}

// Defaults of the PING fake (synthetic credentials).
const (
	DefaultB2CTenant = "casebridgetest"
	DefaultB2CPolicy = "B2C_1_ROPC"
	DefaultClientID  = "00000000-0000-4000-8000-00000000c11e"
	DefaultScope     = "https://casebridgetest.onmicrosoft.com/ping/API.Read"
	DefaultUsername  = "ping-integration@example.org"
	DefaultPassword  = "synthetic-ping-pass-1"
	DefaultPartnerID = "PNR-0001"
	DefaultInteropID = "INT-0001"
)

// DefaultPINGConfig returns the fake's defaults: the reference
// deployment's ShippingProcessIds and detail filters.
func DefaultPINGConfig() PINGConfig {
	return PINGConfig{
		Tenant: DefaultB2CTenant, Policy: DefaultB2CPolicy, ClientID: DefaultClientID, Scope: DefaultScope,
		Username: DefaultUsername, Password: DefaultPassword, TokenLifetime: time.Hour,
		PartnerID: DefaultPartnerID, InteropID: DefaultInteropID, PageSize: 50,
		RecordIDColumns: map[string]string{
			SHPInterventionDetail: "progres_lpinterventionid",
			SHPDecisionDetail:     "progres_interoperabilityreferralid",
		},
		ShippingProcesses: []string{SHPPendingInterventions, SHPInterventionDetail, SHPTransferStatus, SHPDecisions, SHPDecisionDetail, SHPMarkSynced, SHPCreateReferral},
		StatusMember:      "Status", MessageMember: "Message",
	}
}

// The reference deployment's ShippingProcessIds.
const (
	SHPPendingInterventions = "SHP-2747"
	SHPInterventionDetail   = "SHP-2358"
	SHPTransferStatus       = "SHP-2748"
	SHPDecisions            = "SHP-2795"
	SHPDecisionDetail       = "SHP-2796"
	SHPMarkSynced           = "SHP-2284"
	SHPCreateReferral       = "SHP-2731"
)
