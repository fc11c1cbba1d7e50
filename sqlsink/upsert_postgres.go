package sqlsink

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// pgWriter upserts through one pooled connection (its own, one
// transaction per batch, or a Tx's, within that transaction): a temporary
// staging table, created with ON COMMIT DELETE ROWS (so it is empty at
// the start of every batch) when missing, receives each batch by binary
// COPY; one INSERT … SELECT … ON CONFLICT merges it into the table.
//
// The staging table has exactly the column types of the real table (as
// checkTable read them), so the merge needs no cast, and its name is
// derived from those columns: two tables of different shapes never share
// a staging table, nor a statement text (and so never a statement that
// pgx or the server prepared for the other). The COPY data is encoded
// for those same types by the batch (pgEncoder); no statement description
// is asked for or cached.
//
// A first load needs no merge: when the table is empty at the start of the
// upsert, each batch is COPYed straight into it under a savepoint. The
// first batch that meets an existing key (a unique violation: a key
// repeated across batches, or a row another writer committed meanwhile) is
// rolled back to the savepoint and merged instead, and so is every batch
// after it.
type pgWriter struct {
	conn     *pgxpool.Conn // the writer's own connection (nil in a Tx), released by close
	stage    string
	copyStmt string // COPY into the table
	stageCp  string // COPY into the staging table
	merge    string
	// createStage creates the staging table; staged says this writer has
	// (in a committed transaction), staging that it has in the open one.
	createStage string
	staged      bool
	staging     bool
	direct      bool // COPY straight into the table while no key has met an existing row
	db          *DB
	table       string
	wrote       bool // a batch was committed
}

// stageName names the staging table after the shape it holds: the column
// names and their database types.
func stageName(t Table, cols []existingColumn) string {
	h := sha256.New()
	for i, c := range t.Columns {
		h.Write([]byte(c.Name))
		h.Write([]byte{0})
		h.Write([]byte(cols[i].typ))
		h.Write([]byte{0})
	}
	return "casebridge_stage_" + hex.EncodeToString(h.Sum(nil)[:12])
}

// pgSession is a connection or a transaction of pgx: where a writer's
// statements run.
type pgSession interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// newPGWriter returns a writer for t that runs its statements in sess, or,
// when sess is nil, on a connection of its own (one transaction per
// write), which close releases.
func newPGWriter(ctx context.Context, db *DB, t Table, cols []existingColumn, sess pgSession) (*pgWriter, error) {
	w := &pgWriter{stage: stageName(t, cols), direct: true, db: db, table: t.Name}
	if sess == nil {
		conn, err := db.pool.Acquire(ctx)
		if err != nil {
			return nil, err
		}
		w.conn, sess = conn, conn
	}
	names := make([]string, len(t.Columns))
	defs := make([]string, len(t.Columns))
	for i, c := range t.Columns {
		names[i] = c.Name
		defs[i] = quoteIdent(c.Name) + " " + cols[i].typ // format_type output is valid SQL
	}
	// The staging table stays with the connection (empty after every
	// commit) for the next upsert of the same shape, which its name
	// encodes: a stream upserted chunk by chunk neither creates nor drops
	// a table per chunk. It goes with the session. It is created when the
	// first batch is merged (stage): a load COPYed straight in needs none.
	w.createStage = "CREATE TEMPORARY TABLE IF NOT EXISTS " + quoteIdent(w.stage) + " (" + strings.Join(defs, ", ") + ") ON COMMIT DELETE ROWS"
	w.copyStmt = "COPY " + quoteIdent(t.Name) + " (" + identList(names) + ") FROM STDIN BINARY"
	w.stageCp = "COPY " + quoteIdent(w.stage) + " (" + identList(names) + ") FROM STDIN BINARY"
	w.merge = pgMergeSQL(t, w.stage)
	// Straight in when the last upsert into the table only met new keys
	// (a load committed chunk by chunk), or when the table is empty:
	// should a key exist after all, the batch is merged instead
	// (copyDirect). A table this DB has committed rows to is not asked
	// whether it is empty: a merge is right whatever it holds.
	if copied, known := db.copied.Load(t.Name); known {
		w.direct = copied == true
		return w, nil
	}
	var hasRows bool
	if err := sess.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM "+quoteIdent(t.Name)+")").Scan(&hasRows); err != nil {
		w.close()
		return nil, err
	}
	w.direct = !hasRows
	return w, nil
}

