package referral

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"
)

// Nothing missed: while a cycle runs (at its k-th request, for k across a
// whole run), proGres sends a new intervention, a caseworker refers a new
// case to the UNHCR user and decides on the services already in Primero.
// The next cycle picks every one of these up (the cursors advance only
// past what was read, never to "now"), and the world then ends with each
// delivered exactly once.
func TestChangeDuringRunIsPickedUpNextRun(t *testing.T) {
	for _, gw := range e2eGateways {
		t.Run(gw.name, func(t *testing.T) {
			ref := newE2EWorld(t, gw.ping, e2eFast, crashSize)
			ref.runUntilQuiet(context.Background(), 0, 25)
			total := ref.count.seen()
			for k := 2; k <= total; k += 5 {
				t.Run("change-at-"+itoa(int64(k)), func(t *testing.T) {
					ctx := context.Background()
					w := newE2EWorld(t, gw.ping, e2eFast, crashSize)
					var decided map[int]string
					changed := false
					w.count.arm(k, func() {
						w.addNew()
						w.react(ctx)
						decided = map[int]string{}
						for i, s := range w.decidedOut {
							decided[i] = s
						}
						changed = true
					})
					for range 25 {
						if _, moved, _ := w.cycle(ctx); changed || (!moved && (w.ping || w.h.DTP.Pending() == 0)) {
							break
						}
					}
					require.True(t, changed, "the change was made during a cycle")
					_, _, err := w.cycle(ctx)
					require.NoError(t, err)

					_, ok := w.caseWithService(w.n)
					require.True(t, ok, "the intervention sent during the run is in Primero after the next run")
					j := e2eOutFirst + w.m - 1
					if gw.ping {
						require.Positive(t, w.summarize().Raw["outbound:"+itoa(int64(j))], "the referral made during the run reached PING")
					} else {
						require.Positive(t, w.h.DTP.DistinctReferrals()[compositeKey(t, w.out[j])], "the referral made during the run reached DTP")
					}
					s := w.summarize()
					for i := range decided {
						w.assertDecisionSent(i, s)
					}

					w.runUntilQuiet(ctx, 0, 25)
					w.assertExactlyOnce(w.summarize())
				})
			}
		})
	}
}
