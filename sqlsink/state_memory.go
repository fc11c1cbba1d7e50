package sqlsink

import (
	"context"
	"errors"
	"iter"
	"slices"
	"sync"

	"github.com/casebridge/casebridge/consent"
)

// MemoryState is a [State] kept in memory, for tests and examples. It is
// safe for concurrent use; Update transactions run one at a time. Its
// locks exclude holders within the same MemoryState only.
type MemoryState struct {
	mu        sync.Mutex
	cursors   map[string]string
	processed map[[2]string]bool
	fwd       map[[4]string]string // kind, from.system, from.id, to.system -> to.id
	rev       map[[4]string]string // kind, to.system, to.id, from.system -> from.id
	trails    map[string][]consent.Event
	locks     map[string]bool
}

var _ State = (*MemoryState)(nil)

// NewMemoryState returns an empty MemoryState.
func NewMemoryState() *MemoryState {
	return &MemoryState{
		cursors:   map[string]string{},
		processed: map[[2]string]bool{},
		fwd:       map[[4]string]string{},
		rev:       map[[4]string]string{},
		trails:    map[string][]consent.Event{},
		locks:     map[string]bool{},
	}
}

// Cursor returns the flow's cursor.
func (s *MemoryState) Cursor(ctx context.Context, flow string) (string, bool, error) {
	if err := checkIdent("flow", flow); err != nil {
		return "", false, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.cursors[flow]
	return c, ok, nil
}

// Processed reports whether key was marked processed for flow.
func (s *MemoryState) Processed(ctx context.Context, flow, key string) (bool, error) {
	if err := checkIdent("flow", flow); err != nil {
		return false, err
	}
	if err := checkIdent("key", key); err != nil {
		return false, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.processed[[2]string{flow, key}], nil
}

// LinkTo returns the id in toSystem of the record from.
func (s *MemoryState) LinkTo(ctx context.Context, kind string, from consent.RecordRef, toSystem string) (string, bool, error) {
	if err := checkLookup(kind, from, toSystem); err != nil {
		return "", false, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	id, ok := s.fwd[[4]string{kind, from.System, from.ID, toSystem}]
	return id, ok, nil
}

// LinkFrom returns the id in fromSystem of the record to.
func (s *MemoryState) LinkFrom(ctx context.Context, kind string, to consent.RecordRef, fromSystem string) (string, bool, error) {
	if err := checkLookup(kind, to, fromSystem); err != nil {
		return "", false, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	id, ok := s.rev[[4]string{kind, to.System, to.ID, fromSystem}]
	return id, ok, nil
}

// Update runs fn as one transaction: its writes are undone if fn returns
// an error, panics, or ctx ends before it returns.
func (s *MemoryState) Update(ctx context.Context, flow string, fn func(tx StateTx) error) (err error) {
	if err := checkIdent("flow", flow); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	tx := &memTx{s: s, flow: flow}
	committed := false
	defer func() {
		tx.done = true
		if !committed {
			tx.rollback()
		}
	}()
	if err := fn(tx); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	committed = true
	return nil
}

// Lock takes the flow's lock within this MemoryState.
func (s *MemoryState) Lock(ctx context.Context, flow string) (*Lock, error) {
	if err := checkIdent("flow", flow); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.locks[flow] {
		return nil, &LockHeldError{Flow: flow}
	}
	s.locks[flow] = true
	return newLock(flow, 0, nil, func(context.Context, bool) error {
		s.mu.Lock()
		defer s.mu.Unlock()
		delete(s.locks, flow)
		return nil
	}), nil
}

// AuditLog returns the in-memory audit log named trail.
func (s *MemoryState) AuditLog(trail string) AuditLog { return &memAudit{s: s, trail: trail} }

// errTxDone is returned by a StateTx used after its Update returned.
var errTxDone = errors.New("sqlsink: state transaction is already finished")

// memTx is a MemoryState transaction: it writes in place (under the
// state's mutex) and keeps an undo log.
type memTx struct {
	s    *MemoryState
	flow string
	undo []func()
	done bool
}

func (t *memTx) rollback() {
	for _, u := range slices.Backward(t.undo) {
		u()
	}
	t.undo = nil
}

// restore returns an undo step that puts m[k] back as it is now.
func restore[K comparable, V any](m map[K]V, k K) func() {
	old, had := m[k]
	return func() {
		if had {
			m[k] = old
		} else {
			delete(m, k)
		}
	}
}

func (t *memTx) Flow() string { return t.flow }

func (t *memTx) Cursor(ctx context.Context) (string, bool, error) {
	if t.done {
		return "", false, errTxDone
	}
	c, ok := t.s.cursors[t.flow]
	return c, ok, nil
}

func (t *memTx) SetCursor(ctx context.Context, cursor string) error {
	if t.done {
		return errTxDone
	}
	if err := checkCursor(cursor); err != nil {
		return err
	}
	t.undo = append(t.undo, restore(t.s.cursors, t.flow))
	t.s.cursors[t.flow] = cursor
	return nil
}

func (t *memTx) Processed(ctx context.Context, key string) (bool, error) {
	if t.done {
		return false, errTxDone
	}
	if err := checkIdent("key", key); err != nil {
		return false, err
	}
	return t.s.processed[[2]string{t.flow, key}], nil
}

func (t *memTx) MarkProcessed(ctx context.Context, key string) (bool, error) {
	if t.done {
		return false, errTxDone
	}
	if err := checkIdent("key", key); err != nil {
		return false, err
	}
	k := [2]string{t.flow, key}
	if t.s.processed[k] {
		return false, nil
	}
	t.undo = append(t.undo, restore(t.s.processed, k))
	t.s.processed[k] = true
	return true, nil
}

func (t *memTx) LinkTo(ctx context.Context, kind string, from consent.RecordRef, toSystem string) (string, bool, error) {
	if t.done {
		return "", false, errTxDone
	}
	if err := checkLookup(kind, from, toSystem); err != nil {
		return "", false, err
	}
	id, ok := t.s.fwd[[4]string{kind, from.System, from.ID, toSystem}]
	return id, ok, nil
}

func (t *memTx) LinkFrom(ctx context.Context, kind string, to consent.RecordRef, fromSystem string) (string, bool, error) {
	if t.done {
		return "", false, errTxDone
	}
	if err := checkLookup(kind, to, fromSystem); err != nil {
		return "", false, err
	}
	id, ok := t.s.rev[[4]string{kind, to.System, to.ID, fromSystem}]
	return id, ok, nil
}

func (t *memTx) PutLink(ctx context.Context, l Link) error {
	if t.done {
		return errTxDone
	}
	if err := checkLink(l); err != nil {
		return err
	}
	fk := [4]string{l.Kind, l.From.System, l.From.ID, l.To.System}
	rk := [4]string{l.Kind, l.To.System, l.To.ID, l.From.System}
	toID, hasFwd := t.s.fwd[fk]
	fromID, hasRev := t.s.rev[rk]
	switch {
	case hasFwd && toID == l.To.ID:
		return nil // the same link again (rev holds it too)
	case hasFwd:
		return &LinkConflictError{Link: l, Existing: Link{Kind: l.Kind, From: l.From, To: consent.RecordRef{System: l.To.System, ID: toID}}}
	case hasRev:
		return &LinkConflictError{Link: l, Existing: Link{Kind: l.Kind, From: consent.RecordRef{System: l.From.System, ID: fromID}, To: l.To}}
	}
	t.undo = append(t.undo, restore(t.s.fwd, fk), restore(t.s.rev, rk))
	t.s.fwd[fk] = l.To.ID
	t.s.rev[rk] = l.From.ID
	return nil
}

func (t *memTx) DeleteLink(ctx context.Context, l Link) error {
	if t.done {
		return errTxDone
	}
	if err := checkLink(l); err != nil {
		return err
	}
	fk := [4]string{l.Kind, l.From.System, l.From.ID, l.To.System}
	rk := [4]string{l.Kind, l.To.System, l.To.ID, l.From.System}
	if toID, ok := t.s.fwd[fk]; !ok || toID != l.To.ID {
		return nil
	}
	t.undo = append(t.undo, restore(t.s.fwd, fk), restore(t.s.rev, rk))
	delete(t.s.fwd, fk)
	delete(t.s.rev, rk)
	return nil
}

// memAudit is the in-memory audit log of one trail.
type memAudit struct {
	s     *MemoryState
	trail string
}

// Append stores e if it continues the trail.
func (a *memAudit) Append(ctx context.Context, e consent.Event) error {
	if err := checkIdent("trail", a.trail); err != nil {
		return err
	}
	a.s.mu.Lock()
	defer a.s.mu.Unlock()
	evs := a.s.trails[a.trail]
	var last consent.Event
	if n := len(evs); n > 0 {
		last = evs[n-1]
	}
	if again, err := checkAppend(a.trail, last, e); err != nil || again {
		return err
	}
	e.Reasons = slices.Clone(e.Reasons)
	a.s.trails[a.trail] = append(evs, e)
	return nil
}

// Events yields a copy of the trail's events in order.
func (a *memAudit) Events(ctx context.Context) iter.Seq2[consent.Event, error] {
	return func(yield func(consent.Event, error) bool) {
		if err := checkIdent("trail", a.trail); err != nil {
			yield(consent.Event{}, err)
			return
		}
		a.s.mu.Lock()
		evs := slices.Clone(a.s.trails[a.trail])
		a.s.mu.Unlock()
		for _, e := range evs {
			e.Reasons = slices.Clone(e.Reasons)
			if !yield(e, nil) {
				return
			}
		}
	}
}

// Last returns the trail's last event.
func (a *memAudit) Last(ctx context.Context) (consent.Event, error) {
	if err := checkIdent("trail", a.trail); err != nil {
		return consent.Event{}, err
	}
	a.s.mu.Lock()
	defer a.s.mu.Unlock()
	evs := a.s.trails[a.trail]
	if len(evs) == 0 {
		return consent.Event{}, nil
	}
	e := evs[len(evs)-1]
	e.Reasons = slices.Clone(e.Reasons)
	return e, nil
}
