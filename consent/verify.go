package consent

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// TamperReason says how a trail was found broken.
type TamperReason string

// Tamper reasons, in the order Verify checks them for each event.
const (
	// TamperMalformed: the line is not a JSON event (or has unknown keys).
	TamperMalformed TamperReason = "malformed"
	// TamperHashMismatch: the event's content does not match its hash: the
	// event was altered.
	TamperHashMismatch TamperReason = "hash_mismatch"
	// TamperNotCanonical: the line is not the canonical encoding of the
	// event it decodes to (same meaning, altered bytes).
	TamperNotCanonical TamperReason = "not_canonical"
	// TamperSeqMismatch: the event's sequence number is not the next one:
	// an event before it was removed, or events were inserted or reordered.
	TamperSeqMismatch TamperReason = "seq_mismatch"
	// TamperPrevHashMismatch: the event does not chain to the one before it.
	TamperPrevHashMismatch TamperReason = "prev_hash_mismatch"
	// TamperBeyondHead: the trail continues past the head saved elsewhere.
	TamperBeyondHead TamperReason = "beyond_head"
	// TamperShort: the trail ends before the head saved elsewhere.
	TamperShort TamperReason = "short"
)

// TamperError locates the first broken event of a trail.
type TamperError struct {
	// Line is the 1-based line (JSONL) or position (events) of the event.
	Line int
	// Seq is the sequence number the event should have had there.
	Seq int64
	// Got is the sequence number the event carries (0 if unreadable).
	Got    int64
	Reason TamperReason
}

// Error names the position and the reason, never event content.
func (e *TamperError) Error() string {
	return fmt.Sprintf("consent: audit trail broken at line %d (expected seq %d, found %d): %s", e.Line, e.Seq, e.Got, e.Reason)
}

// Summary describes a trail that verified.
type Summary struct {
	// Events is the number of events.
	Events int
	// LastSeq and LastHash identify the last event (0 and "" when empty).
	LastSeq  int64
	LastHash string
}

// Verifier checks events one by one, in trail order. Use it for trails
// stored outside a JSONL file (for example the SQL sink's rows).
type Verifier struct {
	n    int
	seq  int64
	prev string
}

// Next checks the next event of the trail.
func (v *Verifier) Next(e Event) error {
	if err := v.check(e); err != nil {
		return err
	}
	v.n, v.seq, v.prev = v.n+1, e.Seq, e.Hash
	return nil
}

// check checks e as the next event without advancing.
func (v *Verifier) check(e Event) error {
	pos := v.n + 1
	want := v.seq + 1
	if HashEvent(e) != e.Hash {
		return &TamperError{Line: pos, Seq: want, Got: e.Seq, Reason: TamperHashMismatch}
	}
	if e.Seq != want {
		return &TamperError{Line: pos, Seq: want, Got: e.Seq, Reason: TamperSeqMismatch}
	}
	if e.PrevHash != v.prev {
		return &TamperError{Line: pos, Seq: want, Got: e.Seq, Reason: TamperPrevHashMismatch}
	}
	return nil
}

// Summary returns what has been verified so far.
func (v *Verifier) Summary() Summary {
	return Summary{Events: v.n, LastSeq: v.seq, LastHash: v.prev}
}

// Verify reads a JSONL trail (one event per line, as FileSink writes it)
// and checks every event: its hash, that its line is the canonical
// encoding, that sequence numbers run 1, 2, 3… and that each PrevHash is
// the previous event's Hash. It returns a *TamperError for the first event
// that was altered, removed, inserted or reordered. A trail whose tail was
// cut off, or that was entirely re-hashed, verifies on its own; use
// VerifyHead against a head saved elsewhere to catch those.
func Verify(r io.Reader) (Summary, error) {
	s, _, err := verifyStream(r)
	return s, err
}

// verifyStream is Verify that also returns the last good event.
func verifyStream(r io.Reader) (Summary, Event, error) {
	var v Verifier
	var last Event
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64*1024), 4*1024*1024)
	for sc.Scan() {
		line := sc.Bytes()
		pos := v.n + 1
		e, err := decodeLine(line)
		if err != nil {
			return v.Summary(), last, &TamperError{Line: pos, Seq: v.seq + 1, Reason: TamperMalformed}
		}
		if err := v.check(e); err != nil {
			return v.Summary(), last, err
		}
		if enc, _ := json.Marshal(e); !bytes.Equal(enc, line) {
			return v.Summary(), last, &TamperError{Line: pos, Seq: e.Seq, Got: e.Seq, Reason: TamperNotCanonical}
		}
		_ = v.Next(e)
		last = e
	}
	if err := sc.Err(); err != nil {
		return v.Summary(), last, fmt.Errorf("consent: read audit trail: %w", err)
	}
	return v.Summary(), last, nil
}

// VerifyHead is Verify plus a check that the trail ends exactly at the
// head (seq, hash) saved elsewhere, for example from Trail.Head. A forged
// event appended with a correct hash, a cut-off tail, or a re-hashed
// trail is reported.
func VerifyHead(r io.Reader, seq int64, hash string) (Summary, error) {
	s, err := Verify(r)
	var te *TamperError
	if errors.As(err, &te) && int64(te.Line) > seq {
		return s, &TamperError{Line: int(seq) + 1, Seq: seq + 1, Got: te.Got, Reason: TamperBeyondHead}
	}
	if err != nil {
		return s, err
	}
	switch {
	case s.LastSeq > seq:
		return s, &TamperError{Line: int(seq) + 1, Seq: seq + 1, Got: seq + 1, Reason: TamperBeyondHead}
	case s.LastSeq < seq:
		return s, &TamperError{Line: s.Events + 1, Seq: s.LastSeq + 1, Reason: TamperShort}
	case s.LastHash != hash:
		return s, &TamperError{Line: s.Events, Seq: s.LastSeq, Got: s.LastSeq, Reason: TamperHashMismatch}
	}
	return s, nil
}

// decodeLine decodes one JSONL line strictly: unknown keys and trailing
// data are errors.
func decodeLine(line []byte) (Event, error) {
	var e Event
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&e); err != nil {
		return Event{}, err
	}
	if dec.More() {
		return Event{}, errors.New("trailing data")
	}
	return e, nil
}
