package main

import (
	"context"
	"sync"

	"github.com/casebridge/casebridge/primero"
)

// chunkWriter commits chunks on a goroutine of its own while the caller
// reads and maps the next one, so that fetching and decoding overlap the
// database's work. Two chunks take turns: memory holds two at most.
// Chunks are committed one at a time, in order, each with the cursor that
// covers it.
type chunkWriter struct {
	s    *syncer
	flow string
	free chan *chunk
	full chan pendingChunk
	fail chan struct{} // closed when a commit (or the hook) fails
	done chan struct{}
	end  sync.Once

	// Written by the goroutine, read after done is closed.
	sum summary
	err error
}

// pendingChunk is a filled chunk and the watermark covering its cases.
type pendingChunk struct {
	ch *chunk
	wm primero.Watermark
}

func (s *syncer) startWriter(ctx context.Context, flow, cursor string) (*chunkWriter, error) {
	w := &chunkWriter{s: s, flow: flow, free: make(chan *chunk, 2), full: make(chan pendingChunk),
		fail: make(chan struct{}), done: make(chan struct{})}
	w.sum.Cursor = cursor
	for range 2 {
		ch, err := s.newChunk(ctx)
		if err != nil {
			return nil, err
		}
		w.free <- ch
	}
	go w.run(ctx)
	return w, nil
}

func (w *chunkWriter) run(ctx context.Context) {
	defer close(w.done)
	n := 0
	for p := range w.full {
		if w.err != nil {
			continue // failed: drain, write nothing more
		}
		cases := p.ch.cases.Records()
		w.err = w.s.commit(ctx, w.flow, p.ch, p.wm, &w.sum)
		if n++; w.err == nil && w.s.afterChunk != nil && cases > 0 {
			w.err = w.s.afterChunk(n)
		}
		if w.err != nil {
			close(w.fail)
			continue
		}
		w.free <- p.ch
	}
}

// next returns an empty chunk to fill, or nil once a commit has failed.
func (w *chunkWriter) next() *chunk {
	select {
	case ch := <-w.free:
		return ch
	case <-w.fail:
		return nil
	}
}

// send hands a filled chunk over, or drops it once a commit has failed.
func (w *chunkWriter) send(ch *chunk, wm primero.Watermark) {
	select {
	case w.full <- pendingChunk{ch: ch, wm: wm}:
	case <-w.fail:
	}
}

// wait lets the goroutine finish what it was given and returns what it
// committed and the first error. It may be called more than once.
func (w *chunkWriter) wait() (summary, error) {
	w.end.Do(func() { close(w.full) })
	<-w.done
	return w.sum, w.err
}
