package progrestest

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"sync"
	"syscall"
	"time"
)

// Notification is one notification the DTP fake pushes:
// {"interventions": Items, "request_type": RequestType}.
type Notification struct {
	RequestType string
	Items       []map[string]any
}

// The request types DTP pushes.
const (
	RequestReferral = "PrimeroOutgoingReferral"
	RequestDecision = "PrimeroIncomingReferralDecision"
)

// PushAttempt is one POST of a notification to the inbound URL.
type PushAttempt struct {
	RequestType string
	Items       int
	// Status is the answer's status code, 0 when there was no answer.
	Status int
	// Answer is the handler's answer body (at most 64 KiB).
	Answer []byte
	// Error says why there was no answer: "timeout" (the handler took
	// longer than the push timeout), "connection reset", "connection
	// closed", "connection refused" or "failed"; "" with an answer.
	Error string
}

// pushQueue holds the notifications not yet acknowledged.
type pushQueue struct {
	mu       sync.Mutex // serializes Push calls
	pending  []Notification
	attempts []PushAttempt
	stop     chan struct{}
	stopOnce sync.Once
}

// QueueReferral queues a PrimeroOutgoingReferral notification with items
// (see SyntheticReferral).
func (s *DTPServer) QueueReferral(items ...map[string]any) {
	s.queue(Notification{RequestType: RequestReferral, Items: items})
}

// QueueDecision queues a PrimeroIncomingReferralDecision notification
// (see SyntheticDecision).
func (s *DTPServer) QueueDecision(items ...map[string]any) {
	s.queue(Notification{RequestType: RequestDecision, Items: items})
}

// Queue queues a notification of any request type (including invalid
// ones, to test refusals).
func (s *DTPServer) Queue(n Notification) { s.queue(n) }

func (s *DTPServer) queue(n Notification) {
	c := Notification{RequestType: n.RequestType, Items: make([]map[string]any, len(n.Items))}
	for i, it := range n.Items {
		c.Items[i] = cloneMap(it)
	}
	s.mu.Lock()
	s.pushes.pending = append(s.pushes.pending, c)
	s.mu.Unlock()
}

// Pending returns how many notifications wait for acknowledgement.
func (s *DTPServer) Pending() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.pushes.pending)
}

// PushAttempts returns every push made, in order.
func (s *DTPServer) PushAttempts() []PushAttempt {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]PushAttempt, len(s.pushes.attempts))
	copy(out, s.pushes.attempts)
	return out
}

// Push POSTs every pending notification once to the inbound URL with the
// API key, in order. A notification answered 2xx is acknowledged and
// dropped; any other answer, or none, keeps it for the next Push, whole:
// whether the real DTP retries, and how, is not public (unconfirmed), so
// the fake delivers the entire notification again, as the most demanding
// case for the receiver. It returns how many were acknowledged.
func (s *DTPServer) Push(ctx context.Context) (int, error) {
	if s.cfg.inboundURL == "" {
		return 0, errors.New("progrestest: no inbound URL (WithInbound)")
	}
	s.pushes.mu.Lock()
	defer s.pushes.mu.Unlock()
	s.mu.Lock()
	pending := append([]Notification(nil), s.pushes.pending...)
	s.mu.Unlock()

	hc := s.pushClient()
	defer hc.CloseIdleConnections()
	acked := map[int]bool{}
	rest := map[int]Notification{} // partially failed: what to deliver again
	for i, n := range pending {
		att := s.pushOne(ctx, hc, n)
		s.mu.Lock()
		s.pushes.attempts = append(s.pushes.attempts, att)
		s.mu.Unlock()
		if att.Status >= 200 && att.Status < 300 {
			acked[i] = true
		} else if s.cfg.partialRedeliver {
			if failed, ok := failedItems(n, att.Answer); ok {
				rest[i] = failed
			}
		}
		if ctx.Err() != nil {
			break
		}
	}
	s.mu.Lock()
	// Keep what was not acknowledged, and anything queued meanwhile.
	kept := s.pushes.pending[:0:0]
	for i, n := range s.pushes.pending {
		if r, ok := rest[i]; ok {
			n = r
		}
		if !acked[i] {
			kept = append(kept, n)
		}
	}
	s.pushes.pending = kept
	s.mu.Unlock()
	return len(acked), ctx.Err()
}

