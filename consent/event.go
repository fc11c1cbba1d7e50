package consent

import (
	"context"
	"time"
)

// RecordRef identifies a record without carrying any of its content: the
// system it lives in and that system's id for it.
type RecordRef struct {
	System string `json:"system"`
	ID     string `json:"id"`
}

// Event is one entry of the audit trail: a gate decision, a delivery, or a
// revocation. It holds identifiers, timestamps, hashes and reason codes only,
// never personal data.
type Event struct {
	// Seq is the event's position in its trail, starting at 1.
	Seq int64 `json:"seq"`
	// Time is when the event happened (UTC).
	Time time.Time `json:"time"`
	// Kind is "decision", "delivery" or "revocation".
	Kind string `json:"kind"`
	// Flow names the flow that produced the event.
	Flow        string    `json:"flow,omitempty"`
	PolicyID    string    `json:"policy_id,omitempty"`
	PolicyHash  string    `json:"policy_hash,omitempty"`
	MappingHash string    `json:"mapping_hash,omitempty"`
	Record      RecordRef `json:"record"`
	// Recipient identifies the receiving party (system/agency), when known.
	Recipient string `json:"recipient,omitempty"`
	// Decision is "allow", "deny" or "revoke".
	Decision string `json:"decision,omitempty"`
	// Reasons are reason codes, never free text about the person.
	Reasons []string `json:"reasons,omitempty"`
	// Outcome is the result of a delivery ("delivered", "failed", …).
	Outcome string `json:"outcome,omitempty"`
	// PrevHash is the Hash of the previous event ("" for the first).
	PrevHash string `json:"prev_hash"`
	// Hash is the hex SHA-256 over the event's canonical form with Hash
	// empty; it chains the trail.
	Hash string `json:"hash"`
}

// Sink stores audit events in the order they are appended. Events reach a
// sink already sequenced and hash-chained.
type Sink interface {
	Append(ctx context.Context, e Event) error
}
