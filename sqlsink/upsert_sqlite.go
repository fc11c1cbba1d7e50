package sqlsink

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
)

// sqliteWriter upserts a batch row by row in one transaction with two
// prepared statements: INSERT … ON CONFLICT (key) DO NOTHING, and for a key
// that exists, an UPDATE guarded by "values differ". The changed-row counts
// of the two tell inserted, updated and skipped apart exactly.
type sqliteWriter struct {
	db     *DB
	t      Table
	insert string
	update string // "" when every column is a key column
	// positions of the non-key columns, then of the key columns, as the
	// UPDATE binds them
	setIdx, keyIdx []int
}

func newSQLiteWriter(db *DB, t Table) *sqliteWriter {
	w := &sqliteWriter{db: db, t: t}
	var cols, marks, set, where, differ []string
	for i, c := range t.Columns {
		q := quoteIdent(c.Name)
		cols = append(cols, q)
		marks = append(marks, "?")
		if t.isKey(c.Name) {
			continue
		}
		w.setIdx = append(w.setIdx, i)
		set = append(set, q+" = ?")
		differ = append(differ, q+" IS ?")
	}
	for _, k := range t.Key {
		for i, c := range t.Columns {
			if c.Name == k {
				w.keyIdx = append(w.keyIdx, i)
			}
		}
		where = append(where, quoteIdent(k)+" = ?")
	}
	w.insert = "INSERT INTO " + quoteIdent(t.Name) + " (" + strings.Join(cols, ", ") + ") VALUES (" +
		strings.Join(marks, ", ") + ") ON CONFLICT (" + identList(t.Key) + ") DO NOTHING"
	if len(set) > 0 {
		w.update = "UPDATE " + quoteIdent(t.Name) + " SET " + strings.Join(set, ", ") +
			" WHERE " + strings.Join(where, " AND ") + " AND NOT (" + strings.Join(differ, " AND ") + ")"
	}
	return w
}

func (w *sqliteWriter) write(ctx context.Context, b *batch) (res writeResult, err error) {
	tx, err := w.db.sql.BeginTx(ctx, nil)
	if err != nil {
		return res, err
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	if res, err = w.writeIn(ctx, tx, b); err != nil {
		return res, err
	}
	err = tx.Commit()
	return res, err
}

// writeIn writes the batch within tx.
func (w *sqliteWriter) writeIn(ctx context.Context, tx *sql.Tx, b *batch) (res writeResult, err error) {
	ins, err := tx.PrepareContext(ctx, w.insert)
	if err != nil {
		return res, err
	}
	defer func() { _ = ins.Close() }()
	var upd *sql.Stmt
	if w.update != "" {
		if upd, err = tx.PrepareContext(ctx, w.update); err != nil {
			return res, err
		}
		defer func() { _ = upd.Close() }()
	}
	args := make([]any, 0, 2*len(w.setIdx)+len(w.keyIdx))
	for r, row := range b.rows {
		rowErr := func(err error) error {
			if key := b.displayKey(row); key != "" {
				return fmt.Errorf("row %d (%s): %w", b.rowNums[r], key, err)
			}
			return fmt.Errorf("row %d: %w", b.rowNums[r], err)
		}
		n, err := execCount(ctx, ins, row...)
		if err != nil {
			return res, rowErr(err)
		}
		if n == 1 {
			res.inserted++
			continue
		}
		if upd == nil {
			continue // key exists, nothing else to compare: skipped
		}
		args = args[:0]
		for _, i := range w.setIdx {
			args = append(args, row[i])
		}
		for _, i := range w.keyIdx {
			args = append(args, row[i])
		}
		for _, i := range w.setIdx {
			args = append(args, row[i])
		}
		if n, err = execCount(ctx, upd, args...); err != nil {
			return res, rowErr(err)
		}
		res.updated += n
	}
	return res, nil
}

func execCount(ctx context.Context, stmt *sql.Stmt, args ...any) (int64, error) {
	r, err := stmt.ExecContext(ctx, args...)
	if err != nil {
		return 0, err
	}
	return r.RowsAffected()
}

func (w *sqliteWriter) close() {}