// failedItems reads the handler's per-item results and returns the
// notification with only the failed items; false when the answer does not
// say which failed.
func failedItems(n Notification, answer []byte) (Notification, bool) {
	var a struct {
		Results []struct {
			Index  int    `json:"index"`
			Status string `json:"status"`
		} `json:"results"`
	}
	if json.Unmarshal(answer, &a) != nil || len(a.Results) != len(n.Items) {
		return Notification{}, false
	}
	out := Notification{RequestType: n.RequestType}
	for _, r := range a.Results {
		if r.Index < 0 || r.Index >= len(n.Items) {
			return Notification{}, false
		}
		if r.Status != "delivered" {
			out.Items = append(out.Items, n.Items[r.Index])
		}
	}
	return out, len(out.Items) > 0
}

// pushOne POSTs one notification. Any failure to get an answer (a reset,
// a timeout, a refused connection) leaves Status 0, so the notification
// stays pending and is delivered again.
func (s *DTPServer) pushOne(ctx context.Context, hc *http.Client, n Notification) PushAttempt {
	att := PushAttempt{RequestType: n.RequestType, Items: len(n.Items)}
	body, err := json.Marshal(map[string]any{"interventions": n.Items, "request_type": n.RequestType})
	if err != nil {
		return att
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.cfg.inboundURL, bytes.NewReader(body))
	if err != nil {
		return att
	}
	req.Header.Set("Content-Type", "application/json")
	if s.cfg.inboundKey != "" {
		req.Header.Set(s.cfg.inboundHeader, s.cfg.inboundKey)
	}
	resp, err := hc.Do(req)
	if err != nil {
		att.Error = pushError(err)
		return att
	}
	defer resp.Body.Close()
	att.Status = resp.StatusCode
	att.Answer, _ = io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	return att
}

// pushClient is the HTTP client of the pushes (TLS as WithInboundTLS says).
func (s *DTPServer) pushClient() *http.Client {
	tc := &tls.Config{MinVersion: tls.VersionTLS12, RootCAs: s.cfg.inboundRoots}
	if s.cfg.inboundClient != nil {
		tc.Certificates = []tls.Certificate{s.cfg.inboundClient.TLS}
	}
	return &http.Client{Timeout: s.cfg.pushTimeout, Transport: &http.Transport{TLSClientConfig: tc}}
}

// pushError classifies why a push got no answer, in words that carry
// nothing from the handler.
func pushError(err error) string {
	var ne net.Error
	switch {
	case errors.As(err, &ne) && ne.Timeout():
		return "timeout"
	case errors.Is(err, syscall.ECONNRESET):
		return "connection reset"
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "connection closed"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	}
	return "failed"
}

// StartPushing calls Push every interval in the background until Close or
// StopPushing (cmd/casebridge-fakes uses it).
func (s *DTPServer) StartPushing(interval time.Duration) {
	s.mu.Lock()
	if s.pushes.stop != nil {
		s.mu.Unlock()
		return
	}
	stop := make(chan struct{})
	s.pushes.stop = stop
	s.mu.Unlock()
	go func() {
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				if s.Pending() > 0 {
					ctx, cancel := context.WithTimeout(context.Background(), interval+30*time.Second)
					_, _ = s.Push(ctx)
					cancel()
				}
			}
		}
	}()
}

// StopPushing stops StartPushing's loop.
func (s *DTPServer) StopPushing() {
	s.mu.Lock()
	stop := s.pushes.stop
	s.mu.Unlock()
	if stop != nil {
		s.pushes.stopOnce.Do(func() { close(stop) })
	}
}
