package referral

// Names of the embedded specs and policy of the flows from Primero to
// proGres (referrals) and back (proGres decisions), for Spec and Policy.
const (
	// SpecReferralDTP maps a Primero referral to a DTP
	// ReceiveIncomingReferral body.
	SpecReferralDTP = "gambella-primero-to-progres-dtp"
	// SpecReferralPING maps a Primero referral to the Fields of a PING
	// async ingestion (SHP-2731).
	SpecReferralPING = "gambella-primero-to-progres-ping"
	// SpecDecisionIn maps a proGres decision to the Primero referral's
	// status and rejection reason.
	SpecDecisionIn = "gambella-progres-decision-to-primero"
	// PolicyOutbound: Primero (UNICEF) refers children to proGres (UNHCR).
	PolicyOutbound = "gambella-primero-unhcr"
)

// The names of the flows of this direction (their state, lock and audit
// trail are kept under them).
const (
	// FlowReferralsDTP sends Primero referrals to proGres through DTP.
	FlowReferralsDTP = "primero-referrals-dtp"
	// FlowReferralsPING sends Primero referrals to proGres through PING.
	FlowReferralsPING = "primero-referrals-ping"
	// FlowProgresDecisionsDTP applies proGres decisions pushed by DTP.
	FlowProgresDecisionsDTP = "progres-decisions-dtp"
	// FlowProgresDecisionsPING applies proGres decisions polled from PING.
	FlowProgresDecisionsPING = "progres-decisions-ping"
)
