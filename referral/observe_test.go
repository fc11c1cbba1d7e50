package referral

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/casebridge/casebridge/progres/progrestest"
	"github.com/stretchr/testify/require"
)

// observation is one call of Common.Observe.
type observation struct {
	Flow     string
	Referral Referral
}

// observations collects Observe calls from the flows' goroutines.
type observations struct {
	mu  sync.Mutex
	all []observation
}

func (o *observations) add(_ context.Context, flow string, r Referral) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.all = append(o.all, observation{flow, r})
}

// byFlow returns the referrals observed from flows whose name has prefix,
// by Key.ID and status; it fails the test when one was observed twice.
func (o *observations) byFlow(t *testing.T, prefix string) map[string]Referral {
	t.Helper()
	o.mu.Lock()
	defer o.mu.Unlock()
	out := map[string]Referral{}
	for _, ob := range o.all {
		if len(ob.Flow) < len(prefix) || ob.Flow[:len(prefix)] != prefix {
			continue
		}
		k := ob.Referral.Key.ID + ":" + string(ob.Referral.Status)
		_, dup := out[k]
		require.False(t, dup, "%s observed %s twice", ob.Flow, k)
		out[k] = ob.Referral
	}
	return out
}

// Every flow carries the canonical Referral: what it tells Observe, once
// per referral and step, holds the referral's identifiers in both systems,
// its service, its consent as the gate read it, and its status on the
// state machine, never its payload.
func TestFlowsObserveEachCanonicalReferralOnce(t *testing.T) {
	for _, gw := range e2eGateways {
		t.Run(gw.name, func(t *testing.T) {
			ctx := context.Background()
			w := newE2EWorld(t, gw.ping, e2eFast, e2eFull)
			w.runUntilQuiet(ctx, 0, 25)
			h := w.h

			// 1. Intake: every valid intervention, pending in Primero.
			intake := h.Observed.byFlow(t, "progres-intake-")
			valid := 0
			for i := 1; i <= w.n; i++ {
				num := progrestest.InterventionNumber(i)
				r, ok := intake[num+":pending"]
				if !validIntervention(i) {
					require.False(t, ok, "refused intervention %d observed", i)
					continue
				}
				valid++
				require.True(t, ok, "intervention %d not observed", i)
				cs := h.CasesByIndividual(individualNumber(person(i)))
				require.Len(t, cs, 1)
				require.Equal(t, Referral{Key: progresRef(num),
					Person:   map[string]string{"progres": individualNumber(person(i)), "primero": cs[0]["id"].(string)},
					Services: []Service{{ID: num, Type: r.Services[0].Type}}, IDs: map[string]string{"primero": serviceUID(i)},
					Consent: Consent{Given: true}, Status: Pending}, r)
				require.NotEmpty(t, r.Services[0].Type)
				require.NoError(t, r.Validate())
			}
			require.Len(t, intake, valid)

			// 2. Primero's decisions to proGres.
			out := h.Observed.byFlow(t, "primero-decisions-")
			decided := 0
			for i := 1; i <= w.n; i++ {
				want := decisionOut(i)
				if want == "" {
					continue
				}
				decided++
				r, ok := out[progrestest.InterventionNumber(i)+":"+want]
				require.True(t, ok, "decision on intervention %d not observed", i)
				require.Equal(t, serviceUID(i), r.IDs["primero"])
				require.True(t, r.Consent.Given)
				require.Nil(t, r.Payload, "the payload is never handed out")
			}
			require.Len(t, out, decided)

			// 3. and 4. Referrals to UNHCR, pending once sent, then decided.
			sent := h.Observed.byFlow(t, "primero-referrals-")
			in := h.Observed.byFlow(t, "progres-decisions-")
			require.Len(t, sent, len(w.out))
			require.Len(t, in, len(w.out))
			for j, oc := range w.out {
				ref := primeroReferralRef(oc.Referral).ID
				r, ok := sent[ref+":pending"]
				require.True(t, ok, "referral of outbound case %d not observed as sent", j)
				require.Equal(t, oc.ID, r.Person["primero"])
				require.Equal(t, []Service{{ID: oc.ServiceID, Type: r.Services[0].Type}}, r.Services)
				require.NotEmpty(t, r.IDs["progres"], "proGres's id for it")
				want := Rejected
				if w.decisionInAccepted(j) {
					want = Accepted
				}
				d, ok := in[fmt.Sprintf("%s:%s", ref, want)]
				require.True(t, ok, "proGres's decision on outbound case %d not observed", j)
				require.Equal(t, oc.ID, d.Person["primero"])
				require.NotEmpty(t, d.IDs["progres"])
			}
		})
	}
}
