package sqlsink

import (
	"context"
	"fmt"
	"sync"
)

// pipeline writes full batches on a goroutine of its own while the caller
// fills the next one, so converting batch k+1 overlaps the database's work
// on batch k. Two batches take turns; memory stays at two batches however
// many rows stream through. Batches are written one at a time, in order.
type pipeline struct {
	w     writer
	table string
	free  chan *batch   // empty batches for the caller to fill
	full  chan *batch   // filled batches for the writer
	fail  chan struct{} // closed when a write fails
	done  chan struct{} // closed when the writer goroutine has finished
	end   sync.Once     // closes full

	// Written by the writer goroutine, read after done is closed.
	stats Stats
	err   error
}

func startPipeline(ctx context.Context, w writer, table string, a, b *batch) *pipeline {
	p := &pipeline{
		w: w, table: table,
		free: make(chan *batch, 2), full: make(chan *batch, 1),
		fail: make(chan struct{}), done: make(chan struct{}),
	}
	p.free <- a
	p.free <- b
	go p.run(ctx)
	return p
}

func (p *pipeline) run(ctx context.Context) {
	defer close(p.done)
	for b := range p.full {
		if p.err != nil {
			continue // failed: drain what the caller still sends, write nothing
		}
		res, err := p.w.write(ctx, b)
		if err != nil {
			p.err = b.writeError(p.table, p.stats.Batches+1, err)
			close(p.fail)
			continue
		}
		p.stats.addBatch(b, res)
		b.reset()
		p.free <- b
	}
}

// next returns an empty batch to fill, or nil once a write has failed.
func (p *pipeline) next() *batch {
	select {
	case b := <-p.free:
		return b
	case <-p.fail:
		return nil
	}
}

// send hands a filled batch to the writer.
func (p *pipeline) send(b *batch) { p.full <- b }

// wait lets the writer finish what it was given and returns what was
// committed and the first write error. It may be called more than once,
// so that a deferred call also covers a panic in the caller.
func (p *pipeline) wait() (Stats, error) {
	p.end.Do(func() { close(p.full) })
	<-p.done
	return p.stats, p.err
}

// writeError is the error of a failed write of b, the n-th batch.
func (b *batch) writeError(table string, n int, err error) error {
	return fmt.Errorf("sqlsink: upsert %q: batch %d (rows %d-%d): %w", table, n, b.firstRow, b.lastRow, safeError(err))
}

// addBatch counts the committed batch b, whose write did res.
func (s *Stats) addBatch(b *batch, res writeResult) {
	s.Rows += b.records
	s.Inserted += res.inserted
	s.Updated += res.updated
	s.Skipped += int64(b.len()) - res.inserted - res.updated
	s.Duplicates += b.records - int64(b.len())
	s.Batches++
}
