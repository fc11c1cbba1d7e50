package sqlsink

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/casebridge/casebridge/mapping"
)

// DefaultBatchSize is the number of rows [DB.Upsert] writes per batch (and
// per transaction) unless [BatchSize] says otherwise.
const DefaultBatchSize = 5000

// UpsertOption tunes [DB.Upsert].
type UpsertOption func(*upsertConfig)

type upsertConfig struct {
	batchSize     int
	ignoreUnknown bool
}

// BatchSize sets the number of distinct rows per batch; each batch is one
// transaction. n must be at least 1.
func BatchSize(n int) UpsertOption {
	return func(c *upsertConfig) { c.batchSize = n }
}

// IgnoreUnknownFields makes Upsert drop record fields the table does not
// declare. Without it such a field is an error (a *RowError naming the
// field), because it usually means the mapping and the table disagree.
func IgnoreUnknownFields() UpsertOption {
	return func(c *upsertConfig) { c.ignoreUnknown = true }
}

// Stats counts what an upsert committed. Rows = Inserted + Updated +
// Skipped + Duplicates.
type Stats struct {
	// Rows is the number of records in the committed batches.
	Rows int64
	// Inserted counts rows that were new.
	Inserted int64
	// Updated counts existing rows whose values changed.
	Updated int64
	// Skipped counts existing rows whose values were already the same
	// (left untouched).
	Skipped int64
	// Duplicates counts records replaced by a later record with the same
	// key in the same batch.
	Duplicates int64
	// Batches is the number of committed batches (transactions).
	Batches int
	// Duration is the time the whole upsert took.
	Duration time.Duration
}

// Upsert writes rows into the declared table t, inserting new keys and
// updating existing ones, in batches of [DefaultBatchSize] distinct rows,
// one transaction per batch. The table must exist as declared (see
// [DB.EnsureTable]): before writing anything, Upsert reads the table's
// columns from the database and refuses a missing table ([ErrNoTable]), a
// declared column the table lacks, a column whose type is not compatible
// with the declared one (a *SchemaChangeError) or another key.
//
// Values are taken from each record by column name, in the declaration's
// column order, and converted to the column's type (see [Type]). A field
// that is absent or nil gets the column's Default, or NULL. A field the
// table does not declare is an error unless [IgnoreUnknownFields] is
// given. Records repeating a key within a batch collapse to the last one.
// A row whose values equal the stored ones is left untouched and counted
// as skipped.
//
// On PostgreSQL each batch is encoded for binary COPY for the column types
// the table has (an Integer too large for a smallint column is a
// *RowError here, before anything is sent), COPYed into a temporary table
// of exactly those types, then merged with INSERT … ON CONFLICT (key) DO
// UPDATE … WHERE the row IS DISTINCT FROM the stored one. Into a table that was empty when the upsert began,
// or whose last upsert through this DB met only new keys (a load written
// as several upserts, chunk by chunk), batches are COPYed straight in
// until one meets an existing key (then it, and every batch after it, is
// merged as above): a first load costs little more than a plain COPY. On SQLite each row of a batch runs a prepared
// INSERT … ON CONFLICT DO NOTHING and, for an existing key, an UPDATE
// guarded the same way, which tells inserted, updated and skipped apart.
//
// Errors stop the upsert. A record that cannot be written gives a
// *RowError (errors.Is(err, ErrInvalidValue)) naming its position, the
// column and its type, and its key only when the key columns are declared
// Identifier, but never a value; a failing batch is rolled back whole; an
// error from rows is returned as is. In every case the batches committed
// before stay committed, Stats count exactly those, and the records read
// since the last full batch are not written.
//
// A batch is converted while the one before it is being written (on a
// goroutine of Upsert's own), so at most two batches are held in memory.
// Each record is read (converted and encoded) before the next is asked
// for and is not kept: rows may yield one map refilled for every record.
// The table must not be altered while an upsert runs: its columns are
// read once, at the start.
func (db *DB) Upsert(ctx context.Context, t Table, rows iter.Seq2[mapping.Record, error], opts ...UpsertOption) (Stats, error) {
	start := time.Now()
	cfg := upsertConfig{batchSize: DefaultBatchSize}
	for _, o := range opts {
		o(&cfg)
	}
	var stats Stats
	if cfg.batchSize < 1 {
		return stats, errors.New("sqlsink: BatchSize must be at least 1")
	}
	first, err := db.NewBatch(ctx, t, opts...) // checks the table
	if err != nil {
		return stats, err
	}
	b1, cols := first.b, first.cols
	b2, _ := newBatch(t, db.dialect, cfg, cols) // the same table converts the same way twice
	w, err := db.newWriter(ctx, t, cols)
	if err != nil {
		return stats, fmt.Errorf("sqlsink: upsert %q: %w", t.Name, safeError(err))
	}
	defer w.close()

	p := startPipeline(ctx, w, t.Name, b1, b2)
	// Should rows panic, the writer still finishes before w is closed.
	defer func() { _, _ = p.wait() }()
	b := p.next()
	var n int64
	var stop error // from rows, ctx or a record; the write error comes from p.wait
	for rec, err := range rows {
		if err == nil {
			err = ctx.Err()
		}
		if err == nil {
			n++
			err = b.add(rec, n)
		}
		if err != nil {
			stop = err
			break
		}
		if b.len() >= cfg.batchSize {
			p.send(b)
			if b = p.next(); b == nil {
				break // a write failed
			}
		}
	}
	if stop == nil && b != nil && b.len() > 0 {
		p.send(b)
	}
	stats, err = p.wait()
	b1.release()
	b2.release()
	stats.Duration = time.Since(start)
	return stats, errors.Join(stop, err)
}

