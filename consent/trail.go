package consent

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"
)

// Event kinds.
const (
	KindDecision   = "decision"
	KindDelivery   = "delivery"
	KindRevocation = "revocation"
)

// Event decisions.
const (
	DecisionAllow  = "allow"
	DecisionDeny   = "deny"
	DecisionRevoke = "revoke"
)

// CanonicalEvent returns the canonical encoding of e: encoding/json of the
// Event with Hash set to "" and Time in UTC. It is the exact text HashEvent
// hashes, and (with Hash filled in) the exact line FileSink writes.
func CanonicalEvent(e Event) []byte {
	e.Hash = ""
	e.Time = e.Time.UTC()
	b, err := json.Marshal(e)
	if err != nil {
		// Event holds only strings, ints, a time and a string slice.
		panic("consent: encode event: " + err.Error())
	}
	return b
}

// HashEvent returns the hex SHA-256 of CanonicalEvent(e). A sink that
// stores events elsewhere (SQL) can recompute it to check each row.
func HashEvent(e Event) string {
	sum := sha256.Sum256(CanonicalEvent(e))
	return hex.EncodeToString(sum[:])
}

// Trail sequences audit events, chains them by hash and appends them to a
// Sink. It is safe for concurrent use; events are numbered in the order
// Append is called.
type Trail struct {
	mu   sync.Mutex
	sink Sink
	seq  int64
	prev string
	now  func() time.Time
	// pending is the event whose Append failed. It holds the next sequence
	// number and is re-sent before anything else, because a sink may have
	// stored it anyway: the first sinks of a MultiSink, or a database that
	// committed and lost its answer.
	pending *pendingEvent
}

// pendingEvent is a failed event as the caller gave it (in) and as it was
// sent (out: sequenced, chained, timed).
type pendingEvent struct{ in, out Event }

// TrailOption configures a Trail.
type TrailOption func(*Trail)

// WithClock sets the clock used for events whose Time is zero (tests).
func WithClock(now func() time.Time) TrailOption {
	return func(t *Trail) { t.now = now }
}

// ResumeFrom continues an existing trail after its last event: the next
// event gets last.Seq+1 and PrevHash last.Hash. A zero Event starts anew.
func ResumeFrom(last Event) TrailOption {
	return func(t *Trail) { t.seq, t.prev = last.Seq, last.Hash }
}

// NewTrail returns a trail appending to sink.
func NewTrail(sink Sink, opts ...TrailOption) *Trail {
	t := &Trail{sink: sink, now: time.Now}
	for _, o := range opts {
		o(t)
	}
	return t
}

// Append checks that e holds only codes and identifiers (a known Kind and
// Decision, and every other string as checkEvent describes), fills in its
// Seq, PrevHash, Hash (and Time, when zero), appends it to the sink and
// returns the event as stored.
//
// If the sink fails, the trail does not advance past the event, but keeps
// it: the next Append (or Flush) first re-sends that same event, with the
// same Seq, Time and Hash, and only then sequences its own. So a sink that
// took the event before the failure (the first sinks of a MultiSink, or a
// database that committed and lost its answer) sees it again and must
// treat a re-append of its last (Seq, Hash) as done, as FileSink and
// package sqlsink do; no sink is ever sent two events with one Seq. While
// the re-send keeps failing, Append returns the error and sequences
// nothing. Calling Append again with the very event that failed (a retry)
// records it once.
func (t *Trail) Append(ctx context.Context, e Event) (Event, error) {
	if err := checkEvent(e); err != nil {
		return Event{}, err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if p := t.pending; p != nil {
		if err := t.flush(ctx); err != nil {
			return Event{}, err
		}
		if sameEvent(p.in, e) {
			return p.out, nil
		}
	}
	in := e
	if e.Time.IsZero() {
		e.Time = t.now()
	}
	e.Time = e.Time.UTC()
	e.Seq = t.seq + 1
	e.PrevHash = t.prev
	e.Hash = HashEvent(e)
	if err := t.sink.Append(ctx, e); err != nil {
		// Keep copies: the caller owns the Reasons it passed.
		e.Reasons = slices.Clone(e.Reasons)
		in.Reasons = e.Reasons
		t.pending = &pendingEvent{in: in, out: e}
		return Event{}, fmt.Errorf("consent: audit append seq %d: %w", e.Seq, err)
	}
	t.seq, t.prev = e.Seq, e.Hash
	return e, nil
}

// Flush re-sends the event whose Append failed, if there is one, and
// reports whether the sink took it. Call it before stopping, so that an
// event the caller was told had failed is not left half-stored.
func (t *Trail) Flush(ctx context.Context) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.flush(ctx)
}

// flush re-sends the pending event; t.mu is held.
func (t *Trail) flush(ctx context.Context) error {
	p := t.pending
	if p == nil {
		return nil
	}
	if err := t.sink.Append(ctx, p.out); err != nil {
		return fmt.Errorf("consent: audit append seq %d (re-sending the event whose append failed): %w", p.out.Seq, err)
	}
	t.pending = nil
	t.seq, t.prev = p.out.Seq, p.out.Hash
	return nil
}

