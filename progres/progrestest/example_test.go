package progrestest_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"time"

	"github.com/casebridge/casebridge/progres/progrestest"
)

// Lose the inbound handler's answer to a push: the handler acted, the DTP
// fake saw no answer and delivers the notification again.
func ExampleNewChaosHandler() {
	var served atomic.Int32
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		served.Add(1)
		_, _ = io.WriteString(w, `{"status":"ok"}`)
	})
	chaos, err := progrestest.NewChaosHandler(handler, progrestest.Chaos{
		Rate: 1, Seed: 1, Weights: progrestest.ChaosWeights{DropAfter: 1},
	})
	if err != nil {
		panic(err)
	}
	inbound := httptest.NewServer(chaos)
	defer inbound.Close()

	dtp, _ := progrestest.StartDTP(progrestest.WithInbound(inbound.URL, progrestest.DefaultInboundAPIKey),
		progrestest.WithPushTimeout(time.Second))
	defer dtp.Close()
	dtp.QueueReferral(progrestest.SyntheticReferral(1)...)

	acked, _ := dtp.Push(context.Background())
	fmt.Println(acked, served.Load(), dtp.Pending(), dtp.PushAttempts()[0].Error)
	chaos.StopChaos()
	acked, _ = dtp.Push(context.Background())
	fmt.Println(acked, served.Load(), dtp.Pending())
	// Output:
	// 0 1 1 connection reset
	// 1 2 0
}