// writeResult is what one committed batch did.
type writeResult struct {
	inserted, updated int64
}

// writer writes batches for one upsert, one transaction each.
type writer interface {
	write(ctx context.Context, b *batch) (writeResult, error)
	close()
}

func (db *DB) newWriter(ctx context.Context, t Table, cols []existingColumn) (writer, error) {
	if db.dialect == Postgres {
		return newPGWriter(ctx, db, t, cols, nil)
	}
	return newSQLiteWriter(db, t), nil
}

// batch holds the converted rows of one batch, distinct by key, in the
// order their keys first appeared; a later record with the same key
// replaces the earlier one's values. On PostgreSQL the rows are held
// already encoded for binary COPY (so that encoding, like conversion,
// overlaps the database's work on the previous batch); on SQLite as
// converted values.
type batch struct {
	t        Table
	dialect  Dialect
	cfg      upsertConfig
	index    map[string]int // column name -> position
	keyIdx   []int          // positions of the key columns
	defaults []any          // converted Default per column (nil: none)
	showKey  bool           // every key column is an Identifier: errors may show the key
	enc      *pgEncoder     // PostgreSQL only

	rows  [][]any // SQLite: converted values per row
	stale int     // PostgreSQL: bytes of replaced tuples left in copyBuf
	vals  []any   // PostgreSQL: scratch row, reused
	*batchBuffers
	records  int64 // records added, duplicates included
	firstRow int64
	lastRow  int64

	sp       savepoint // see batch_savepoint.go
	newKeys  []string
	replaced []replaced
}

// batchBuffers are the parts of a batch that grow with its rows. They are
// taken from a pool and given back when the upsert ends, so that a stream
// upserted chunk by chunk (one Upsert per chunk) does not grow them anew,
// by doubling, for every chunk: that was most of what an upsert allocated.
type batchBuffers struct {
	copyBuf []byte  // PostgreSQL: the COPY header, then each row's tuple
	spans   []span  // PostgreSQL: where each row's tuple is in copyBuf
	rowNums []int64 // record position per row, for errors
	byKey   map[string]int
}

var batchPool = sync.Pool{New: func() any { return &batchBuffers{byKey: map[string]int{}} }}

// release gives the batch's buffers back to the pool; the batch must not
// be used after it.
func (b *batch) release() {
	b.reset()
	b.copyBuf = b.copyBuf[:0]
	batchPool.Put(b.batchBuffers)
	b.batchBuffers = nil
}

// span is a row's tuple in batch.copyBuf.
type span struct{ from, to int }

