package consent

import (
	"context"
	"slices"
	"time"

	"github.com/casebridge/casebridge/mapping"
)

// Shared records that a record was sent to a recipient: identifiers and a
// time only. Flows keep these (for example in their state store) so that a
// later withdrawal of consent can be propagated (pitfall 38).
type Shared struct {
	Record    RecordRef
	Recipient Party
	Time      time.Time
}

// SharedLookup finds what was shared before for one record. The referral
// state store is the natural implementation.
type SharedLookup interface {
	SharedWith(ctx context.Context, ref RecordRef) ([]Shared, error)
}

// Revocation tells a flow to act for one recipient because consent for a
// record it received is no longer given.
type Revocation struct {
	Record    RecordRef
	Recipient Party
	// SharedAt is when the record was shared with Recipient.
	SharedAt time.Time
	// Action is the policy's revocation action.
	Action RevocationAction
	// Reasons are the consent reason codes that caused the revocation.
	Reasons []Reason
	// PolicyID and PolicyHash identify the policy that decided.
	PolicyID   string
	PolicyHash string
}

// ConsentWithdrawn reports whether rec's consent no longer holds, and why.
// It looks only at the consent, revocation and assent conditions (not at
// recipient, purpose or service, and no override applies): a record whose
// consent fields are now false, missing, unreadable, or whose revoked_field
// holds anything but null or an explicit false (see Gate.Check) has had its
// consent withdrawn. Missing consent counts, because
// the gate cannot prove consent for it; flows that read partial records
// must pass the full record.
func (p *Policy) ConsentWithdrawn(rec mapping.Record, asOf time.Time) ([]Reason, bool) {
	g := &Gate{p: p, asOf: asOfDate(asOf)}
	d := g.Check(rec)
	var out []Reason
	for _, r := range d.Reasons {
		if r.overridable() || r == ReasonConsentRevoked || r == ReasonRevocationInvalid {
			out = append(out, r)
		}
	}
	return out, len(out) > 0
}

// Revocations returns one Revocation per recipient in shared that received
// the record ref, when rec's consent is withdrawn (see ConsentWithdrawn).
// Entries for other records are ignored, and a recipient shared with more
// than once yields one revocation (with the earliest time). It returns nil
// when consent still holds. The gate already denies further sends of rec;
// the revocations are what flows must do about data already sent.
func (p *Policy) Revocations(ref RecordRef, rec mapping.Record, shared []Shared, asOf time.Time) []Revocation {
	reasons, withdrawn := p.ConsentWithdrawn(rec, asOf)
	if !withdrawn {
		return nil
	}
	var out []Revocation
	index := map[Party]int{}
	for _, s := range shared {
		if s.Record != ref {
			continue
		}
		if i, ok := index[s.Recipient]; ok {
			if s.Time.Before(out[i].SharedAt) {
				out[i].SharedAt = s.Time
			}
			continue
		}
		index[s.Recipient] = len(out)
		out = append(out, Revocation{
			Record: ref, Recipient: s.Recipient, SharedAt: s.Time,
			Action: p.revocation, Reasons: slices.Clone(reasons),
			PolicyID: p.id, PolicyHash: p.hash,
		})
	}
	return out
}

// LookupRevocations is Revocations with the shared list read from a
// SharedLookup.
func (p *Policy) LookupRevocations(ctx context.Context, ref RecordRef, rec mapping.Record, l SharedLookup, asOf time.Time) ([]Revocation, error) {
	if _, withdrawn := p.ConsentWithdrawn(rec, asOf); !withdrawn {
		return nil, nil
	}
	shared, err := l.SharedWith(ctx, ref)
	if err != nil {
		return nil, err
	}
	return p.Revocations(ref, rec, shared, asOf), nil
}
