package sqlsink

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"slices"
	"strings"
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
// [DB.EnsureTable]).
//
// Values are taken from each record by column name, in the declaration's
// column order, and converted to the column's type (see [Type]). A field
// that is absent or nil gets the column's Default, or NULL. A field the
// table does not declare is an error unless [IgnoreUnknownFields] is
// given. Records repeating a key within a batch collapse to the last one.
// A row whose values equal the stored ones is left untouched and counted
// as skipped.
//
// On PostgreSQL each batch is COPYed into a temporary table, then merged
// with INSERT … ON CONFLICT (key) DO UPDATE … WHERE the row IS DISTINCT
// FROM the stored one. Into a table that was empty when the upsert began,
// batches are COPYed straight in until one meets an existing key (then it,
// and every batch after it, is merged as above): a first load costs little
// more than a plain COPY. On SQLite each row of a batch runs a prepared
// INSERT … ON CONFLICT DO NOTHING and, for an existing key, an UPDATE
// guarded the same way, which tells inserted, updated and skipped apart.
//
// Errors stop the upsert. A record that cannot be written gives a
// *RowError (errors.Is(err, ErrInvalidValue)) naming its position, key and
// column but never the value; a failing batch is rolled back whole; an
// error from rows is returned as is. In every case the batches committed
// before stay committed, Stats count exactly those, and the records read
// since the last full batch are not written.
//
// A batch is converted while the one before it is being written (on a
// goroutine of Upsert's own), so at most two batches are held in memory.
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
	if err := t.Validate(); err != nil {
		return stats, err
	}
	b1, err := newBatch(t, db.dialect, cfg)
	if err != nil {
		return stats, err
	}
	b2, _ := newBatch(t, db.dialect, cfg) // the same table converts the same way twice
	w, err := db.newWriter(ctx, t)
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

func (db *DB) newWriter(ctx context.Context, t Table) (writer, error) {
	if db.dialect == Postgres {
		return newPGWriter(ctx, db, t)
	}
	return newSQLiteWriter(db, t), nil
}

// batch holds the converted rows of one batch, distinct by key, in the
// order their keys first appeared; a later record with the same key
// replaces the earlier one's values.
type batch struct {
	t        Table
	dialect  Dialect
	cfg      upsertConfig
	index    map[string]int // column name -> position
	keyIdx   []int          // positions of the key columns
	defaults []any          // converted Default per column (nil: none)

	rows     [][]any
	rowNums  []int64 // record position per row, for errors
	byKey    map[string]int
	records  int64 // records added, duplicates included
	firstRow int64
	lastRow  int64
}

func newBatch(t Table, d Dialect, cfg upsertConfig) (*batch, error) {
	b := &batch{t: t, dialect: d, cfg: cfg, index: map[string]int{}, byKey: map[string]int{}}
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
	}
	return b, nil
}

func (b *batch) len() int { return len(b.rows) }

func (b *batch) reset() {
	clear(b.rows)
	b.rows = b.rows[:0]
	b.rowNums = b.rowNums[:0]
	clear(b.byKey)
	b.records, b.firstRow, b.lastRow = 0, 0, 0
}

// add converts rec (record number n) and adds or replaces its row.
func (b *batch) add(rec mapping.Record, n int64) error {
	vals := make([]any, len(b.t.Columns))
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
			return b.rowError(n, nil, c.Name, "key column: "+err.Error())
		}
		if v == nil {
			return b.rowError(n, nil, c.Name, "key column has no value")
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
			return b.rowError(n, vals, c.Name, err.Error())
		}
		if v == nil && c.NotNull {
			return b.rowError(n, vals, c.Name, "NotNull column has no value and no Default")
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
		return b.rowError(n, vals, unknown[0],
			fmt.Sprintf("field is not a declared column (%d undeclared; IgnoreUnknownFields drops them)", len(unknown)))
	}
	b.records++
	if b.firstRow == 0 {
		b.firstRow = n
	}
	b.lastRow = n
	key := b.dedupeKey(vals)
	if at, dup := b.byKey[key]; dup {
		b.rows[at] = vals
		b.rowNums[at] = n
		return nil
	}
	b.byKey[key] = len(b.rows)
	b.rows = append(b.rows, vals)
	b.rowNums = append(b.rowNums, n)
	return nil
}

// rowError is the error for record n, naming its key when vals already
// holds the converted key columns (nil before they are converted).
func (b *batch) rowError(n int64, vals []any, column, reason string) error {
	key := ""
	if vals != nil {
		key = b.displayKey(vals)
	}
	return &RowError{Table: b.t.Name, Row: n, Key: key, Column: column, Reason: reason}
}

// dedupeKey identifies a row's key within the batch. Converted values of
// one column share a type, so their text forms compare like the values.
func (b *batch) dedupeKey(vals []any) string {
	if len(b.keyIdx) == 1 {
		if s, ok := vals[b.keyIdx[0]].(string); ok {
			return s
		}
	}
	var sb strings.Builder
	for j, i := range b.keyIdx {
		if j > 0 {
			sb.WriteByte(0)
		}
		fmt.Fprint(&sb, vals[i])
	}
	return sb.String()
}

// displayKey renders a row's converted key columns for errors
// ("id=child-0001"): keys are identifiers, never personal values.
func (b *batch) displayKey(vals []any) string {
	parts := make([]string, len(b.keyIdx))
	for j, i := range b.keyIdx {
		parts[j] = b.t.Columns[i].Name + "=" + fmt.Sprint(vals[i])
	}
	return strings.Join(parts, ", ")
}

// value converts v, the record's field for column c (position i); nil
// means NULL (or the column's Default).
func (b *batch) value(c Column, i int, v any) (any, error) {
	if v == nil {
		return b.defaults[i], nil
	}
	return convertValue(c.Type, v, b.dialect)
}