// newBatch prepares a batch for t, whose existing columns (one per
// declared column, from checkTable) say how PostgreSQL values are encoded.
func newBatch(t Table, d Dialect, cfg upsertConfig, cols []existingColumn) (*batch, error) {
	b := &batch{t: t, dialect: d, cfg: cfg, index: map[string]int{}, showKey: true,
		batchBuffers: batchPool.Get().(*batchBuffers)}
	b.defaults = make([]any, len(t.Columns))
	for i, c := range t.Columns {
		b.index[c.Name] = i
		if c.Default != nil {
			v, err := convertValue(c.Type, c.Default, d)
			if err != nil { // unreachable after Validate
				return nil, fmt.Errorf("sqlsink: table %q: column %q: default: %w", t.Name, c.Name, err)
			}
			b.defaults[i] = v
		}
	}
	for _, k := range t.Key {
		b.keyIdx = append(b.keyIdx, b.index[k])
		b.showKey = b.showKey && t.Columns[b.index[k]].Identifier
	}
	if d == Postgres {
		b.enc = newPGEncoder(cols)
		b.copyBuf = append(b.copyBuf, pgCopyHeader...)
		b.vals = make([]any, len(t.Columns))
	}
	return b, nil
}

func (b *batch) len() int { return len(b.rowNums) }

func (b *batch) reset() {
	clear(b.rows)
	b.rows = b.rows[:0]
	if b.enc != nil {
		b.copyBuf = b.copyBuf[:len(pgCopyHeader)]
	}
	b.spans = b.spans[:0]
	b.stale = 0
	b.rowNums = b.rowNums[:0]
	clear(b.byKey)
	b.records, b.firstRow, b.lastRow = 0, 0, 0
	b.dropSavepoint()
}

// add converts rec (record number n) and adds or replaces its row.
func (b *batch) add(rec mapping.Record, n int64) error {
	var vals []any
	if b.enc != nil {
		vals = b.vals // encoded below, so the slice can be reused
		clear(vals)
	} else {
		vals = make([]any, len(b.t.Columns))
	}
	present := 0 // declared columns rec has, to spot undeclared fields without a second pass
	// Key columns first, so that later errors can name the key.
	for _, i := range b.keyIdx {
		c := b.t.Columns[i]
		v, ok := rec[c.Name]
		if ok {
			present++
		}
		v, err := b.value(c, i, v)
		if err != nil {
			return b.rowError(n, nil, i, "key column: "+err.Error())
		}
		if v == nil {
			return b.rowError(n, nil, i, "key column has no value")
		}
		vals[i] = v
	}
	for i, c := range b.t.Columns {
		if vals[i] != nil { // a key column, done above
			continue
		}
		v, ok := rec[c.Name]
		if ok {
			present++
		}
		v, err := b.value(c, i, v)
		if err != nil {
			return b.rowError(n, vals, i, err.Error())
		}
		if v == nil && c.NotNull {
			return b.rowError(n, vals, i, "NotNull column has no value and no Default")
		}
		vals[i] = v
	}
	if present != len(rec) && !b.cfg.ignoreUnknown {
		var unknown []string
		for f := range rec {
			if _, ok := b.index[f]; !ok {
				unknown = append(unknown, f)
			}
		}
		slices.Sort(unknown)
		e := b.rowError(n, vals, -1, fmt.Sprintf("field is not a declared column (%d undeclared; IgnoreUnknownFields drops them)", len(unknown)))
		e.Column = unknown[0]
		return e
	}
	var row span
	if b.enc != nil {
		from := len(b.copyBuf)
		buf, col, err := b.enc.appendRow(b.copyBuf, vals)
		if err != nil {
			b.copyBuf = buf[:from]
			e := b.rowError(n, vals, col, err.Error())
			e.Type = b.enc.cols[col].typ
			return e
		}
		b.copyBuf = buf
		row = span{from, len(buf)}
	}
	b.records++
	if b.firstRow == 0 {
		b.firstRow = n
	}
	b.lastRow = n
	key := b.dedupeKey(vals)
	if at, dup := b.byKey[key]; dup {
		b.logReplace(at)
		if b.enc != nil {
			b.stale += b.spans[at].to - b.spans[at].from
			b.spans[at] = row
			if b.stale > maxStale && b.stale > len(b.copyBuf)/2 && !b.sp.set {
				b.compact() // (under a savepoint, when the next is set)
			}
		} else {
			b.rows[at] = vals
		}
		b.rowNums[at] = n
		return nil
	}
	b.byKey[key] = len(b.rowNums)
	b.logNewKey(key)
	if b.enc != nil {
		b.spans = append(b.spans, row)
	} else {
		b.rows = append(b.rows, vals)
	}
	b.rowNums = append(b.rowNums, n)
	return nil
}

