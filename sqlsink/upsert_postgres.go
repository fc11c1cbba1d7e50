package sqlsink

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// stageTable is the name of the staging table. Temporary tables are
// private to their connection and this one is dropped after each upsert,
// so one name serves all; a constant name also lets pgx reuse the merge
// statement it prepared (PostgreSQL re-plans it for the new table).
const stageTable = "casebridge_stage"

// pgWriter upserts through one pooled connection: a temporary staging
// table, created once per upsert with ON COMMIT DELETE ROWS (so it is
// empty at the start of every batch), receives each batch by COPY; one
// INSERT … SELECT … ON CONFLICT merges it into the table.
//
// A first load needs no merge: when the table is empty at the start of the
// upsert (and has no Numeric column, which travels as text), each batch is
// COPYed straight into it under a savepoint. The first batch that meets an
// existing key (a unique violation: a key repeated across batches, or a
// row another writer committed meanwhile) is rolled back to the savepoint
// and merged instead, and so is every batch after it.
type pgWriter struct {
	conn   *pgxpool.Conn
	table  string
	stage  string
	cols   []string
	merge  string
	direct bool // COPY straight into the table while no key has met an existing row
}

func newPGWriter(ctx context.Context, db *DB, t Table) (*pgWriter, error) {
	conn, err := db.pool.Acquire(ctx)
	if err != nil {
		return nil, err
	}
	w := &pgWriter{
		conn:   conn,
		table:  t.Name,
		stage:  stageTable,
		direct: true,
	}
	defs := make([]string, len(t.Columns))
	for i, c := range t.Columns {
		w.cols = append(w.cols, c.Name)
		typ := sqlType(Postgres, c.Type)
		if c.Type == Numeric {
			w.direct = false
			// Numerics travel as validated decimal text and are cast in
			// the merge: pgx has no binary encoding from a string.
			typ = "text"
		}
		defs[i] = quoteIdent(c.Name) + " " + typ
	}
	create := "CREATE TEMPORARY TABLE " + quoteIdent(w.stage) + " (" + strings.Join(defs, ", ") + ") ON COMMIT DELETE ROWS"
	if _, err := conn.Exec(ctx, create); err != nil {
		conn.Release()
		return nil, err
	}
	w.merge = pgMergeSQL(t, w.stage)
	if w.direct {
		var hasRows bool
		err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM "+quoteIdent(t.Name)+")").Scan(&hasRows)
		if err != nil {
			w.close()
			return nil, err
		}
		w.direct = !hasRows
	}
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
		if c.Type == Numeric {
			sel = append(sel, "s."+q+"::numeric")
		} else {
			sel = append(sel, "s."+q)
		}
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
	if w.direct {
		done, err := w.copyDirect(ctx, tx, b)
		if err != nil {
			return res, err
		}
		if done {
			res.inserted = int64(b.len())
			return res, tx.Commit(ctx)
		}
	}
	if _, err = tx.CopyFrom(ctx, pgx.Identifier{w.stage}, w.cols, pgx.CopyFromRows(b.rows)); err != nil {
		return res, err
	}
	if err = tx.QueryRow(ctx, w.merge).Scan(&res.inserted, &res.updated); err != nil {
		return res, err
	}
	err = tx.Commit(ctx)
	return res, err
}

// copyDirect COPYs the batch straight into the table under a savepoint.
// It reports false, with the savepoint rolled back and direct mode off,
// when a key already exists; the caller then merges the batch.
func (w *pgWriter) copyDirect(ctx context.Context, tx pgx.Tx, b *batch) (bool, error) {
	if _, err := tx.Exec(ctx, "SAVEPOINT casebridge_direct"); err != nil {
		return false, err
	}
	_, err := tx.CopyFrom(ctx, pgx.Identifier{w.table}, w.cols, pgx.CopyFromRows(b.rows))
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

// close drops the staging table and returns the connection; a connection
// that cannot drop it is closed instead, taking the table with it.
func (w *pgWriter) close() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := w.conn.Exec(ctx, "DROP TABLE IF EXISTS "+quoteIdent(w.stage)); err != nil {
		_ = w.conn.Conn().Close(ctx)
	}
	w.conn.Release()
}