// sameEvent reports whether a and b are the same event as given to Append
// (their canonical encodings are equal).
func sameEvent(a, b Event) bool { return bytes.Equal(CanonicalEvent(a), CanonicalEvent(b)) }

// checkEvent refuses events that are not made of codes and identifiers:
// Kind and Decision must be known values, PolicyHash and MappingHash
// content hashes ("sha256:" and hex), and every other string (flow, policy
// id, record system and id, recipient, outcome, each reason) an
// identifier as IsIdentifier describes. Errors name the field, never its
// value.
func checkEvent(e Event) error {
	switch e.Kind {
	case KindDecision, KindDelivery, KindRevocation:
	default:
		return errors.New("consent: audit event kind must be decision, delivery or revocation")
	}
	switch e.Decision {
	case "", DecisionAllow, DecisionDeny, DecisionRevoke:
	default:
		return errors.New("consent: audit event decision must be allow, deny or revoke")
	}
	for _, f := range [...]struct{ name, v string }{{"policy_hash", e.PolicyHash}, {"mapping_hash", e.MappingHash}} {
		if f.v != "" && !isHash(f.v) {
			return fmt.Errorf("consent: audit event %s is not a content hash (algorithm:hex, as sha256:…)", f.name)
		}
	}
	for _, f := range [...]struct{ name, v string }{
		{"flow", e.Flow}, {"policy_id", e.PolicyID}, {"record.system", e.Record.System},
		{"record.id", e.Record.ID}, {"recipient", e.Recipient}, {"outcome", e.Outcome},
	} {
		if f.v != "" && !IsIdentifier(f.v) {
			return fmt.Errorf("consent: audit event %s is not an identifier or code (see consent.IsIdentifier)", f.name)
		}
	}
	for i, r := range e.Reasons {
		if !IsIdentifier(r) {
			return fmt.Errorf("consent: audit event reasons[%d] is not a code (see consent.IsIdentifier)", i)
		}
	}
	return nil
}

// Head returns the sequence number and hash of the last appended event.
// Keep it somewhere else than the trail (a database row, a signed log): a
// trail whose tail was cut off, or which was rewritten from start to end,
// still verifies on its own, but no longer ends at the saved head.
func (t *Trail) Head() (seq int64, hash string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.seq, t.prev
}

func reasonStrings(rs []Reason) []string {
	if len(rs) == 0 {
		return nil
	}
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = string(r)
	}
	return out
}

// DecisionEvent builds the audit event for a gate decision. It takes only
// identifiers, hashes and the decision's reason codes.
func DecisionEvent(flow string, ref RecordRef, recipient Party, d Decision, mappingHash string) Event {
	dec := DecisionDeny
	if d.Allowed {
		dec = DecisionAllow
	}
	reasons := reasonStrings(d.Reasons)
	if d.Overridden && d.OverrideReason != "" {
		reasons = append(reasons, "override_reason:"+d.OverrideReason)
	}
	return Event{
		Kind: KindDecision, Flow: flow, PolicyID: d.PolicyID, PolicyHash: d.PolicyHash,
		MappingHash: mappingHash, Record: ref, Recipient: recipient.String(),
		Decision: dec, Reasons: reasons,
	}
}

// Delivery outcomes.
const (
	// OutcomeIntended is written before a send, so that a send is never
	// made without a record: a crash between the two leaves the intent,
	// which a flow resolves on its next run.
	OutcomeIntended = "intended"
	// OutcomeDelivered: the recipient's system took the record.
	OutcomeDelivered = "delivered"
	// OutcomeFailed: the send failed (reasons say how, as codes).
	OutcomeFailed = "failed"
)

// DeliveryEvent builds the audit event for a delivery attempt. outcome is
// a code such as OutcomeIntended, OutcomeDelivered or OutcomeFailed; reasons are codes
// (for example an error class such as "http_503"), never error text.
func DeliveryEvent(flow string, ref RecordRef, recipient Party, policy *Policy, mappingHash, outcome string, reasons ...string) Event {
	e := Event{
		Kind: KindDelivery, Flow: flow, MappingHash: mappingHash, Record: ref,
		Recipient: recipient.String(), Outcome: outcome,
	}
	if len(reasons) > 0 {
		e.Reasons = append([]string(nil), reasons...)
	}
	if policy != nil {
		e.PolicyID, e.PolicyHash = policy.id, policy.hash
	}
	return e
}

// RevocationEvent builds the audit event for a revocation decision; outcome
// is what the flow did about it (for example "revoked", "notified",
// "failed"), empty when it is recorded before acting.
func RevocationEvent(flow string, r Revocation, outcome string) Event {
	return Event{
		Kind: KindRevocation, Flow: flow, PolicyID: r.PolicyID, PolicyHash: r.PolicyHash,
		Record: r.Record, Recipient: r.Recipient.String(), Decision: DecisionRevoke,
		Reasons: append(reasonStrings(r.Reasons), "action:"+string(r.Action)), Outcome: outcome,
	}
}
