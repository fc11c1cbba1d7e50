package primero

import (
	"context"
	"errors"
	"iter"
	"time"
)

// DefaultOverlap is how far before its watermark's second a feed starts
// reading again, for cases saved with an earlier last_updated_at but
// committed by the server after the watermark was read.
const DefaultOverlap = 2 * time.Second

// DefaultMaxRounds is how many times a feed re-reads the newest changes
// when cases keep changing while it reads them, before it stops and leaves
// them to the next run.
const DefaultMaxRounds = 3

// ChangesOptions select a feed of changed cases.
type ChangesOptions struct {
	// Since is where the feed starts: the watermark saved by the previous
	// run. The zero Watermark reads every case.
	Since Watermark
	// Overlap is how much earlier than Since's whole second the first query
	// starts (0 means DefaultOverlap; a negative value means none beyond
	// flooring to the second). Cases the overlap reads again are yielded
	// again unless Since names them: the consumer must be idempotent.
	Overlap time.Duration
	// Per is the page size, 1..1000 (0 means 1000).
	Per int
	// Fields restricts the returned fields; id, enabled and
	// last_updated_at always come back.
	Fields []string
	// Filters narrow the feed. Avoid filters on values an update can change
	// (record_state, status...): a case that stops matching disappears from
	// the feed instead of being yielded with its new value. They must not
	// filter last_updated_at, which the feed owns.
	Filters []Filter
	// MaxRounds bounds the re-reads of the newest changes (0 means
	// DefaultMaxRounds).
	MaxRounds int
}

// Feed iterates over the cases changed since a watermark, in ascending
// last_updated_at order, and keeps the watermark that is safe to store once
// everything yielded so far has been committed. Create one with
// CasesService.Changes; a Feed is for one goroutine and one iteration.
//
// How it pages (pitfalls 9, 14, 16): Primero compares last_updated_at at
// whole seconds, and page-number paging over a set that changes while it is
// read skips a case whenever a case on an earlier page moves to the end. So
// a round of the feed
//
//  1. asks for the newest last_updated_at M in the set (one case, newest
//     first), and reads the closed window from the watermark's second
//     (minus the overlap) to one second before M's, page by page. A case
//     updated meanwhile leaves that window (its new timestamp is later), so
//     metadata.total drops; the feed then reads the previous page again
//     (what followed moved back by as many cases as left), or, when more
//     than a page left or cases joined, restarts from its watermark
//     (keyset paging: the next query starts at the greatest timestamp
//     processed, floored to the second, minus the overlap, and skips the
//     cases already handled at those instants, so more than a page of cases
//     sharing one second is no problem);
//  2. reads the rest (the newest second or two) to the end, asking for the
//     newest timestamp again after each page: while it is still M nothing
//     has changed, and the watermark moves over the page; otherwise the
//     round is repeated, at most MaxRounds times, after which the newest
//     changes are left to the next run.
//
// The watermark moves only over cases read in a window that did not change
// while it was read, and only to server timestamps. Cases sharing one
// timestamp exactly are assumed to keep their relative order between two
// queries (unconfirmed for Primero: its sort has no tie-breaker).
type Feed struct {
	s         *CasesService
	opts      ChangesOptions
	overlap   time.Duration
	per       int
	maxRounds int

	safe   Watermark            // covers what was read in verified windows
	recent map[string]time.Time // id -> last_updated_at of cases read at or after the current start, or in the last pages of a closed window
	total  int
	used   bool
}

// Changes returns a feed of the cases changed since opts.Since. Nothing is
// sent until the feed's All is ranged over.
func (s *CasesService) Changes(opts *ChangesOptions) *Feed {
	f := &Feed{s: s, recent: map[string]time.Time{}}
	if opts != nil {
		f.opts = *opts
	}
	f.safe = f.opts.Since
	f.overlap = f.opts.Overlap
	switch {
	case f.overlap == 0:
		f.overlap = DefaultOverlap
	case f.overlap < 0:
		f.overlap = 0
	}
	f.per = f.opts.Per
	if f.per == 0 {
		f.per = MaxPer
	}
	f.maxRounds = f.opts.MaxRounds
	if f.maxRounds <= 0 {
		f.maxRounds = DefaultMaxRounds
	}
	return f
}

// Watermark returns the watermark that covers the cases the feed has
// yielded so far, the one being yielded included, as far as they were read
// in a window verified not to have shifted. Store it only after those cases
// are committed; it never passes a case that has not been yielded.
func (f *Feed) Watermark() Watermark { return f.safe }

// Total returns metadata.total of the feed's first query: how many cases
// had changed since the start when the feed began (0 before it began). Use
// it for progress; the feed may yield a few more (the overlap, changes made
// meanwhile) or fewer.
func (f *Feed) Total() int { return f.total }

// epoch is the lower bound of a feed from the zero Watermark: Primero
// drops a range without a lower bound (pitfall 4).
var epoch = time.Unix(0, 0).UTC()

