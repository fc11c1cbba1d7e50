package sqlsink

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Tx is one database transaction of [DB.InTx], in which batches are
// written and statements run together: either all of it commits, or none
// of it. It is used by one goroutine, inside the function given to InTx.
type Tx struct {
	db *DB
	// PostgreSQL: the connection and its transaction; SQLite: sql.
	conn *pgxpool.Conn
	pg   pgx.Tx
	sql  *sql.Tx

	pgWriters map[*Batch]*pgWriter // PostgreSQL: the writer of each batch written
	written   []*Batch             // emptied when the transaction commits
}

// InTx runs fn in one transaction and commits it when fn returns nil; an
// error from fn (or a failed commit) rolls it back and is returned. Batches
// written in it ([Tx.Write]) are emptied when it commits and keep their
// rows when it rolls back, so that they can be written again.
func (db *DB) InTx(ctx context.Context, fn func(tx *Tx) error) (err error) {
	tx := &Tx{db: db}
	if db.dialect == Postgres {
		if tx.conn, err = db.pool.Acquire(ctx); err != nil {
			return fmt.Errorf("sqlsink: begin: %w", err)
		}
		defer tx.conn.Release()
		if tx.pg, err = tx.conn.Begin(ctx); err != nil {
			return fmt.Errorf("sqlsink: begin: %w", err)
		}
		tx.pgWriters = map[*Batch]*pgWriter{}
		defer func() {
			for _, w := range tx.pgWriters {
				w.close()
			}
		}()
	} else if tx.sql, err = db.sql.BeginTx(ctx, nil); err != nil {
		return fmt.Errorf("sqlsink: begin: %w", err)
	}
	if err := fn(tx); err != nil {
		tx.rollback(ctx)
		return err
	}
	if err := tx.commit(ctx); err != nil {
		return fmt.Errorf("sqlsink: commit: %w", safeError(err))
	}
	for _, w := range tx.pgWriters {
		w.committed()
	}
	for _, b := range tx.written {
		b.b.reset()
	}
	return nil
}

func (tx *Tx) commit(ctx context.Context) error {
	if tx.pg != nil {
		return tx.pg.Commit(ctx)
	}
	return tx.sql.Commit()
}

func (tx *Tx) rollback(ctx context.Context) {
	if tx.pg != nil {
		_ = tx.pg.Rollback(context.WithoutCancel(ctx))
		return
	}
	_ = tx.sql.Rollback()
}

// errWrittenTwice is the error of a batch written twice in one transaction.
var errWrittenTwice = errors.New("sqlsink: batch already written in this transaction")

// Write writes the batch's rows in the transaction, as [Batch.Write] does
// in one of its own. Its Stats hold once the transaction commits. A batch
// is written at most once per transaction.
func (tx *Tx) Write(ctx context.Context, b *Batch) (Stats, error) {
	var st Stats
	for _, w := range tx.written {
		if w == b {
			return st, errWrittenTwice
		}
	}
	if b.b.len() == 0 {
		return st, nil
	}
	var res writeResult
	var err error
	if tx.pg != nil {
		var w *pgWriter
		if w, err = newPGWriter(ctx, tx.db, b.t, b.cols, tx.conn); err != nil {
			return st, fmt.Errorf("sqlsink: upsert %q: %w", b.t.Name, safeError(err))
		}
		tx.pgWriters[b] = w
		res, err = w.writeIn(ctx, tx.pg, b.b)
	} else {
		res, err = newSQLiteWriter(tx.db, b.t).writeIn(ctx, tx.sql, b.b)
	}
	if err != nil {
		return st, b.b.writeError(b.t.Name, 1, err)
	}
	tx.written = append(tx.written, b)
	st.addBatch(b.b, res)
	return st, nil
}

// Exec runs one statement in the transaction and returns the number of
// rows it changed. On PostgreSQL it is planned for its arguments each time
// (never a cached generic plan, which cannot see how many keys an array
// argument holds). An error from the database quotes no value.
func (tx *Tx) Exec(ctx context.Context, query string, args ...any) (int64, error) {
	if tx.pg != nil {
		tag, err := tx.pg.Exec(ctx, query, append([]any{pgx.QueryExecModeExec}, args...)...)
		if err != nil {
			return 0, safeError(err)
		}
		return tag.RowsAffected(), nil
	}
	res, err := tx.sql.ExecContext(ctx, query, args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}
