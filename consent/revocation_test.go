package consent

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/casebridge/casebridge/mapping"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var (
	ref   = RecordRef{System: "primero", ID: "case-00000001"}
	other = RecordRef{System: "primero", ID: "case-00000002"}
	ngo   = Party{System: "oscar", Agency: "ngo-a"}
	t1    = time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC)
	t2    = time.Date(2026, 2, 1, 9, 0, 0, 0, time.UTC)
)

func sharedList() []Shared {
	return []Shared{
		{Record: ref, Recipient: unhcr, Time: t2},
		{Record: ref, Recipient: ngo, Time: t1},
		{Record: ref, Recipient: unhcr, Time: t1}, // shared twice: one revocation
		{Record: other, Recipient: unhcr, Time: t1},
	}
}

func TestRevocationsWhenConsentWithdrawn(t *testing.T) {
	p := loadTestPolicy(t)
	cases := []struct {
		name   string
		mutate func(mapping.Record)
		want   []Reason
	}{
		{"consent false", func(r mapping.Record) { r["consent_for_services"] = false }, []Reason{ReasonConsentFalse}},
		{"disclosure withdrawn", func(r mapping.Record) { r["disclosure_other_orgs"] = false }, []Reason{ReasonConsentFalse}},
		{"revoked marker", func(r mapping.Record) { r["consent_withdrawn"] = true }, []Reason{ReasonConsentRevoked}},
		{"consent removed", func(r mapping.Record) { delete(r, "consent_for_services") }, []Reason{ReasonConsentMissing}},
		{"assent withdrawn for a minor", func(r mapping.Record) { r["date_of_birth"] = "2012-01-01"; r["child_assent"] = false }, []Reason{ReasonAssentFalse}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rec := okRecord()
			tc.mutate(rec)
			revs := p.Revocations(ref, rec, sharedList(), asOf)
			require.Len(t, revs, 2)
			assert.Equal(t, Revocation{Record: ref, Recipient: unhcr, SharedAt: t1, Action: RevokeAndNotify,
				Reasons: tc.want, PolicyID: p.ID(), PolicyHash: p.Hash()}, revs[0])
			assert.Equal(t, ngo, revs[1].Recipient)
			assert.Equal(t, t1, revs[1].SharedAt)
			// and the gate blocks further sends
			assert.False(t, p.Check(rec, okRequest()).Allowed)
		})
	}
}

func TestNoRevocationWhileConsentHolds(t *testing.T) {
	p := loadTestPolicy(t)
	assert.Nil(t, p.Revocations(ref, okRecord(), sharedList(), asOf))
	// a service-type change is not a consent withdrawal
	rec := okRecord()
	rec["services_section"] = []any{map[string]any{"service_type": "legal_aid"}}
	assert.Nil(t, p.Revocations(ref, rec, sharedList(), asOf))
	_, withdrawn := p.ConsentWithdrawn(rec, asOf)
	assert.False(t, withdrawn)
}

func TestNoRevocationWhenNothingShared(t *testing.T) {
	p := loadTestPolicy(t)
	rec := okRecord()
	rec["consent_for_services"] = false
	assert.Empty(t, p.Revocations(RecordRef{System: "primero", ID: "never-shared"}, rec, sharedList(), asOf))
}

type lookupFunc func(ctx context.Context, ref RecordRef) ([]Shared, error)

func (f lookupFunc) SharedWith(ctx context.Context, ref RecordRef) ([]Shared, error) {
	return f(ctx, ref)
}

func TestLookupRevocations(t *testing.T) {
	p := loadTestPolicy(t)
	calls := 0
	l := lookupFunc(func(_ context.Context, r RecordRef) ([]Shared, error) {
		calls++
		return sharedList(), nil
	})
	revs, err := p.LookupRevocations(context.Background(), ref, okRecord(), l, asOf)
	require.NoError(t, err)
	assert.Nil(t, revs)
	assert.Equal(t, 0, calls, "no lookup while consent holds")

	rec := okRecord()
	rec["consent_withdrawn"] = true
	revs, err = p.LookupRevocations(context.Background(), ref, rec, l, asOf)
	require.NoError(t, err)
	assert.Len(t, revs, 2)

	boom := errors.New("store down")
	_, err = p.LookupRevocations(context.Background(), ref, rec,
		lookupFunc(func(context.Context, RecordRef) ([]Shared, error) { return nil, boom }), asOf)
	assert.ErrorIs(t, err, boom)
}

func TestRevocationActionFromPolicy(t *testing.T) {
	for _, action := range []RevocationAction{RevokeAndNotify, RevokeOnly, NotifyOnly} {
		src := strings.Replace(testPolicySource(t), "action: revoke_and_notify", "action: "+string(action), 1)
		p, err := Compile([]byte(src))
		require.NoError(t, err)
		rec := okRecord()
		rec["consent_for_services"] = false
		revs := p.Revocations(ref, rec, sharedList(), asOf)
		require.NotEmpty(t, revs)
		assert.Equal(t, action, revs[0].Action)
	}
}
