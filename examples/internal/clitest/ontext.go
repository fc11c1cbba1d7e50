// Package clitest holds what the example commands' tests share.
package clitest

import (
	"bytes"
	"strings"
	"sync"
)

// OnText is an io.Writer that keeps what is written and calls a function
// once, the first time the text written so far contains a marker: a test
// stops (or signals) a command at a point its output names. It is safe
// for concurrent writers; the function runs while the writer is held, so
// it must not write to it.
type OnText struct {
	mu     sync.Mutex
	buf    bytes.Buffer
	marker string
	fire   func()
	fired  bool
}

// NewOnText returns an OnText that calls fire once marker is written.
func NewOnText(marker string, fire func()) *OnText {
	return &OnText{marker: marker, fire: fire}
}

// Write implements io.Writer.
func (w *OnText) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	n, _ := w.buf.Write(p)
	if !w.fired && strings.Contains(w.buf.String(), w.marker) {
		w.fired = true
		w.fire()
	}
	return n, nil
}

// String returns what was written.
func (w *OnText) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}
