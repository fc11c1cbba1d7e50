package sqlsink

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Type is a portable column type, mapped to each dialect's own type.
//
// The first PostgreSQL type is what [DB.EnsureTable] creates; the others
// are the existing column types a declaration of that Type accepts (see
// "Existing tables" in the package documentation).
//
//	Type       PostgreSQL                        SQLite (declared type)
//	Text       text, varchar(n)                  TEXT, VARCHAR(n), CHAR(n), CLOB
//	Integer    bigint, integer, smallint         INTEGER, INT, BIGINT, SMALLINT, …
//	Float      double precision                  REAL, DOUBLE, FLOAT
//	Numeric    numeric, numeric(p,s)             NUMERIC, DECIMAL
//	Bool       boolean                           BOOLEAN, BOOL (stored 0/1)
//	Date       date                              DATE (stored "2006-01-02")
//	Timestamp  timestamp with time zone          TIMESTAMP (stored UTC, microseconds)
//	JSON       jsonb                             JSON TEXT (stored as JSON text)
//	UUID       uuid                              UUID TEXT (stored lower-case, with dashes)
//	TextArray  text[], varchar(n)[]              JSON TEXT ARRAY (stored as a JSON array)
type Type int

// The portable column types.
const (
	// Text is a UTF-8 string.
	Text Type = iota + 1
	// Integer is a 64-bit signed integer.
	Integer
	// Float is a 64-bit floating-point number.
	Float
	// Numeric is an exact decimal number.
	Numeric
	// Bool is true or false.
	Bool
	// Date is a calendar date without time of day.
	Date
	// Timestamp is an instant, with microsecond precision.
	Timestamp
	// JSON is a JSON document.
	JSON
	// UUID is a 128-bit identifier, written 8-4-4-4-12 in hexadecimal.
	UUID
	// TextArray is a list of UTF-8 strings (no NULL elements).
	TextArray
)

var typeNames = map[Type]string{
	Text: "Text", Integer: "Integer", Float: "Float", Numeric: "Numeric",
	Bool: "Bool", Date: "Date", Timestamp: "Timestamp", JSON: "JSON",
	UUID: "UUID", TextArray: "TextArray",
}

// String returns the type's Go name ("Text", "Integer", …).
func (t Type) String() string {
	if s, ok := typeNames[t]; ok {
		return s
	}
	return "Type(" + strconv.Itoa(int(t)) + ")"
}

// Column declares one column of a [Table].
type Column struct {
	// Name is the column's name, used as given (quoted in SQL): any
	// characters but NUL, at most 63 bytes.
	Name string
	// Type is the column's portable type.
	Type Type
	// NotNull refuses NULL: an upserted record must carry a value for the
	// column, or the column must have a Default. Key columns are always
	// NOT NULL.
	NotNull bool
	// Default, when not nil, is the value a record without this field gets
	// in an upsert, and the SQL DEFAULT of the column (so that rows present
	// when the column is added get it too). It must convert to Type.
	// TextArray columns take no Default.
	Default any
	// Identifier says that the column holds identifiers (record ids,
	// codes), never personal data, so that an error about a row may quote
	// the row's value of it. Errors show a row's key only when every key
	// column is an Identifier; otherwise they name the row by its position.
	Identifier bool
}

// Index declares a secondary index of a [Table].
type Index struct {
	// Name is the index name; empty means "<table>_<col>_..._idx"
	// (shortened with a hash when longer than 63 bytes).
	Name string
	// Columns are the indexed columns, in order.
	Columns []string
	// Unique makes the index a unique constraint.
	Unique bool
}

// Table declares a table: its columns in order, its key and its indexes.
// The declaration, never a record, decides the column order of every
// statement.
type Table struct {
	// Name is the table's name, used as given (quoted in SQL). It may be
	// qualified by a schema on PostgreSQL only through the connection's
	// search_path, not by a dot: a dot is part of the name.
	Name string
	// Columns are the table's columns, in order.
	Columns []Column
	// Key names the columns of the primary key, by which Upsert matches
	// rows. At least one.
	Key []string
	// Indexes are created when missing.
	Indexes []Index
}

