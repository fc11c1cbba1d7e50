package sqlsink

import (
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
)

// ErrDestructiveChange is matched (errors.Is) by the *SchemaChangeError that
// [DB.EnsureTable] returns when the declaration would drop a column, change
// a column's type or change the key, and no option allows it.
var ErrDestructiveChange = errors.New("sqlsink: destructive schema change refused")

// ErrInvalidValue is matched (errors.Is) by the *RowError that [DB.Upsert]
// returns for a record it cannot write.
var ErrInvalidValue = errors.New("sqlsink: invalid value")

// DeclarationError lists what is wrong with a [Table] declaration, each
// problem naming its field ("Columns[2] (age).Type", "Key[0] (id)").
type DeclarationError struct {
	// Table is the declared table name.
	Table string
	// Problems are "field: reason" strings.
	Problems []string
}

func (e *DeclarationError) add(field, reason string) {
	e.Problems = append(e.Problems, field+": "+reason)
}

func (e *DeclarationError) err() error {
	if len(e.Problems) == 0 {
		return nil
	}
	return e
}

// Error lists every problem.
func (e *DeclarationError) Error() string {
	return fmt.Sprintf("sqlsink: table %q: invalid declaration: %s", e.Table, strings.Join(e.Problems, "; "))
}

// SchemaChangeError says that an existing table differs from its
// declaration in a way that would lose data, and what to do about it.
type SchemaChangeError struct {
	// Table is the table name.
	Table string
	// Column is the column concerned; empty for a key change.
	Column string
	// Change is "column dropped", "type changed" or "key changed".
	Change string
	// Existing and Declared describe the two sides (types or key columns).
	Existing, Declared string
}

// Error names the table, the column and the option that would allow the
// change.
func (e *SchemaChangeError) Error() string {
	switch e.Change {
	case changeDropped:
		return fmt.Sprintf("sqlsink: table %q: column %q exists in the database but is not declared; "+
			"dropping it would lose its data (EnsureTable with AllowDropColumns drops it)", e.Table, e.Column)
	case changeType:
		return fmt.Sprintf("sqlsink: table %q: column %q has type %s in the database, which a column declared %s "+
			"cannot use; declare a compatible type, or change the table, which would rewrite or lose data "+
			"(EnsureTable with AllowRecreate drops and recreates the table, empty)",
			e.Table, e.Column, e.Existing, e.Declared)
	default:
		return fmt.Sprintf("sqlsink: table %q: key is (%s) in the database but is declared (%s); "+
			"changing it would merge or split rows (EnsureTable with AllowRecreate drops and recreates the table, empty)",
			e.Table, e.Existing, e.Declared)
	}
}

// Is makes errors.Is(err, ErrDestructiveChange) true.
func (e *SchemaChangeError) Is(target error) bool { return target == ErrDestructiveChange }

// The SchemaChangeError.Change values.
const (
	changeDropped = "column dropped"
	changeType    = "type changed"
	changeKey     = "key changed"
)

// RowError says which record could not be written, and why, without the
// value: a value may be personal data.
type RowError struct {
	// Table is the table written to.
	Table string
	// Row is the record's 1-based position in the upserted sequence.
	Row int64
	// Key is the record's key as "col=value" pairs when every key column
	// is declared an Identifier and the key could be read; else empty.
	Key string
	// Column is the column (or record field) at fault.
	Column string
	// Type is the column's type: the declared Type ("Integer"), or the
	// database's type ("smallint") when that is what refused the value;
	// empty for a field the table does not declare.
	Type string
	// Reason says what is wrong, never quoting the value.
	Reason string
}

// Error names the table, row, key (identifiers only), column and type.
func (e *RowError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "sqlsink: table %q: row %d", e.Table, e.Row)
	if e.Key != "" {
		b.WriteString(" (" + e.Key + ")")
	}
	fmt.Fprintf(&b, ": column %q", e.Column)
	if e.Type != "" {
		b.WriteString(" (" + e.Type + ")")
	}
	b.WriteString(": " + e.Reason)
	return b.String()
}

// Is makes errors.Is(err, ErrInvalidValue) true.
func (e *RowError) Is(target error) bool { return target == ErrInvalidValue }

// dbError wraps a PostgreSQL error whose message may quote a value (class
// 22, "data exception": `invalid input syntax for type integer: "…"`; and
// 57014, which is also how the server reports a COPY the client aborted,
// quoting the client's reason): its text keeps the SQLSTATE and the column,
// not the message. errors.As still reaches the *pgconn.PgError.
type dbError struct{ pg *pgconn.PgError }

func (e *dbError) Error() string {
	what := "data exception"
	if e.pg.Code == "57014" {
		what = "statement cancelled"
	}
	s := what + " (SQLSTATE " + e.pg.Code + ")"
	if e.pg.ColumnName != "" {
		s += " in column " + e.pg.ColumnName
	}
	return s
}

func (e *dbError) Unwrap() error { return e.pg }

// safeError returns err, or a wrapper hiding a message that may quote a
// value. pgx's own PgError text already omits the DETAIL (which quotes rows).
func safeError(err error) error {
	var pg *pgconn.PgError
	if errors.As(err, &pg) && (strings.HasPrefix(pg.Code, "22") || pg.Code == "57014") {
		return &dbError{pg: pg}
	}
	return err
}
