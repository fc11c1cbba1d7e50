package referral

import (
	"context"
	"testing"
	"time"

	"github.com/casebridge/casebridge/consent"
	"github.com/casebridge/casebridge/primero"
	"github.com/casebridge/casebridge/sqlsink"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestLoadWatermarkRefusesToGuess(t *testing.T) {
	ctx := context.Background()
	st := sqlsink.NewMemoryState()
	_, err := loadWatermark(ctx, st, "decisions", time.Time{})
	require.ErrorIs(t, err, ErrNoCursor, "no cursor and no start: refuse")

	start := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	wm, err := loadWatermark(ctx, st, "decisions", start)
	require.NoError(t, err)
	assert.Equal(t, primero.Watermark{At: start}, wm, "the explicit start is used when nothing is stored")

	stored := primero.Watermark{At: start.Add(time.Hour), IDs: []string{"a1"}}
	require.NoError(t, st.Update(ctx, "decisions", func(tx sqlsink.StateTx) error {
		return tx.SetCursor(ctx, stored.String())
	}))
	wm, err = loadWatermark(ctx, st, "decisions", start)
	require.NoError(t, err)
	assert.Equal(t, stored, wm, "a stored cursor wins over the start")

	require.NoError(t, st.Update(ctx, "broken", func(tx sqlsink.StateTx) error {
		return tx.SetCursor(ctx, "not a watermark")
	}))
	_, err = loadWatermark(ctx, st, "broken", start)
	require.Error(t, err, "a corrupt cursor is an error, never a restart from the start")
}

func TestTrailIsResumedOncePerFlow(t *testing.T) {
	ctx := context.Background()
	st := sqlsink.NewMemoryState()
	c := &Common{State: st, Now: func() time.Time { return time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC) }}
	var ts trails
	a, err := ts.trail(ctx, c, "intake")
	require.NoError(t, err)
	again, err := ts.trail(ctx, c, "intake")
	require.NoError(t, err)
	assert.Same(t, a, again)
	_, err = a.Append(ctx, consent.DeliveryEvent("intake", consent.RecordRef{System: "progres", ID: "803-23-PRTITV-0000001"},
		consent.Party{System: "primero", Agency: "unicef"}, nil, "", consent.OutcomeDelivered))
	require.NoError(t, err)

	var fresh trails // a restarted process continues the stored chain
	b, err := fresh.trail(ctx, c, "intake")
	require.NoError(t, err)
	seq, _ := b.Head()
	assert.EqualValues(t, 1, seq)
	sum, err := sqlsink.VerifyAudit(ctx, st.AuditLog("intake"))
	require.NoError(t, err)
	assert.EqualValues(t, 1, sum.Events)
}
