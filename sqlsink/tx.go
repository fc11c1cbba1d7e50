package sqlsink

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
)

// Tx is one database transaction of [DB.InTx], in which batches are
// written and statements run together (and, through [DBState.UpdateIn],
// a flow's state changed): either all of it commits, or none of it. It is
// used by one goroutine, inside the function given to InTx.
type Tx struct {
	db   *DB
	conn *sql.Conn // the transaction's connection: on PostgreSQL, COPY goes through it
	sql  *sql.Tx

	pgWriters   []*pgWriter // PostgreSQL: the writers of the batches written
	written     []*Batch    // emptied when the transaction commits
	afterCommit []func()    // run once it has
}

// InTx runs fn in one transaction and commits it when fn returns nil; an
// error from fn (or a failed commit) rolls it back and is returned. Batches
// written in it ([Tx.Write]) are emptied when it commits and keep their
// rows when it rolls back, so that they can be written again.
func (db *DB) InTx(ctx context.Context, fn func(tx *Tx) error) (err error) {
	tx := &Tx{db: db}
	if tx.conn, err = db.sql.Conn(ctx); err != nil {
		return fmt.Errorf("sqlsink: begin: %w", err)
	}
	defer func() { _ = tx.conn.Close() }()
	if tx.sql, err = tx.conn.BeginTx(ctx, nil); err != nil {
		return fmt.Errorf("sqlsink: begin: %w", err)
	}
	defer func() {
		for _, w := range tx.pgWriters {
			w.close()
		}
	}()
	if err := fn(tx); err != nil {
		_ = tx.sql.Rollback()
		return err
	}
	if err := tx.sql.Commit(); err != nil {
		return fmt.Errorf("sqlsink: commit: %w", safeError(err))
	}
	for _, w := range tx.pgWriters {
		w.committed()
	}
	for _, b := range tx.written {
		b.b.reset()
	}
	for _, f := range tx.afterCommit {
		f()
	}
	return nil
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
	if tx.db.dialect == Postgres {
		res, err = tx.writePG(ctx, b)
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

// writePG writes b with pgx on the transaction's connection: its COPY
// and statements run in the transaction database/sql opened there.
func (tx *Tx) writePG(ctx context.Context, b *Batch) (res writeResult, err error) {
	err = tx.conn.Raw(func(driverConn any) error {
		c, ok := driverConn.(*stdlib.Conn)
		if !ok {
			return errors.New("sqlsink: not a pgx connection")
		}
		pc := c.Conn()
		w, err := newPGWriter(ctx, tx.db, b.t, b.cols, pc)
		if err != nil {
			return err
		}
		tx.pgWriters = append(tx.pgWriters, w)
		res, err = w.writeIn(ctx, pc, pc.PgConn(), b.b)
		return err
	})
	return res, err
}

// Exec runs one statement in the transaction and returns the number of
// rows it changed. On PostgreSQL it is planned for its arguments each time
// (never a cached generic plan, which cannot see how many keys an array
// argument holds). An error from the database quotes no value.
func (tx *Tx) Exec(ctx context.Context, query string, args ...any) (int64, error) {
	if tx.db.dialect == Postgres {
		args = append([]any{pgx.QueryExecModeExec}, args...)
	}
	res, err := tx.sql.ExecContext(ctx, query, args...)
	if err != nil {
		return 0, safeError(err)
	}
	return res.RowsAffected()
}
