package consenttest

import (
	"context"
	"sync"

	"github.com/casebridge/casebridge/consent"
)

// Sink is an in-memory consent.Sink for tests. It is safe for concurrent
// use. Set Err to make Append fail.
type Sink struct {
	mu     sync.Mutex
	events []consent.Event
	// Err, when non-nil, is returned by Append and nothing is stored.
	Err error
}

// Append stores e. Re-appending the last event (same Seq and Hash) is a
// no-op, as consent.Trail expects of a sink after a failure.
func (s *Sink) Append(_ context.Context, e consent.Event) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.Err != nil {
		return s.Err
	}
	if n := len(s.events); n > 0 && s.events[n-1].Seq == e.Seq && s.events[n-1].Hash == e.Hash {
		return nil
	}
	s.events = append(s.events, e)
	return nil
}

// Events returns a copy of the stored events in order.
func (s *Sink) Events() []consent.Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]consent.Event(nil), s.events...)
}

// Verify checks the stored events as a trail (see consent.Verifier).
func (s *Sink) Verify() (consent.Summary, error) {
	var v consent.Verifier
	for _, e := range s.Events() {
		if err := v.Next(e); err != nil {
			return v.Summary(), err
		}
	}
	return v.Summary(), nil
}
