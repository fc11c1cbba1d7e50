package referral

import (
	"context"
	"os"
	"testing"

	"github.com/stretchr/testify/require"
)

// crashSize is the set the crash test stops at every request of: small, so
// that every request can be the one the process stops at.
var crashSize = e2eSize{Interventions: 4, OutCases: 2}

// Crash safety: the process stops (its context is cancelled) at the k-th
// request the flows make or serve, for every k of an uninterrupted run
// (every fifth in CI; CASEBRIDGE_CRASH_ALL=1 for every k); a new process (fresh
// flows on the same SQLite state) then runs until quiet, and the fakes
// end in the state the uninterrupted run left; running again changes
// nothing.
func TestCrashAtEveryRequestConverges(t *testing.T) {
	stride := 5
	if os.Getenv("CASEBRIDGE_CRASH_ALL") != "" {
		stride = 1
	}
	for _, gw := range e2eGateways {
		t.Run(gw.name, func(t *testing.T) {
			ref := newE2EWorld(t, gw.ping, e2eFast, crashSize)
			ref.runUntilQuiet(context.Background(), 0, 25)
			want := ref.summarize()
			ref.assertExactlyOnce(want)
			total := ref.count.seen()
			t.Logf("an uninterrupted run makes or serves %d requests", total)
			for k := 1; k <= total; k += stride {
				t.Run("stop-at-"+itoa(int64(k)), func(t *testing.T) {
					w := newE2EWorld(t, gw.ping, e2eFast, crashSize, withSQLite())
					ctx, stop := context.WithCancel(context.Background())
					defer stop()
					w.proc.Store(&ctx)
					w.count.arm(k, stop)
					for range 25 {
						if _, moved, _ := w.cycle(ctx); ctx.Err() != nil || (!moved && (w.ping || w.h.DTP.Pending() == 0)) {
							break
						}
					}
					require.Error(t, ctx.Err(), "the process stopped at request %d", k)

					// A new process on the same state.
					w.h.Restart()
					bg := context.Background()
					w.proc.Store(&bg)
					w.count.arm(0, nil)
					w.build()
					w.runUntilQuiet(bg, 0, 25)
					got := w.summarize()
					require.Equal(t, want.State, got.State, "stopped at request %d, then restarted: the uninterrupted result", k)
					w.assertExactlyOnce(got)
					_, moved, err := w.cycle(bg)
					require.NoError(t, err)
					require.False(t, moved, "a run after quiet does nothing")
					require.Equal(t, got.State, w.summarize().State)
				})
			}
		})
	}
}
