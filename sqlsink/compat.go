package sqlsink

import (
	"regexp"
	"strings"
)

// Compatibility of a declared column with an existing one. A declared Type
// accepts an existing column that holds the same kind of value, so that
// Upsert writes what it would write into a table EnsureTable created.
// Width limits are the column's own (an Integer over a smallint column
// refuses 40000 with a *RowError; a varchar(n) refuses longer text with a
// database error; numeric(p,s) rounds to s digits); types that would
// change every value are not accepted: real (float4) for Float, timestamp
// without time zone for Timestamp, json for JSON (which also has no
// equality, so unchanged rows could not be skipped), text for UUID.

// compatibleTypes lists, per dialect and Type, the existing column types
// (normalized by baseType) a declaration accepts.
var compatibleTypes = map[Dialect]map[Type][]string{
	Postgres: {
		Text:      {"text", "character varying"},
		Integer:   {"bigint", "integer", "smallint"},
		Float:     {"double precision"},
		Numeric:   {"numeric"},
		Bool:      {"boolean"},
		Date:      {"date"},
		Timestamp: {"timestamp with time zone"},
		JSON:      {"jsonb"},
		UUID:      {"uuid"},
		TextArray: {"text[]", "character varying[]"},
	},
	SQLite: {
		Text:      {"TEXT", "VARCHAR", "CHARACTER VARYING", "NVARCHAR", "VARYING CHARACTER", "CHAR", "CHARACTER", "NCHAR", "CLOB"},
		Integer:   {"INTEGER", "INT", "BIGINT", "SMALLINT", "TINYINT", "MEDIUMINT", "INT2", "INT4", "INT8"},
		Float:     {"REAL", "DOUBLE", "DOUBLE PRECISION", "FLOAT"},
		Numeric:   {"NUMERIC", "DECIMAL"},
		Bool:      {"BOOLEAN", "BOOL"},
		Date:      {"DATE"},
		Timestamp: {"TIMESTAMP"},
		JSON:      {"JSON TEXT"},
		UUID:      {"UUID TEXT"},
		TextArray: {"JSON TEXT ARRAY"},
	},
}

var typeModifier = regexp.MustCompile(`\s*\([^)]*\)`)

// baseType drops type modifiers ("character varying(40)" → "character
// varying", "numeric(10,2)" → "numeric", "VARCHAR(40)" → "VARCHAR") and
// extra spaces; SQLite names are upper-cased.
func baseType(d Dialect, typ string) string {
	s := strings.Join(strings.Fields(typeModifier.ReplaceAllString(typ, "")), " ")
	if d == SQLite {
		s = strings.ToUpper(s)
	}
	return s
}

// compatible reports whether a column declared t may be written to an
// existing column of type typ (as the database reports it).
func compatible(d Dialect, t Type, typ string) bool {
	base := baseType(d, typ)
	for _, ok := range compatibleTypes[d][t] {
		if base == ok {
			return true
		}
	}
	return false
}
