package referral

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/casebridge/casebridge/consent"
	"github.com/casebridge/casebridge/sqlsink"
)

// Link kinds the outbound flows keep in the state store beside "service"
// (the intake's) and "referral".
const (
	// LinkShared records that a record was shared with a recipient: from
	// the record (a Primero case) to {System: "<system>/<agency>", ID:
	// "<record id>/<RFC 3339 time of the first share>"}.
	LinkShared = "shared"
	// LinkRevoked records that consent was withdrawn on a record after it
	// was shared: from the record to {System: "<system>/<agency>", ID:
	// "revoked:<record id>"}. While it is stored no flow sends anything
	// further about the record to that recipient (pitfall 38).
	LinkRevoked = "revoked"
)

// sharedTimeLayout is how a share time is kept in a link id (whole
// seconds, UTC: identifiers allow no spaces).
const sharedTimeLayout = "2006-01-02T15:04:05Z"

// RecordShared records in tx that ref was shared with recipient at t.
// Only the first share is kept: sharing the same record again later is a
// no-op, so that Revocation.SharedAt says when the recipient first had it.
func RecordShared(ctx context.Context, tx sqlsink.StateTx, ref consent.RecordRef, recipient consent.Party, t time.Time) error {
	sys := recipient.String()
	if _, ok, err := tx.LinkTo(ctx, LinkShared, ref, sys); err != nil || ok {
		return err
	}
	return tx.PutLink(ctx, sqlsink.Link{Kind: LinkShared, From: ref,
		To: consent.RecordRef{System: sys, ID: ref.ID + "/" + t.UTC().Format(sharedTimeLayout)}})
}

// SharedLookup is a consent.SharedLookup over a state store: what
// RecordShared recorded for each of the recipients. Use it with
// consent.Policy.LookupRevocations.
type SharedLookup struct {
	State sqlsink.State
	// Recipients are the parties to look for (usually the policy's
	// Receivers).
	Recipients []consent.Party
}

// SharedWith returns the recipients ref was shared with, and when.
func (l SharedLookup) SharedWith(ctx context.Context, ref consent.RecordRef) ([]consent.Shared, error) {
	var out []consent.Shared
	for _, p := range l.Recipients {
		id, ok, err := l.State.LinkTo(ctx, LinkShared, ref, p.String())
		if err != nil {
			return nil, err
		}
		if !ok {
			continue
		}
		i := strings.LastIndexByte(id, '/')
		ts, found := id[i+1:], i >= 0
		t, perr := time.Parse(sharedTimeLayout, ts)
		if !found || perr != nil {
			return nil, errors.New("referral: state: a shared link holds no readable time")
		}
		out = append(out, consent.Shared{Record: ref, Recipient: p, Time: t})
	}
	return out, nil
}

// revokedLink is the link that blocks ref for recipient.
func revokedLink(ref consent.RecordRef, recipient consent.Party) sqlsink.Link {
	return sqlsink.Link{Kind: LinkRevoked, From: ref, To: consent.RecordRef{System: recipient.String(), ID: "revoked:" + ref.ID}}
}

// Blocked reports whether consent was withdrawn on ref after it was shared
// with recipient (a LinkRevoked is stored): flows then send nothing
// further about it to that recipient, and apply none of the recipient's
// decisions on it. Every flow towards or from that recipient should check
// it; the outbound flows store it when they detect the withdrawal.
func Blocked(ctx context.Context, st sqlsink.State, ref consent.RecordRef, recipient consent.Party) (bool, error) {
	_, ok, err := st.LinkTo(ctx, LinkRevoked, ref, recipient.String())
	return ok, err
}

// Unblock removes the block Blocked reports, after a person has checked
// that the case may be shared with recipient again (for example consent
// was given anew and recorded). The flows store a block when they detect a
// withdrawal and never remove one themselves.
func Unblock(ctx context.Context, st sqlsink.State, flow string, ref consent.RecordRef, recipient consent.Party) error {
	return st.Update(ctx, flow, func(tx sqlsink.StateTx) error { return tx.DeleteLink(ctx, revokedLink(ref, recipient)) })
}
