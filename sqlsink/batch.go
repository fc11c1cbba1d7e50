package sqlsink

import (
	"context"
	"time"

	"github.com/casebridge/casebridge/mapping"
)

// Batch holds rows for one table, converted and encoded as [DB.Upsert]
// would, until [Batch.Write] writes them in one transaction. It is for a
// caller that gathers its rows itself, a chunk at a time, and commits
// something of its own after each chunk (a cursor): the rows are converted
// as they are added, by the goroutine that adds them, and the batch holds
// them in their compact written form (on PostgreSQL the binary COPY
// tuples), not as records. A Batch is reused after each Write.
//
// The semantics are Upsert's: values are converted to the column types (a
// bad one is a *RowError naming the column, never the value), records
// repeating a key collapse to the last one, rows equal to the stored ones
// are skipped, and on PostgreSQL a batch into an empty table (or into one
// the previous write loaded with new keys only) is COPYed straight in.
//
// The table is checked against the database once, by [DB.NewBatch]: it
// must not be altered while the batch is in use. A Batch is used by one
// goroutine at a time.
type Batch struct {
	db   *DB
	t    Table
	cols []existingColumn
	b    *batch
}

// NewBatch checks t against the database as Upsert does (see [DB.Upsert]:
// a missing table is [ErrNoTable], a changed one a *SchemaChangeError) and
// returns an empty batch for its rows. Of the options only
// [IgnoreUnknownFields] applies: a batch holds as many rows as are added.
func (db *DB) NewBatch(ctx context.Context, t Table, opts ...UpsertOption) (*Batch, error) {
	cfg := upsertConfig{batchSize: DefaultBatchSize}
	for _, o := range opts {
		o(&cfg)
	}
	if err := t.Validate(); err != nil {
		return nil, err
	}
	cols, err := db.checkTable(ctx, t)
	if err != nil {
		return nil, err
	}
	b, err := newBatch(t, db.dialect, cfg, cols)
	if err != nil {
		return nil, err
	}
	return &Batch{db: db, t: t, cols: cols, b: b}, nil
}

// Add converts rec and adds it, replacing the row of an earlier record
// with the same key. A record that cannot be written is a *RowError
// (errors.Is(err, ErrInvalidValue)) whose Row counts the records added
// since the last Write, and the batch is left as it was. rec is not kept.
func (bt *Batch) Add(rec mapping.Record) error {
	return bt.b.add(rec, bt.b.records+1)
}

// Len is the number of rows held: distinct keys.
func (bt *Batch) Len() int { return bt.b.len() }

// Records is the number of records added since the last Write, those
// repeating a key included.
func (bt *Batch) Records() int64 { return bt.b.records }

// Write writes the rows in one transaction and empties the batch. Its
// Stats are those of one Upsert batch (Batches is 0 for an empty batch,
// which writes nothing). On error nothing is written and the batch keeps
// its rows. [Tx.Write] writes batches together with other statements.
func (bt *Batch) Write(ctx context.Context) (Stats, error) {
	start := time.Now()
	var st Stats
	if bt.b.len() == 0 {
		return st, nil
	}
	err := bt.db.InTx(ctx, func(tx *Tx) error {
		var err error
		st, err = tx.Write(ctx, bt)
		return err
	})
	if err != nil {
		return Stats{}, err
	}
	st.Duration = time.Since(start)
	return st, nil
}

// Savepoint marks the batch as it is now, for [Batch.Rollback]: a caller
// adding the rows of one item to several batches (a case and its
// services) can take all of them back when one is refused. A savepoint
// replaces the one before; Write and Reset drop it.
func (bt *Batch) Savepoint() { bt.b.setSavepoint() }

// Rollback takes back every record added since the last Savepoint (a row
// such a record replaced gets its earlier values back), and reports
// whether there was a savepoint to return to. The savepoint stays.
func (bt *Batch) Rollback() bool { return bt.b.rollback() }

// Reset empties the batch without writing it.
func (bt *Batch) Reset() { bt.b.reset() }
