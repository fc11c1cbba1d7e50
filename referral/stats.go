package referral

import (
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"

	"github.com/casebridge/casebridge/consent"
)

// Stats counts what one run of a flow did. It holds counts, identifiers
// and reason codes only, so it can be logged or exported as it is.
type Stats struct {
	// Flow is the flow's name.
	Flow string
	// Skipped is true when the run did not start because another runner
	// holds the flow's lock.
	Skipped bool
	// Received counts items read from the source (notifications, changed
	// records).
	Received int
	// Created and Updated count records written in the destination.
	Created, Updated int
	// Sent counts referrals and feedback messages delivered.
	Sent int
	// Decided counts decisions (accept, reject, done, revoke) delivered.
	Decided int
	// Pending counts items sent whose result is not known yet (an async
	// ingestion still running): they are checked again on the next run,
	// never sent again.
	Pending int
	// Unchanged counts items found already processed: a re-delivery or a
	// re-read that needed no write.
	Unchanged int
	// Denied counts items the consent gate stopped, by reason code.
	Denied map[consent.Reason]int
	// Failed counts items that failed; Errors says which and why.
	Failed int
	// Errors lists the failed items (at most MaxItemErrors; Failed has the
	// full count).
	Errors []ItemError
}

// MaxItemErrors bounds Stats.Errors so that a run over a bad source does
// not grow its report without limit.
const MaxItemErrors = 100

// ItemError is one failed item of a run: its identifier and a code, and
// the error (whose text casebridge keeps free of personal data).
type ItemError struct {
	// Key identifies the item (a referral key, a case id).
	Key string
	// Code is a stable code saying what failed ("no_case",
	// "ambiguous_match", "unknown_referral", "delivery").
	Code string
	// Err is the underlying error.
	Err error
}

func (e ItemError) Error() string {
	if e.Err == nil {
		return fmt.Sprintf("%s: %s", e.Key, e.Code)
	}
	return fmt.Sprintf("%s: %s: %v", e.Key, e.Code, e.Err)
}

// Unwrap returns the underlying error.
func (e ItemError) Unwrap() error { return e.Err }

// Deny counts one item denied, under its first reason code (under
// "denied" when the decision carries none).
func (s *Stats) Deny(reasons []consent.Reason) {
	if s.Denied == nil {
		s.Denied = make(map[consent.Reason]int)
	}
	r := consent.Reason("denied")
	if len(reasons) > 0 {
		r = reasons[0]
	}
	s.Denied[r]++
}

// Fail records a failed item.
func (s *Stats) Fail(key, code string, err error) {
	s.Failed++
	if len(s.Errors) < MaxItemErrors {
		s.Errors = append(s.Errors, ItemError{Key: key, Code: code, Err: err})
	}
}

// DeniedTotal is the number of denied items over all reasons.
func (s Stats) DeniedTotal() int {
	n := 0
	for _, c := range s.Denied {
		n += c
	}
	return n
}

// Add returns the sum of s and o (Flow and Skipped are s's).
func (s Stats) Add(o Stats) Stats {
	s.Received += o.Received
	s.Created += o.Created
	s.Updated += o.Updated
	s.Sent += o.Sent
	s.Decided += o.Decided
	s.Unchanged += o.Unchanged
	s.Pending += o.Pending
	s.Failed += o.Failed
	if len(o.Denied) > 0 {
		d := make(map[consent.Reason]int, len(s.Denied)+len(o.Denied))
		maps.Copy(d, s.Denied)
		for r, n := range o.Denied {
			d[r] += n
		}
		s.Denied = d
	}
	room := MaxItemErrors - len(s.Errors)
	s.Errors = append(slices.Clip(s.Errors), o.Errors[:min(room, len(o.Errors))]...)
	return s
}

// String renders the counts on one line, for a person: "received 4,
// created 1, ... denied 1 (consent_missing 1), failed 0".
func (s Stats) String() string {
	var b strings.Builder
	if s.Skipped {
		return s.Flow + ": skipped (another runner holds the lock)"
	}
	if s.Flow != "" {
		b.WriteString(s.Flow + ": ")
	}
	fmt.Fprintf(&b, "received %d, created %d, updated %d, sent %d, decided %d, unchanged %d, denied %d",
		s.Received, s.Created, s.Updated, s.Sent, s.Decided, s.Unchanged, s.DeniedTotal())
	if len(s.Denied) > 0 {
		b.WriteString(" (")
		for i, r := range slices.Sorted(maps.Keys(s.Denied)) {
			if i > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "%s %d", r, s.Denied[r])
		}
		b.WriteString(")")
	}
	if s.Pending > 0 {
		fmt.Fprintf(&b, ", pending %d", s.Pending)
	}
	fmt.Fprintf(&b, ", failed %d", s.Failed)
	return b.String()
}

// LogValue logs the counts as attributes.
func (s Stats) LogValue() slog.Value {
	attrs := []slog.Attr{
		slog.String("flow", s.Flow), slog.Bool("skipped", s.Skipped),
		slog.Int("received", s.Received), slog.Int("created", s.Created),
		slog.Int("updated", s.Updated), slog.Int("sent", s.Sent),
		slog.Int("decided", s.Decided), slog.Int("unchanged", s.Unchanged),
		slog.Int("denied", s.DeniedTotal()), slog.Int("pending", s.Pending), slog.Int("failed", s.Failed),
	}
	for _, r := range slices.Sorted(maps.Keys(s.Denied)) {
		attrs = append(attrs, slog.Int("denied_"+string(r), s.Denied[r]))
	}
	return slog.GroupValue(attrs...)
}