// errFeedReused is returned by a second range over the same Feed.
var errFeedReused = errors.New("primero: a Feed can be ranged over once; create another with Cases.Changes")

// All yields the changed cases in ascending last_updated_at order, with an
// error once, as the last item. It stops at break.
func (f *Feed) All(ctx context.Context) iter.Seq2[*Case, error] {
	return func(yield func(*Case, error) bool) {
		if f.used {
			yield(nil, errFeedReused)
			return
		}
		f.used = true
		if err := f.run(ctx, yield); err != nil && !errors.Is(err, errStopped) {
			yield(nil, err)
		}
	}
}

// errStopped ends the feed when the consumer breaks.
var errStopped = errors.New("stopped")

// start is where the next query begins: the watermark's second, minus the
// overlap.
func (f *Feed) start() time.Time {
	if f.safe.At.IsZero() {
		return epoch
	}
	s := f.safe.At.Truncate(time.Second).Add(-f.overlap)
	if s.Before(epoch) {
		return epoch
	}
	return s
}

func (f *Feed) run(ctx context.Context, yield func(*Case, error) bool) error {
	for round := 0; round < f.maxRounds; round++ {
		from := f.start()
		newest, total, err := f.newest(ctx, from)
		if err != nil {
			return err
		}
		if round == 0 {
			f.total = total
		}
		if total == 0 {
			return nil
		}
		if end := newest.Truncate(time.Second).Add(-time.Second); !end.Before(from) {
			if err := f.closedWindow(ctx, end, yield); err != nil {
				return err
			}
		}
		verified, err := f.tail(ctx, newest, yield)
		if err != nil || verified {
			return err
		}
	}
	return nil
}

// newest returns the greatest last_updated_at among the cases changed
// since from, and how many there are.
func (f *Feed) newest(ctx context.Context, from time.Time) (time.Time, int, error) {
	opts := f.listOptions(TimeSince("last_updated_at", from))
	opts.Per, opts.Order, opts.Fields = 1, "desc", []string{"last_updated_at"}
	cases, resp, err := f.s.List(ctx, opts)
	if err != nil || len(cases) == 0 {
		return time.Time{}, 0, err
	}
	ts, err := updatedAt(cases[0])
	return ts, resp.Total, err
}

func (f *Feed) listOptions(window Filter) *ListOptions {
	return &ListOptions{
		Per: f.per, OrderBy: "last_updated_at", Order: "asc", Fields: f.opts.Fields,
		Filters: append(append(make([]Filter, 0, len(f.opts.Filters)+1), f.opts.Filters...), window),
	}
}

// maxBackups bounds how often a closed window steps back a page in a row
// without yielding anything new, before it restarts from its watermark.
const maxBackups = 3

// maxResets bounds how often a closed window restarts without yielding
// anything new, should cases change between every two pages.
const maxResets = 100

// recentPages is how many pages a closed window keeps the cases of (the
// page just read and those before it), to skip them when it steps back:
// maxBackups steps in a row re-read as many pages before the next, and
// one more page is margin.
const recentPages = maxBackups + 1

// closedWindow reads the cases from f.start() to end (whole seconds,
// inclusive), advancing f.safe over each case read, and restarts from
// f.safe whenever the window's total changes.
func (f *Feed) closedWindow(ctx context.Context, end time.Time, yield func(*Case, error) bool) error {
	resets := 0
	for {
		from := f.start()
		if end.Before(from) {
			return nil
		}
		opts := f.listOptions(TimeRange("last_updated_at", from, end))
		changed, yielded := false, false
		total, backups := -1, 0
		var order orderCheck
		var firsts []time.Time // the first timestamp of each page read, for pruneWindow
		for page := 1; ; page++ {
			opts.Page = page
			cases, resp, err := f.s.List(ctx, opts)
			if err != nil {
				return err
			}
			switch left := total - resp.Total; {
			case total < 0:
				total = resp.Total
			case left > 0 && left <= perOf(resp, f.per) && page > 1 && backups < maxBackups:
				// Cases only left the window (they were updated): what
				// followed moved back by at most a page. Read the previous
				// page again (what it repeats is skipped) rather than start
				// over from the watermark.
				total, page = resp.Total, page-2
				backups++
				order = orderCheck{}
				continue
			case left != 0:
				changed = true // cases joined, or more than a page left
			}
			if changed {
				break
			}
			stamps, err := order.page(cases)
			if err != nil {
				return err
			}
			for i, c := range cases {
				ts := stamps[i]
				f.safe = f.safe.advance(c.ID, ts) // before the yield: Watermark covers the case yielded
				n, err := f.take(c, ts, yield)
				cases[i] = nil // handed over: the page does not keep it
				if err != nil {
					return err
				}
				if n {
					yielded, backups = true, 0
				}
			}
			if len(stamps) > 0 {
				firsts = append(firsts, stamps[0])
				firsts = firsts[max(0, len(firsts)-recentPages):]
				f.pruneWindow(firsts[0])
			}
			if len(cases) == 0 || page*perOf(resp, f.per) >= resp.Total {
				break
			}
		}
		f.prune(f.start())
		if !changed {
			return nil
		}
		if yielded {
			resets = 0
		} else if resets++; resets >= maxResets {
			return nil
		}
	}
}