// maxIdentLen is PostgreSQL's identifier limit (NAMEDATALEN-1); longer names
// are silently truncated by the server, so they are refused for both
// dialects.
const maxIdentLen = 63

// Validate checks the declaration: names present, unique and at most 63
// bytes, types known, key and index columns declared, defaults convertible.
// The error is a *DeclarationError naming each offending field.
func (t Table) Validate() error {
	e := &DeclarationError{Table: t.Name}
	checkName(e, "Name", t.Name)
	if len(t.Columns) == 0 {
		e.add("Columns", "at least one column is required")
	}
	seen := map[string]bool{}     // lower-cased, for duplicates
	declared := map[string]bool{} // exact, for references
	for i, c := range t.Columns {
		field := fmt.Sprintf("Columns[%d]", i)
		if c.Name != "" {
			field = fmt.Sprintf("Columns[%d] (%s)", i, c.Name)
		}
		checkName(e, field+".Name", c.Name)
		lower := strings.ToLower(c.Name)
		if c.Name != "" && seen[lower] {
			e.add(field+".Name", "duplicate column name (names are compared case-insensitively)")
		}
		seen[lower] = true
		declared[c.Name] = true
		if _, ok := typeNames[c.Type]; !ok {
			e.add(field+".Type", "unknown type")
			continue
		}
		if c.Default != nil && c.Type == TextArray {
			e.add(field+".Default", "a TextArray column takes no Default")
		} else if c.Default != nil {
			if _, err := convertValue(c.Type, c.Default, Postgres); err != nil {
				e.add(field+".Default", "does not convert to "+c.Type.String()+": "+err.Error())
			}
		}
	}
	if len(t.Key) == 0 {
		e.add("Key", "at least one key column is required")
	}
	checkColumnList(e, "Key", t.Key, declared)
	for i, k := range t.Key {
		if c, ok := t.column(k); ok && (c.Type == JSON || c.Type == TextArray) {
			e.add(fmt.Sprintf("Key[%d] (%s)", i, k), "a "+c.Type.String()+" column cannot be a key column")
		}
	}
	for i, ix := range t.Indexes {
		field := fmt.Sprintf("Indexes[%d]", i)
		if ix.Name != "" {
			checkName(e, field+".Name", ix.Name)
		}
		if len(ix.Columns) == 0 {
			e.add(field+".Columns", "at least one column is required")
		}
		checkColumnList(e, field+".Columns", ix.Columns, declared)
	}
	return e.err()
}

// checkName refuses empty, over-long, NUL-holding or invalid UTF-8 names.
func checkName(e *DeclarationError, field, name string) {
	switch {
	case name == "":
		e.add(field, "must not be empty")
	case len(name) > maxIdentLen:
		e.add(field, fmt.Sprintf("longer than %d bytes", maxIdentLen))
	case strings.ContainsRune(name, 0):
		e.add(field, "must not contain NUL")
	case !utf8.ValidString(name):
		e.add(field, "must be valid UTF-8")
	}
}

// checkColumnList refuses names not declared, or repeated.
func checkColumnList(e *DeclarationError, field string, names []string, declared map[string]bool) {
	dup := map[string]bool{}
	for i, n := range names {
		f := fmt.Sprintf("%s[%d] (%s)", field, i, n)
		if !declared[n] {
			e.add(f, "is not a declared column")
		}
		if dup[n] {
			e.add(f, "is repeated")
		}
		dup[n] = true
	}
}

// column finds a declared column by its exact name.
func (t Table) column(name string) (Column, bool) {
	for _, c := range t.Columns {
		if c.Name == name {
			return c, true
		}
	}
	return Column{}, false
}

// isKey reports whether the column is part of the key.
func (t Table) isKey(name string) bool {
	for _, k := range t.Key {
		if k == name {
			return true
		}
	}
	return false
}
