package consent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sync"
)

// ErrBrokenChain is returned by FileSink.Append for an event that does not
// continue the file's trail (wrong Seq or PrevHash).
var ErrBrokenChain = errors.New("consent: event does not continue the audit trail")

// FileSink writes the audit trail as a JSONL file: one event per line, each
// line the canonical JSON encoding of the event (see CanonicalEvent), so
// that Verify can check the file.
//
// Durability: by default every Append ends with fsync, so an event whose
// Append returned nil survives a crash or power loss. WithoutSync leaves
// flushing to the operating system (faster; the last events may be lost on
// power loss, which Verify cannot detect without a saved head); call Sync
// or Close to flush.
//
// A FileSink is safe for concurrent use, but only one process may append
// to a file at a time.
type FileSink struct {
	mu   sync.Mutex
	f    *os.File
	size int64
	sync bool
	last Event
}

// FileOption configures a FileSink.
type FileOption func(*FileSink)

// WithoutSync turns off the fsync after every Append.
func WithoutSync() FileOption { return func(s *FileSink) { s.sync = false } }

// OpenFileSink opens (or creates) the JSONL trail at path for appending.
// An existing file is verified first: if it is tampered with or has a torn
// last line, OpenFileSink returns the *TamperError and writes nothing.
// Last returns the file's last event, to resume a Trail from
// (OpenTrail does both).
func OpenFileSink(path string, opts ...FileOption) (*FileSink, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("consent: open audit file: %w", err)
	}
	_, last, err := verifyStream(f)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("consent: audit file %s: %w", path, err)
	}
	size, err := f.Seek(0, 2)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("consent: audit file: %w", err)
	}
	s := &FileSink{f: f, size: size, sync: true, last: last}
	for _, o := range opts {
		o(s)
	}
	return s, nil
}

// OpenTrail opens the JSONL trail at path and returns a Trail that
// continues it. Close the sink when done.
func OpenTrail(path string, opts ...FileOption) (*Trail, *FileSink, error) {
	s, err := OpenFileSink(path, opts...)
	if err != nil {
		return nil, nil, err
	}
	return NewTrail(s, ResumeFrom(s.Last())), s, nil
}

// Last returns the last event in the file (zero when empty).
func (s *FileSink) Last() Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.last
}

// Append writes e as one line. Re-appending the last event (same Seq and
// Hash, as a Trail does after a failed multi-sink append) is a no-op; an
// event that does not continue the chain is refused with ErrBrokenChain. A
// failed write is rolled back so no partial line remains.
func (s *FileSink) Append(_ context.Context, e Event) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.f == nil {
		return errors.New("consent: audit file is closed")
	}
	if e.Seq == s.last.Seq && e.Hash == s.last.Hash && e.Seq != 0 {
		return nil
	}
	if e.Seq != s.last.Seq+1 || e.PrevHash != s.last.Hash {
		return fmt.Errorf("%w: seq %d after %d", ErrBrokenChain, e.Seq, s.last.Seq)
	}
	if HashEvent(e) != e.Hash {
		return fmt.Errorf("%w: seq %d has a wrong hash", ErrBrokenChain, e.Seq)
	}
	line, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("consent: encode audit event seq %d: %w", e.Seq, err)
	}
	line = append(line, '\n')
	if _, err := s.f.Write(line); err != nil {
		_ = s.f.Truncate(s.size)
		_, _ = s.f.Seek(s.size, 0)
		return fmt.Errorf("consent: write audit event seq %d: %w", e.Seq, err)
	}
	if s.sync {
		if err := s.f.Sync(); err != nil {
			return fmt.Errorf("consent: sync audit event seq %d: %w", e.Seq, err)
		}
	}
	s.size += int64(len(line))
	s.last = e
	return nil
}

// Sync flushes the file to stable storage.
func (s *FileSink) Sync() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.f == nil {
		return nil
	}
	return s.f.Sync()
}

// Close syncs and closes the file.
func (s *FileSink) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.f == nil {
		return nil
	}
	err := errors.Join(s.f.Sync(), s.f.Close())
	s.f = nil
	return err
}
