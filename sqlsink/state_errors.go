package sqlsink

import (
	"errors"
	"fmt"

	"github.com/casebridge/casebridge/consent"
)

// ErrLockHeld is matched (errors.Is) by the *LockHeldError that
// [State.Lock] returns when another holder has the flow's lock.
var ErrLockHeld = errors.New("sqlsink: flow lock is held by another holder")

// ErrLockLost is returned (wrapped) by [Lock.Release] when the lock was
// lost before it was released: its database connection dropped, or its
// lease expired and another holder took it.
var ErrLockLost = errors.New("sqlsink: flow lock was lost")

// ErrLinkConflict is matched (errors.Is) by the *LinkConflictError that
// [StateTx.PutLink] returns for a link contradicting a stored one.
var ErrLinkConflict = errors.New("sqlsink: link conflicts with a stored link")

// LockHeldError says that a flow's run lock is held by someone else.
type LockHeldError struct {
	// Flow is the flow whose lock is held.
	Flow string
	// Holder identifies the holder when the store knows it (SQLite lock
	// rows: "pid-<pid>-<random>"); empty on PostgreSQL.
	Holder string
}

// Error names the flow (and the holder, when known).
func (e *LockHeldError) Error() string {
	if e.Holder != "" {
		return fmt.Sprintf("sqlsink: flow %s is already running: its lock is held by %s", e.Flow, e.Holder)
	}
	return fmt.Sprintf("sqlsink: flow %s is already running: its lock is held by another process or handle", e.Flow)
}

// Is makes errors.Is(err, ErrLockHeld) true.
func (e *LockHeldError) Is(target error) bool { return target == ErrLockHeld }

// LinkConflictError says that a link was refused because one of its
// records is already linked to another id in the other system.
type LinkConflictError struct {
	// Link is the link that was refused.
	Link Link
	// Existing is the stored link it contradicts.
	Existing Link
}

// Error names the kind and the ids (identifiers, never personal data).
func (e *LinkConflictError) Error() string {
	return fmt.Sprintf("sqlsink: link %s %s -> %s conflicts with stored link %s -> %s",
		e.Link.Kind, refString(e.Link.From), refString(e.Link.To),
		refString(e.Existing.From), refString(e.Existing.To))
}

// Is makes errors.Is(err, ErrLinkConflict) true.
func (e *LinkConflictError) Is(target error) bool { return target == ErrLinkConflict }

func refString(r consent.RecordRef) string { return r.System + "/" + r.ID }

// brokenChain returns the error for an audit event that does not
// continue the stored trail.
func brokenChain(trail string, e consent.Event, lastSeq int64, why string) error {
	return fmt.Errorf("%w: trail %s: seq %d after %d: %s", consent.ErrBrokenChain, trail, e.Seq, lastSeq, why)
}
