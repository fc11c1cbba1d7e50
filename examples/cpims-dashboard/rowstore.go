package main

import (
	"fmt"
	"iter"

	"github.com/casebridge/casebridge/mapping"
	"github.com/casebridge/casebridge/sqlsink"
)

// rowStore holds the mapped rows of one table for a chunk as values in the
// table's column order, in one slice reused from chunk to chunk, instead
// of one map per row: a mapped row as a map costs about three times its
// values, and two chunks of them were most of the sync's live heap.
type rowStore struct {
	cols  []string       // the table's column names
	index map[string]int // column name -> position
	vals  []any          // len(cols) values per row, row after row
	rows  int
	hint  int            // rows to make room for at once (0: grow as needed)
	rec   mapping.Record // handed out by drain, refilled for every row
}

// newRowStore returns a store for t's rows, sized for rows of them (0:
// grown as rows come, and again after each drain).
func newRowStore(t sqlsink.Table, rows int) *rowStore {
	s := &rowStore{index: make(map[string]int, len(t.Columns)), hint: rows}
	for i, c := range t.Columns {
		s.cols = append(s.cols, c.Name)
		s.index[c.Name] = i
	}
	s.rec = make(mapping.Record, len(s.cols))
	return s
}

// add stores rec. A field that is not a column is an error naming it,
// as Upsert would refuse it (the store has no place to keep it).
func (s *rowStore) add(rec mapping.Record) error {
	if s.vals == nil && s.hint > 0 {
		s.vals = make([]any, 0, s.hint*len(s.cols)) // not doubled past what a chunk needs
	}
	at := len(s.vals)
	s.vals = append(s.vals, make([]any, len(s.cols))...)
	for f, v := range rec {
		i, ok := s.index[f]
		if !ok {
			s.vals = s.vals[:at]
			return fmt.Errorf("mapped field %q is not a column of the table", f)
		}
		s.vals[at+i] = v
	}
	s.rows++
	return nil
}

// truncate drops the rows stored after the first n values (a length of
// vals taken earlier).
func (s *rowStore) truncate(n int) {
	clear(s.vals[n:])
	s.vals = s.vals[:n]
	s.rows = n / len(s.cols)
}

// len is the number of rows stored.
func (s *rowStore) len() int { return s.rows }

// drain yields the stored rows in order, each as the same map refilled
// (a field that was absent or nil is absent; the map is valid until the
// next row is requested, and Upsert reads each record before asking for
// the next), and empties the store as it ends, giving up its memory: the
// rows of a chunk being written then live only in Upsert's encoded batch
// while the next chunk is being filled.
func (s *rowStore) drain() iter.Seq2[mapping.Record, error] {
	return func(yield func(mapping.Record, error) bool) {
		defer s.release()
		n := len(s.cols)
		for at := 0; at < len(s.vals); at += n {
			clear(s.rec)
			for i, v := range s.vals[at : at+n] {
				if v != nil {
					s.rec[s.cols[i]] = v
				}
			}
			if !yield(s.rec, nil) {
				return
			}
		}
	}
}

// release empties the store and lets go of its memory.
func (s *rowStore) release() {
	s.vals, s.rows = nil, 0
	clear(s.rec)
}

// reset empties the store, keeping its capacity, and drops its references
// to the values.
func (s *rowStore) reset() {
	clear(s.vals)
	s.vals = s.vals[:0]
	s.rows = 0
	clear(s.rec)
}
