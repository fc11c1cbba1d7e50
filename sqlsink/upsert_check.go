package sqlsink

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// ErrNoTable is matched (errors.Is) by the error [DB.Upsert] returns when
// the table does not exist.
var ErrNoTable = errors.New("sqlsink: table does not exist")

// checkTable compares the declaration with the table in the database before
// an upsert writes anything: the table must exist, have every declared
// column with a compatible type (see [compatible]) and the declared key.
// Columns the table has beyond the declaration are left to their defaults.
// It returns the existing column for each declared one, in declaration
// order: their types are what the upsert stages and encodes.
func (db *DB) checkTable(ctx context.Context, t Table) ([]existingColumn, error) {
	cols, key, err := db.inspect(ctx, db.sql, t.Name)
	if err != nil {
		return nil, fmt.Errorf("sqlsink: upsert %q: inspect table: %w", t.Name, err)
	}
	if len(cols) == 0 {
		return nil, fmt.Errorf("%w: %q (call EnsureTable before Upsert)", ErrNoTable, t.Name)
	}
	same := db.sameName()
	out := make([]existingColumn, len(t.Columns))
	var errs []error
	for i, c := range t.Columns {
		j := slices.IndexFunc(cols, func(ec existingColumn) bool { return same(ec.name, c.Name) })
		switch {
		case j < 0:
			errs = append(errs, fmt.Errorf("sqlsink: table %q: column %q is declared but not in the table "+
				"(EnsureTable adds it)", t.Name, c.Name))
		case !compatible(db.dialect, c.Type, cols[j].typ):
			errs = append(errs, &SchemaChangeError{
				Table: t.Name, Column: c.Name, Change: changeType, Existing: cols[j].typ, Declared: c.Type.String(),
			})
		default:
			out[i] = cols[j]
		}
	}
	if !slices.EqualFunc(key, t.Key, same) {
		errs = append(errs, &SchemaChangeError{
			Table: t.Name, Change: changeKey, Existing: identList(key), Declared: identList(t.Key),
		})
	}
	return out, errors.Join(errs...)
}

// sameName compares column names as the dialect does: exactly on
// PostgreSQL (names are quoted), case-insensitively on SQLite.
func (db *DB) sameName() func(a, b string) bool {
	if db.dialect == SQLite {
		return strings.EqualFold
	}
	return func(a, b string) bool { return a == b }
}
