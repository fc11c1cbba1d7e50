package referral

import (
	"errors"
	"fmt"
)

// Status is where a referral stands. The zero value is not a status.
type Status string

// The statuses of a referral.
const (
	// Pending: sent, not yet answered by the receiving system.
	Pending Status = "pending"
	// Accepted by the receiving system.
	Accepted Status = "accepted"
	// Rejected by the receiving system, usually with a reason code. Final.
	Rejected Status = "rejected"
	// Done: the accepted service was delivered. Final.
	Done Status = "done"
	// Revoked by the sending side (for example because consent was
	// withdrawn). Final.
	Revoked Status = "revoked"
)

// ErrInvalidTransition is wrapped by every *TransitionError.
var ErrInvalidTransition = errors.New("referral: invalid status transition")

// ErrUnchanged is returned by [Status.Next] when the referral already has
// the status asked for: a repeated (re-delivered) decision, not a new one.
var ErrUnchanged = errors.New("referral: status unchanged")

// next lists the statuses each status may move to.
var next = map[Status][]Status{
	Pending:  {Accepted, Rejected, Revoked},
	Accepted: {Done, Revoked},
}

// Valid reports whether s is one of the five statuses.
func (s Status) Valid() bool {
	switch s {
	case Pending, Accepted, Rejected, Done, Revoked:
		return true
	}
	return false
}

// Final reports whether no transition leaves s.
func (s Status) Final() bool { return s.Valid() && len(next[s]) == 0 }

// CanMoveTo reports whether a referral in status s may move to to.
func (s Status) CanMoveTo(to Status) bool {
	for _, n := range next[s] {
		if n == to {
			return true
		}
	}
	return false
}

// Next checks the transition s → to and returns to when it is allowed.
// It returns ErrUnchanged when to equals s, and a *TransitionError (errors.Is
// ErrInvalidTransition) for any other change the state machine does not
// allow, including from or to a status that is not valid.
func (s Status) Next(to Status) (Status, error) {
	if s == to && s.Valid() {
		return s, ErrUnchanged
	}
	if !s.CanMoveTo(to) {
		return s, &TransitionError{From: s, To: to}
	}
	return to, nil
}

// TransitionError is a transition the state machine refuses.
type TransitionError struct {
	From, To Status
}

func (e *TransitionError) Error() string {
	return fmt.Sprintf("referral: cannot move from %s to %s", quoteStatus(e.From), quoteStatus(e.To))
}

// Unwrap returns ErrInvalidTransition.
func (e *TransitionError) Unwrap() error { return ErrInvalidTransition }

// quoteStatus prints a status, or says it is not one (without echoing it:
// an invalid status may come from outside).
func quoteStatus(s Status) string {
	if s.Valid() {
		return string(s)
	}
	if s == "" {
		return "(no status)"
	}
	return "(an unknown status)"
}