// pgMergeSQL renders the statement that merges the staging table into t
// and counts inserted and updated rows. A row updated by ON CONFLICT has
// a non-zero xmax (the updating transaction); an inserted row has 0.
// Rows equal to the stored ones fail the DO UPDATE … WHERE and are not
// returned: they are the skipped ones.
func pgMergeSQL(t Table, stage string) string {
	var cols, sel, set, old, excl []string
	for _, c := range t.Columns {
		q := quoteIdent(c.Name)
		cols = append(cols, q)
		sel = append(sel, "s."+q)
		if !t.isKey(c.Name) {
			set = append(set, q+" = EXCLUDED."+q)
			old = append(old, "t."+q)
			excl = append(excl, "EXCLUDED."+q)
		}
	}
	action := "DO NOTHING"
	if len(set) > 0 {
		action = "DO UPDATE SET " + strings.Join(set, ", ") +
			" WHERE (" + strings.Join(old, ", ") + ") IS DISTINCT FROM (" + strings.Join(excl, ", ") + ")"
		if len(set) == 1 {
			// A one-column "row" is just a parenthesized value.
			action = "DO UPDATE SET " + set[0] + " WHERE " + old[0] + " IS DISTINCT FROM " + excl[0]
		}
	}
	return "WITH up AS (INSERT INTO " + quoteIdent(t.Name) + " AS t (" + strings.Join(cols, ", ") + ") " +
		"SELECT " + strings.Join(sel, ", ") + " FROM " + quoteIdent(stage) + " AS s " +
		"ON CONFLICT (" + identList(t.Key) + ") " + action + " RETURNING (t.xmax = 0) AS inserted) " +
		"SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted) FROM up"
}

func (w *pgWriter) write(ctx context.Context, b *batch) (res writeResult, err error) {
	tx, err := w.conn.Begin(ctx)
	if err != nil {
		return res, err
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback(context.WithoutCancel(ctx))
		}
	}()
	if res, err = w.writeIn(ctx, tx, tx.Conn().PgConn(), b); err != nil {
		return res, err
	}
	if err = tx.Commit(ctx); err == nil {
		w.committed()
	}
	return res, err
}

// writeIn writes the batch within the transaction open in tx (pg is its
// connection, for COPY): straight in (direct), or staged and merged. Until
// the transaction commits (committed), nothing it did is assumed done.
func (w *pgWriter) writeIn(ctx context.Context, tx pgSession, pg *pgconn.PgConn, b *batch) (res writeResult, err error) {
	data := b.copyData()
	if w.direct {
		done, err := w.copyDirect(ctx, tx, pg, data)
		if err != nil {
			return res, err
		}
		if done {
			res.inserted = int64(b.len())
			return res, nil
		}
	}
	if !w.staged {
		if _, err = tx.Exec(ctx, w.createStage); err != nil {
			return res, err
		}
		w.staging = true
	}
	if err = copyIn(ctx, pg, w.stageCp, data); err != nil {
		return res, err
	}
	err = tx.QueryRow(ctx, w.merge).Scan(&res.inserted, &res.updated)
	return res, err
}

// committed notes that the transaction of the writes so far committed: a
// batch was written, and the staging table, if made, exists.
func (w *pgWriter) committed() {
	w.wrote = true
	w.staged = w.staged || w.staging
}

// copyDirect COPYs the batch straight into the table under a savepoint.
// It reports false, with the savepoint rolled back and direct mode off,
// when a key already exists; the caller then merges the batch.
func (w *pgWriter) copyDirect(ctx context.Context, tx pgSession, pg *pgconn.PgConn, data []byte) (bool, error) {
	if _, err := tx.Exec(ctx, "SAVEPOINT casebridge_direct"); err != nil {
		return false, err
	}
	err := copyIn(ctx, pg, w.copyStmt, data)
	if err == nil {
		return true, nil
	}
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) || pgErr.Code != "23505" { // unique_violation
		return false, err
	}
	w.direct = false
	_, err = tx.Exec(ctx, "ROLLBACK TO SAVEPOINT casebridge_direct")
	return false, err
}

// copyIn runs one COPY … FROM STDIN BINARY with data, already encoded.
func copyIn(ctx context.Context, pg *pgconn.PgConn, stmt string, data []byte) error {
	_, err := pg.CopyFrom(ctx, bytes.NewReader(data), stmt)
	return err
}

// close returns the connection, its staging table with it (see
// newPGWriter), and notes whether the next upsert into the table should
// try a straight COPY.
func (w *pgWriter) close() {
	if w.wrote {
		w.db.copied.Store(w.table, w.direct)
	}
	if w.conn != nil {
		w.conn.Release()
	}
}
