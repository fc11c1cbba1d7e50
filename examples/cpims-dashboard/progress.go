package main

import (
	"fmt"
	"io"
	"os"
	"time"
)

// progress prints one self-overwriting line on long syncs (records done,
// rate, ETA from the feed's total), at most twice a second, and only when
// it writes to a terminal.
type progress struct {
	w       io.Writer // nil: quiet
	start   time.Time
	last    time.Time
	printed bool
}

func newProgress(w io.Writer) *progress {
	p := &progress{start: time.Now()}
	if isTerminal(w) {
		p.w = w
	}
	return p
}

// isTerminal reports whether w is a character device (a terminal).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// update reports done of total records (total 0: unknown).
func (p *progress) update(done, total int) {
	if p.w == nil {
		return
	}
	now := time.Now()
	if now.Sub(p.last) < 500*time.Millisecond {
		return
	}
	p.last = now
	fmt.Fprint(p.w, "\r"+progressLine(done, total, now.Sub(p.start)))
	p.printed = true
}

// progressLine renders "1200/10000 cases, 3100/s, ETA 3s".
func progressLine(done, total int, elapsed time.Duration) string {
	rate := 0.0
	if s := elapsed.Seconds(); s > 0 {
		rate = float64(done) / s
	}
	line := fmt.Sprintf("%d cases, %.0f/s", done, rate)
	if total > 0 {
		line = fmt.Sprintf("%d/%d cases, %.0f/s", done, total, rate)
		if rate > 0 && done < total {
			eta := time.Duration(float64(total-done) / rate * float64(time.Second))
			line += ", ETA " + eta.Round(time.Second).String()
		}
	}
	return line + "   "
}

// done ends the line.
func (p *progress) done() {
	if p.w != nil && p.printed {
		fmt.Fprintln(p.w)
	}
}
