package progrestest

import (
	"net/http"

	"github.com/casebridge/casebridge/internal/fakeserver"
)

// ChaosHandler puts the fakes' fault injection in front of an
// integration's inbound handler (the progres.Handler the DTP fake pushes
// to): the pushes then meet 503s, 429s, timeouts and connection resets,
// before or after the handler acted, and the DTP fake delivers again
// whatever got no 2xx answer. Give the DTP fake a push timeout shorter
// than the chaos Hold (WithPushTimeout). Status faults are answered in
// plain text. It is safe for concurrent use.
type ChaosHandler struct {
	h *fakeserver.Handler
}

// NewChaosHandler wraps next with chaos c (validated; Rate 0 injects
// nothing until SetChaos).
func NewChaosHandler(next http.Handler, c Chaos) (*ChaosHandler, error) {
	h := &ChaosHandler{h: fakeserver.NewHandler(next)}
	if err := h.h.Injector.SetChaos(c); err != nil {
		return nil, err
	}
	return h, nil
}

// ServeHTTP records the request, and serves it with its fault around the
// wrapped handler.
func (h *ChaosHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.h.ServeHTTP(w, r) }

// SetChaos restarts the plan with c (see Chaos).
func (h *ChaosHandler) SetChaos(c Chaos) error { return h.h.Injector.SetChaos(c) }

// StopChaos ends the plan: requests reach the handler untouched.
func (h *ChaosHandler) StopChaos() { h.h.Injector.StopChaos() }

// Requests returns the requests received (secrets redacted) with the fault
// each got.
func (h *ChaosHandler) Requests() []Request { return requestsOf(&h.h.Log) }

// FaultCounts counts the requests by the fault they got.
func (h *ChaosHandler) FaultCounts() FaultCounts { return h.h.Log.FaultCounts() }

// Close ends the requests being held by a timeout fault.
func (h *ChaosHandler) Close() { h.h.Injector.Close() }
