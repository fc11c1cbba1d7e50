package sqlsink

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
)

// EnsureOption changes what [DB.EnsureTable] may do to an existing table.
type EnsureOption func(*ensureConfig)

type ensureConfig struct {
	dropColumns bool
	recreate    bool
}

// AllowDropColumns lets EnsureTable drop, in place, columns the table has
// but the declaration no longer lists; the rows and the other columns are
// kept. Without it such a column is refused with a [SchemaChangeError].
func AllowDropColumns() EnsureOption {
	return func(c *ensureConfig) { c.dropColumns = true }
}

// AllowRecreate lets EnsureTable resolve any destructive difference (a
// column's type or the key changed, or a column dropped when
// AllowDropColumns is not also given) by dropping the table and creating
// it anew from the declaration. EVERY ROW OF THE TABLE IS LOST: use it for
// tables that are reloaded in full from their source.
func AllowRecreate() EnsureOption {
	return func(c *ensureConfig) { c.recreate = true }
}

// Migration reports what [DB.EnsureTable] changed.
type Migration struct {
	// Created is true when the table did not exist (or was recreated).
	Created bool
	// Recreated is true when AllowRecreate dropped and recreated it.
	Recreated bool
	// Added lists the columns added to an existing table.
	Added []string
	// Dropped lists the columns dropped under AllowDropColumns.
	Dropped []string
}

// existingColumn is a column as the database reports it.
type existingColumn struct {
	name string
	typ  string // format_type with modifiers (PostgreSQL) or declared type (SQLite)
	oid  uint32 // the type's OID (PostgreSQL only)
}

