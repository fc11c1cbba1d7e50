package sqlsink

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"strings"
	"time"
)

// sqlType returns the dialect's type for t, as CREATE TABLE writes it and
// as the schema inspection reports it back (format_type on PostgreSQL,
// the declared type on SQLite). [compatible] lists the other existing
// types a declaration accepts.
func sqlType(d Dialect, t Type) string {
	if d == Postgres {
		switch t {
		case Text:
			return "text"
		case Integer:
			return "bigint"
		case Float:
			return "double precision"
		case Numeric:
			return "numeric"
		case Bool:
			return "boolean"
		case Date:
			return "date"
		case Timestamp:
			return "timestamp with time zone"
		case JSON:
			return "jsonb"
		case UUID:
			return "uuid"
		case TextArray:
			return "text[]"
		}
		return ""
	}
	switch t {
	case Text:
		return "TEXT"
	case Integer:
		return "INTEGER"
	case Float:
		return "REAL"
	case Numeric:
		return "NUMERIC"
	case Bool:
		return "BOOLEAN"
	case Date:
		return "DATE"
	case Timestamp:
		return "TIMESTAMP"
	case JSON:
		// The "TEXT" in the name gives the column TEXT affinity, so that
		// SQLite never turns a JSON document such as "12" into a number;
		// the "JSON" lets Query recognize and decode it.
		return "JSON TEXT"
	case UUID:
		return "UUID TEXT" // TEXT affinity; the name tells Query what it is
	case TextArray:
		return "JSON TEXT ARRAY" // a JSON array, decoded by Query
	}
	return ""
}

// columnDef renders `"name" type [NOT NULL] [DEFAULT literal]`.
func columnDef(d Dialect, t Table, c Column) string {
	var b strings.Builder
	b.WriteString(quoteIdent(c.Name))
	b.WriteByte(' ')
	b.WriteString(sqlType(d, c.Type))
	if c.NotNull || t.isKey(c.Name) {
		b.WriteString(" NOT NULL")
	}
	if c.Default != nil {
		b.WriteString(" DEFAULT ")
		b.WriteString(defaultLiteral(d, c))
	}
	return b.String()
}

// defaultLiteral renders a column's (validated) default as an SQL literal.
// Defaults come from the table declaration in code, not from records, and
// are rendered from their converted form only: strings single-quoted with
// quotes doubled, numbers by strconv.
func defaultLiteral(d Dialect, c Column) string {
	v, err := convertValue(c.Type, c.Default, d)
	if err != nil {
		return "NULL" // unreachable after Validate
	}
	switch x := v.(type) {
	case int64:
		return strconv.FormatInt(x, 10)
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	case bool:
		if x {
			return "TRUE"
		}
		return "FALSE"
	case time.Time:
		if c.Type == Date {
			return quoteLiteral(x.Format(time.DateOnly))
		}
		return quoteLiteral(x.Format(time.RFC3339Nano))
	case string:
		return quoteLiteral(x)
	}
	return "NULL"
}

// quoteLiteral single-quotes s, doubling embedded quotes. Both dialects
// treat backslashes in such literals as ordinary characters
// (standard_conforming_strings is on by default since PostgreSQL 9.1).
func quoteLiteral(s string) string {
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}

// createTableSQL renders CREATE TABLE for t.
func createTableSQL(d Dialect, t Table) string {
	var b strings.Builder
	b.WriteString("CREATE TABLE ")
	b.WriteString(quoteIdent(t.Name))
	b.WriteString(" (\n")
	for _, c := range t.Columns {
		b.WriteString("  ")
		b.WriteString(columnDef(d, t, c))
		b.WriteString(",\n")
	}
	b.WriteString("  PRIMARY KEY (")
	b.WriteString(identList(t.Key))
	b.WriteString(")\n)")
	return b.String()
}

// createIndexSQL renders CREATE INDEX IF NOT EXISTS for one index.
func createIndexSQL(t Table, ix Index) string {
	unique := ""
	if ix.Unique {
		unique = "UNIQUE "
	}
	return "CREATE " + unique + "INDEX IF NOT EXISTS " + quoteIdent(indexName(t, ix)) +
		" ON " + quoteIdent(t.Name) + " (" + identList(ix.Columns) + ")"
}

// indexName is the declared name, or "<table>_<cols>_idx" shortened with a
// hash to fit PostgreSQL's 63-byte limit.
func indexName(t Table, ix Index) string {
	if ix.Name != "" {
		return ix.Name
	}
	name := t.Name + "_" + strings.Join(ix.Columns, "_") + "_idx"
	if len(name) <= maxIdentLen {
		return name
	}
	sum := sha256.Sum256([]byte(name))
	suffix := "_" + hex.EncodeToString(sum[:4]) + "_idx"
	// A rune cut in half by the byte limit becomes invalid and is dropped.
	prefix := strings.ToValidUTF8(name[:maxIdentLen-len(suffix)], "")
	return prefix + suffix
}

// identList quotes and joins names with ", ".
func identList(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = quoteIdent(n)
	}
	return strings.Join(q, ", ")
}