// maxStale is how many bytes of replaced tuples a batch keeps before it
// compacts: records repeating one key must not grow memory without bound
// (the batch counts distinct keys, so it never fills up with them).
const maxStale = 1 << 20

// compact copies the live tuples, in order, into a new copyBuf. (In place
// would overwrite: a replaced row's tuple sits after the rows that follow
// it.)
func (b *batch) compact() {
	buf := make([]byte, 0, len(b.copyBuf)-b.stale+len(pgCopyTrailer))
	buf = append(buf, pgCopyHeader...)
	for i, s := range b.spans {
		at := len(buf)
		buf = append(buf, b.copyBuf[s.from:s.to]...)
		b.spans[i] = span{at, len(buf)}
	}
	b.copyBuf = buf
	b.stale = 0
	b.dropSavepoint() // its positions in copyBuf are gone
}

// copyData returns the batch as one binary COPY stream, each distinct row
// once, in order. It is valid until the batch changes.
func (b *batch) copyData() []byte {
	if b.stale > 0 {
		b.compact()
	}
	// The tuples follow each other: only the trailer is missing.
	data := append(b.copyBuf, pgCopyTrailer...)
	b.copyBuf = data[:len(data)-len(pgCopyTrailer)]
	return data
}

// rowError is the error for record n at column position col (-1: none),
// naming the row's key when vals already holds the converted key columns
// (nil before they are converted) and every key column is an Identifier.
func (b *batch) rowError(n int64, vals []any, col int, reason string) *RowError {
	e := &RowError{Table: b.t.Name, Row: n, Reason: reason}
	if vals != nil {
		e.Key = b.displayKey(vals)
	}
	if col >= 0 {
		e.Column, e.Type = b.t.Columns[col].Name, b.t.Columns[col].Type.String()
	}
	return e
}

// dedupeKey identifies a row's key within the batch: keys equal as their
// column's type (numeric 1 and 1.0, float 0 and -0) give the same text.
func (b *batch) dedupeKey(vals []any) string {
	if len(b.keyIdx) == 1 {
		return keyText(b.t.Columns[b.keyIdx[0]].Type, vals[b.keyIdx[0]])
	}
	var sb strings.Builder
	for j, i := range b.keyIdx {
		if j > 0 {
			sb.WriteByte(0)
		}
		sb.WriteString(keyText(b.t.Columns[i].Type, vals[i]))
	}
	return sb.String()
}

// keyText renders a converted key value so that values the database
// holds equal render alike. (JSON and TextArray cannot be keys.)
func keyText(t Type, v any) string {
	switch x := v.(type) {
	case string:
		if t == Numeric {
			return canonicalDecimal(x)
		}
		return x // Text; UUID, Date and Timestamp text are canonical already
	case int64:
		return strconv.FormatInt(x, 10)
	case float64:
		if x == 0 {
			x = 0 // -0 is 0
		}
		return strconv.FormatFloat(x, 'g', -1, 64)
	case time.Time:
		return strconv.FormatInt(x.UnixMicro(), 10)
	}
	return fmt.Sprint(v)
}

// displayKey renders a row's converted key columns for errors
// ("id=child-0001"), or "" unless every key column is an Identifier.
func (b *batch) displayKey(vals []any) string {
	if !b.showKey {
		return ""
	}
	parts := make([]string, len(b.keyIdx))
	for j, i := range b.keyIdx {
		parts[j] = b.t.Columns[i].Name + "=" + keyDisplay(vals[i])
	}
	return strings.Join(parts, ", ")
}

// keyDisplay renders one converted key value as written.
func keyDisplay(v any) string {
	if t, ok := v.(time.Time); ok {
		return t.Format(time.RFC3339Nano)
	}
	return fmt.Sprint(v)
}

// value converts v, the record's field for column c (position i); nil
// means NULL (or the column's Default).
func (b *batch) value(c Column, i int, v any) (any, error) {
	if v == nil {
		return b.defaults[i], nil
	}
	return convertValue(c.Type, v, b.dialect)
}
