package fakeserver

import (
	"bytes"
	"io"
	"net/http"
)

// maxHandlerBody caps the body a Handler reads before passing it on.
const maxHandlerBody = 32 << 20

// plainResponses answer status faults in plain text, for a Handler that
// wraps a handler of the caller's own.
var plainResponses = Responses{
	Status: func(w http.ResponseWriter, _ *http.Request, status int) {
		http.Error(w, http.StatusText(status), status)
	},
	RateLimited: func(w http.ResponseWriter, _ *http.Request, _ string) {
		http.Error(w, http.StatusText(http.StatusTooManyRequests), http.StatusTooManyRequests)
	},
}

// Handler puts fault injection and a request log in front of any
// http.Handler: an integration's inbound endpoint, so that what pushes to
// it (the DTP fake) meets the same faults as a client meets at a fake.
type Handler struct {
	Injector *Injector
	Log      Log
	next     http.Handler
}

// NewHandler wraps next; status faults are answered in plain text.
func NewHandler(next http.Handler) *Handler {
	return &Handler{Injector: NewInjector(plainResponses, nil), next: next}
}

// ServeHTTP records the request, decides its fault and serves it with the
// fault around next. A body over 32 MiB is refused with 413.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxHandlerBody+1))
	if err != nil || len(body) > maxHandlerBody {
		http.Error(w, http.StatusText(http.StatusRequestEntityTooLarge), http.StatusRequestEntityTooLarge)
		return
	}
	h.Injector.Intercept(&h.Log, w, r, body, nil, func(w http.ResponseWriter) {
		r.Body = io.NopCloser(bytes.NewReader(body))
		h.next.ServeHTTP(w, r)
	})
}
