package sqlsink

import (
	"bytes"
	"encoding/json"
	"errors"

	"github.com/casebridge/casebridge/consent"
)

// checkAppend decides whether e may be appended after last (the trail's
// last stored event, zero when empty). again is true when e is last
// itself, re-appended after a failure: the append is then a no-op.
func checkAppend(trail string, last, e consent.Event) (again bool, err error) {
	if e.Seq != 0 && e.Seq == last.Seq && e.Hash == last.Hash {
		return true, nil
	}
	if e.Seq != last.Seq+1 {
		return false, brokenChain(trail, e, last.Seq, "sequence number is not the next one")
	}
	if e.PrevHash != last.Hash {
		return false, brokenChain(trail, e, last.Seq, "prev_hash is not the last event's hash")
	}
	if consent.HashEvent(e) != e.Hash {
		return false, brokenChain(trail, e, last.Seq, "hash does not match the event")
	}
	return false, nil
}

// encodeEvent returns the stored form of e: its canonical JSON with the
// hash, the same line consent.FileSink writes.
func encodeEvent(e consent.Event) ([]byte, error) {
	return json.Marshal(e)
}

// decodeEvent reads a stored event strictly (unknown keys and trailing
// data are errors) and checks it against the row's seq and hash columns.
// pos is the event's 1-based position in the trail.
func decodeEvent(b []byte, pos int, seq int64, hash string) (consent.Event, error) {
	var e consent.Event
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	err := dec.Decode(&e)
	if err == nil && dec.More() {
		err = errors.New("trailing data")
	}
	if err != nil {
		return consent.Event{}, &consent.TamperError{Line: pos, Seq: seq, Reason: consent.TamperMalformed}
	}
	if e.Seq != seq {
		return consent.Event{}, &consent.TamperError{Line: pos, Seq: seq, Got: e.Seq, Reason: consent.TamperSeqMismatch}
	}
	if e.Hash != hash {
		return consent.Event{}, &consent.TamperError{Line: pos, Seq: seq, Got: e.Seq, Reason: consent.TamperHashMismatch}
	}
	return e, nil
}
