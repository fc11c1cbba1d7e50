package mapping

import (
	"context"
	"iter"
	"strconv"
)

// Stream applies m to every record of src and yields the mapped records,
// so that a client's stream of records flows through the mapping into a
// sink (sqlsink.DB.Upsert takes the result as it is) without a loop of the
// caller's own. It is lazy: a record is mapped when the consumer asks for
// it, and nothing is held between records.
//
// An error from src is yielded as it is; a record the mapping refuses
// yields a *StreamError (wrapping Apply's *FieldError) naming its
// position. Either ends the stream, as does ctx ending.
func (m *Mapping) Stream(ctx context.Context, src iter.Seq2[Record, error]) iter.Seq2[Record, error] {
	return func(yield func(Record, error) bool) {
		n := 0
		for rec, err := range src {
			if err != nil {
				yield(nil, err)
				return
			}
			n++
			out, err := m.Apply(ctx, rec)
			if err != nil {
				yield(nil, &StreamError{Record: n, Err: err})
				return
			}
			if !yield(out, nil) {
				return
			}
		}
	}
}

// StreamError is a record that Stream could not map.
type StreamError struct {
	// Record is the record's 1-based position in the stream.
	Record int
	// Err is Apply's error (a *FieldError, or the context's error).
	Err error
}

// Error names the position and the rule, never a value.
func (e *StreamError) Error() string {
	return "mapping: record " + strconv.Itoa(e.Record) + ": " + e.Err.Error()
}

// Unwrap returns Apply's error.
func (e *StreamError) Unwrap() error { return e.Err }

// FromSlice yields the records of rows in order, never an error: the
// stream form of records already in memory (for sqlsink.DB.Upsert, or
// Stream).
func FromSlice(rows []Record) iter.Seq2[Record, error] {
	return func(yield func(Record, error) bool) {
		for _, r := range rows {
			if !yield(r, nil) {
				return
			}
		}
	}
}