// EnsureTable makes the database table match the declaration t, in one
// transaction: it creates the table when missing, adds declared columns
// the table lacks (existing rows get the column's Default, or NULL), and
// creates missing indexes (by name; existing indexes are never altered).
//
// An existing column is accepted when its type is compatible with the
// declared one (an Integer over an integer or smallint column, a Text over
// varchar; see [Type]): it is left as it is.
//
// A difference that would lose data is refused with a *SchemaChangeError
// (errors.Is(err, ErrDestructiveChange)) naming the table and the column,
// unless an option allows it: a column the table has but t does not
// declare ([AllowDropColumns]), a column whose type differs, or a
// different key ([AllowRecreate]). A new column declared NotNull without a
// Default is refused too, since existing rows would have no value.
// NotNull and Default of existing columns are not changed.
func (db *DB) EnsureTable(ctx context.Context, t Table, opts ...EnsureOption) (Migration, error) {
	var cfg ensureConfig
	for _, o := range opts {
		o(&cfg)
	}
	if err := t.Validate(); err != nil {
		return Migration{}, err
	}
	tx, err := db.sql.BeginTx(ctx, nil)
	if err != nil {
		return Migration{}, fmt.Errorf("sqlsink: ensure table %q: %w", t.Name, err)
	}
	defer func() { _ = tx.Rollback() }()

	if db.dialect == Postgres {
		// Serialize concurrent EnsureTable calls for the same table.
		if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(1668441451, hashtext($1))`, t.Name); err != nil {
			return Migration{}, fmt.Errorf("sqlsink: ensure table %q: lock: %w", t.Name, err)
		}
	}
	m, err := db.ensure(ctx, tx, t, cfg)
	if err != nil {
		return Migration{}, err
	}
	if err := tx.Commit(); err != nil {
		return Migration{}, fmt.Errorf("sqlsink: ensure table %q: commit: %w", t.Name, err)
	}
	return m, nil
}

func (db *DB) ensure(ctx context.Context, tx *sql.Tx, t Table, cfg ensureConfig) (Migration, error) {
	wrap := func(what string, err error) error {
		return fmt.Errorf("sqlsink: ensure table %q: %s: %w", t.Name, what, err)
	}
	cols, key, err := db.inspect(ctx, tx, t.Name)
	if err != nil {
		return Migration{}, wrap("inspect", err)
	}
	var m Migration
	if len(cols) == 0 {
		if _, err := tx.ExecContext(ctx, createTableSQL(db.dialect, t)); err != nil {
			return Migration{}, wrap("create", err)
		}
		m.Created = true
	} else {
		changes, added, dropped := db.diff(t, cols, key)
		var refused []error
		for _, c := range changes {
			if c.Change == changeDropped && cfg.dropColumns {
				continue
			}
			refused = append(refused, c)
		}
		switch {
		case len(refused) > 0 && !cfg.recreate:
			return Migration{}, errors.Join(refused...)
		case len(refused) > 0:
			for _, q := range []string{"DROP TABLE " + quoteIdent(t.Name), createTableSQL(db.dialect, t)} {
				if _, err := tx.ExecContext(ctx, q); err != nil {
					return Migration{}, wrap("recreate", err)
				}
			}
			m.Created, m.Recreated = true, true
		default:
			for _, c := range added {
				if c.NotNull && c.Default == nil {
					return Migration{}, fmt.Errorf("sqlsink: ensure table %q: new column %q is NotNull without a Default: "+
						"the rows already in the table would have no value; declare a Default", t.Name, c.Name)
				}
				q := "ALTER TABLE " + quoteIdent(t.Name) + " ADD COLUMN " + columnDef(db.dialect, t, c)
				if _, err := tx.ExecContext(ctx, q); err != nil {
					return Migration{}, wrap("add column "+quoteIdent(c.Name), err)
				}
				m.Added = append(m.Added, c.Name)
			}
			for _, name := range dropped {
				q := "ALTER TABLE " + quoteIdent(t.Name) + " DROP COLUMN " + quoteIdent(name)
				if _, err := tx.ExecContext(ctx, q); err != nil {
					return Migration{}, wrap("drop column "+quoteIdent(name), err)
				}
				m.Dropped = append(m.Dropped, name)
			}
		}
	}
	for _, ix := range t.Indexes {
		if _, err := tx.ExecContext(ctx, createIndexSQL(t, ix)); err != nil {
			return Migration{}, wrap("create index "+quoteIdent(indexName(t, ix)), err)
		}
	}
	return m, nil
}

// diff compares the declaration with the existing table: the destructive
// changes, the declared columns to add, and the existing columns t does
// not declare.
func (db *DB) diff(t Table, cols []existingColumn, key []string) (changes []*SchemaChangeError, added []Column, dropped []string) {
	same := db.sameName()
	find := func(name string) (existingColumn, bool) {
		for _, c := range cols {
			if same(c.name, name) {
				return c, true
			}
		}
		return existingColumn{}, false
	}
	for _, c := range t.Columns {
		ec, ok := find(c.Name)
		if !ok {
			added = append(added, c)
			continue
		}
		if !compatible(db.dialect, c.Type, ec.typ) {
			changes = append(changes, &SchemaChangeError{
				Table: t.Name, Column: c.Name, Change: changeType, Existing: ec.typ, Declared: c.Type.String(),
			})
		}
	}
	for _, ec := range cols {
		if _, ok := t.columnFold(ec.name, same); !ok {
			dropped = append(dropped, ec.name)
			changes = append(changes, &SchemaChangeError{Table: t.Name, Column: ec.name, Change: changeDropped})
		}
	}
	if !slices.EqualFunc(key, t.Key, same) {
		changes = append(changes, &SchemaChangeError{
			Table: t.Name, Change: changeKey, Existing: identList(key), Declared: identList(t.Key),
		})
	}
	return changes, added, dropped
}

// columnFold finds a declared column by name with the given equality.
func (t Table) columnFold(name string, same func(a, b string) bool) (Column, bool) {
	for _, c := range t.Columns {
		if same(c.Name, name) {
			return c, true
		}
	}
	return Column{}, false
}

// inspect returns the table's columns in order and its primary key
// columns in key order; no columns means no table.
func (db *DB) inspect(ctx context.Context, tx querier, table string) ([]existingColumn, []string, error) {
	// One query per dialect: each column, its type and its 1-based
	// position in the primary key (0: not a key column).
	query := `SELECT name, type, 0, pk FROM pragma_table_info(?) ORDER BY cid`
	if db.dialect == Postgres {
		query = `SELECT a.attname, format_type(a.atttypid, a.atttypmod), a.atttypid::int8,
			  coalesce(array_position(i.indkey::int2[], a.attnum) + 1 - array_lower(i.indkey::int2[], 1), 0)
			FROM pg_attribute a
			JOIN pg_class c ON c.oid = a.attrelid
			JOIN pg_namespace n ON n.oid = c.relnamespace
			LEFT JOIN pg_index i ON i.indrelid = c.oid AND i.indisprimary
			WHERE n.nspname = current_schema() AND c.relname = $1 AND c.relkind IN ('r', 'p')
			  AND a.attnum > 0 AND NOT a.attisdropped
			ORDER BY a.attnum`
	}
	rows, err := tx.QueryContext(ctx, query, table)
	if err != nil {
		return nil, nil, err
	}
	defer func() { _ = rows.Close() }()
	type pkCol struct {
		pos  int
		name string
	}
	var cols []existingColumn
	var pks []pkCol
	for rows.Next() {
		var c existingColumn
		var oid int64
		var pk int
		if err := rows.Scan(&c.name, &c.typ, &oid, &pk); err != nil {
			return nil, nil, err
		}
		c.oid = uint32(oid)
		cols = append(cols, c)
		if pk > 0 {
			pks = append(pks, pkCol{pk, c.name})
		}
	}
	slices.SortFunc(pks, func(a, b pkCol) int { return a.pos - b.pos })
	var key []string
	for _, p := range pks {
		key = append(key, p.name)
	}
	return cols, key, rows.Err()
}