// tail reads every case from f.start() to the newest, newest being the
// greatest last_updated_at when the round began. After fetching each page
// it asks for the newest timestamp again: while it is still newest nothing
// has changed since, so no page has shifted, and f.safe moves over the
// page's cases as they are yielded.
// It reports whether every page was so verified.
func (f *Feed) tail(ctx context.Context, newest time.Time, yield func(*Case, error) bool) (bool, error) {
	mark := f.safe
	opts := f.listOptions(TimeSince("last_updated_at", f.start()))
	verified := true
	var order orderCheck
	for page := 1; ; page++ {
		opts.Page = page
		cases, resp, err := f.s.List(ctx, opts)
		if err != nil {
			return false, err
		}
		if verified && len(cases) > 0 {
			again, _, err := f.newest(ctx, f.start())
			if err != nil {
				return false, err
			}
			verified = again.Equal(newest)
		}
		stamps, err := order.page(cases)
		if err != nil {
			return false, err
		}
		for i, c := range cases {
			ts := stamps[i]
			mark = mark.advance(c.ID, ts)
			if verified {
				f.safe = mark
			}
			_, err := f.take(c, ts, yield)
			cases[i] = nil // handed over: the page does not keep it
			if err != nil {
				return false, err
			}
		}
		// The next round, verified or not, starts at f.start() or later.
		f.prune(f.start())
		if len(cases) == 0 || page*perOf(resp, f.per) >= resp.Total {
			return verified, nil
		}
	}
}

// take yields c unless it was already handled: named by the starting
// watermark, or read earlier in this run with the same last_updated_at.
func (f *Feed) take(c *Case, ts time.Time, yield func(*Case, error) bool) (bool, error) {
	if ts.Equal(f.opts.Since.At) && f.opts.Since.Covers(c.ID, ts) {
		return false, nil // named by the starting watermark's instant
	}
	if seen, ok := f.recent[c.ID]; ok && seen.Equal(ts) {
		return false, nil
	}
	f.recent[c.ID] = ts
	if !yield(c, nil) {
		return false, errStopped
	}
	return true, nil
}

// prune forgets the cases older than from, which no query of the feed
// reads again, so that what the feed remembers is bounded by the page size
// and the overlap, not by the number of cases read. It runs after every
// page but does its pass only once the map has grown to two pages.
func (f *Feed) prune(from time.Time) {
	if len(f.recent) < 2*f.per {
		return
	}
	for id, ts := range f.recent {
		if ts.Before(from) {
			delete(f.recent, id)
		}
	}
}

// pruneWindow bounds what a closed window remembers while it pages: once
// it holds more than recentPages pages of cases, it forgets those older
// than both the next start and oldest, the first timestamp of the page
// read recentPages-1 pages ago. A step back re-reads at most maxBackups
// pages, so it still finds what it repeats; forgetting more would only
// yield a case again, never lose one. What the feed holds is then a few
// pages of ids (a few hundred KB for pages of 1000), whatever the number
// of cases read.
func (f *Feed) pruneWindow(oldest time.Time) {
	if len(f.recent) > (recentPages+1)*f.per {
		f.prune(minTime(f.start(), oldest))
	}
}

// ErrUnsorted is returned by a Feed when the server does not return cases
// in ascending last_updated_at order: the feed cannot then tell what it has
// covered, and stops rather than move its watermark past unread cases.
var ErrUnsorted = errors.New("primero: changes: the server did not sort the cases by last_updated_at ascending")

// orderCheck checks that the cases of a paging pass come in ascending
// last_updated_at order.
type orderCheck struct{ last time.Time }

// page returns the cases' timestamps, or ErrUnsorted before anything of
// the page is used when they do not continue the order.
func (o *orderCheck) page(cases []*Case) ([]time.Time, error) {
	stamps := make([]time.Time, len(cases))
	for i, c := range cases {
		ts, err := updatedAt(c)
		if err != nil {
			return nil, err
		}
		if ts.Before(o.last) {
			return nil, ErrUnsorted
		}
		o.last, stamps[i] = ts, ts
	}
	return stamps, nil
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

func perOf(resp *Response, def int) int {
	if resp.Per > 0 {
		return resp.Per
	}
	return def
}

// updatedAt returns the case's last_updated_at (typed, or an RFC 3339
// text in a layout the typed field does not keep), or an error naming the
// case when it has none: such a case cannot be placed in the feed's order.
func updatedAt(c *Case) (time.Time, error) {
	if !c.LastUpdatedAt.IsZero() {
		return c.LastUpdatedAt, nil
	}
	if s, ok := c.Fields["last_updated_at"].(string); ok {
		if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, errors.New("primero: changes: case " + safeName(c.ID) + " has no readable last_updated_at")
}
