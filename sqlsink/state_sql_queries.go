package sqlsink

import (
	"strconv"
	"strings"
)

// auditPageSize is how many audit events one query of Events reads.
const auditPageSize = 256

// stateQueries holds the state store's statements, built once with quoted
// identifiers and the dialect's bind parameters.
type stateQueries struct {
	schema []string

	cursorGet, cursorSet                      string
	processedGet, processedAdd                string
	linkTo, linkFrom, linkAdd, linkDel        string
	auditLast, auditAdd, auditPage            string
	lockTake, lockHolder, lockRenew, lockDrop string
}

// Table names (after the prefix).
const (
	tableCursors   = "cursors"
	tableProcessed = "processed"
	tableLinks     = "links"
	tableAudit     = "audit"
	tableLocks     = "locks"
)

func buildStateQueries(db *DB, prefix string) stateQueries {
	t := func(name string) string { return quoteIdent(prefix + name) }
	// c quotes a comma-separated list of column names.
	c := func(cols string) string {
		parts := strings.Split(cols, ",")
		for i, p := range parts {
			parts[i] = quoteIdent(p)
		}
		return strings.Join(parts, ", ")
	}
	// p returns the bind parameters from..to, comma-separated.
	p := func(from, to int) string {
		var ps []string
		for n := from; n <= to; n++ {
			ps = append(ps, db.placeholder(n))
		}
		return strings.Join(ps, ", ")
	}
	// eq returns "col1 = $from AND col2 = $from+1 …".
	eq := func(cols string, from int) string {
		var ps []string
		for i, col := range strings.Split(cols, ",") {
			ps = append(ps, quoteIdent(col)+" = "+db.placeholder(from+i))
		}
		return strings.Join(ps, " AND ")
	}
	cursors, processed, links, audit, locks := t(tableCursors), t(tableProcessed), t(tableLinks), t(tableAudit), t(tableLocks)

	q := stateQueries{
		schema: []string{
			"CREATE TABLE IF NOT EXISTS " + cursors + " (" +
				c("flow") + " TEXT NOT NULL PRIMARY KEY, " + c("cursor") + " TEXT NOT NULL)",
			"CREATE TABLE IF NOT EXISTS " + processed + " (" +
				c("flow") + " TEXT NOT NULL, " + c("key") + " TEXT NOT NULL, " +
				"PRIMARY KEY (" + c("flow,key") + "))",
			"CREATE TABLE IF NOT EXISTS " + links + " (" +
				c("kind") + " TEXT NOT NULL, " + c("from_system") + " TEXT NOT NULL, " + c("from_id") + " TEXT NOT NULL, " +
				c("to_system") + " TEXT NOT NULL, " + c("to_id") + " TEXT NOT NULL, " +
				"PRIMARY KEY (" + c("kind,from_system,from_id,to_system") + "), " +
				"UNIQUE (" + c("kind,to_system,to_id,from_system") + "))",
			"CREATE TABLE IF NOT EXISTS " + audit + " (" +
				c("trail") + " TEXT NOT NULL, " + c("seq") + " BIGINT NOT NULL, " + c("hash") + " TEXT NOT NULL, " +
				c("prev_hash") + " TEXT NOT NULL, " + c("event") + " TEXT NOT NULL, " +
				"PRIMARY KEY (" + c("trail,seq") + "))",
		},

		cursorGet: "SELECT " + c("cursor") + " FROM " + cursors + " WHERE " + eq("flow", 1),
		cursorSet: "INSERT INTO " + cursors + " (" + c("flow,cursor") + ") VALUES (" + p(1, 2) + ") " +
			"ON CONFLICT (" + c("flow") + ") DO UPDATE SET " + c("cursor") + " = excluded." + c("cursor"),

		processedGet: "SELECT 1 FROM " + processed + " WHERE " + eq("flow,key", 1),
		processedAdd: "INSERT INTO " + processed + " (" + c("flow,key") + ") VALUES (" + p(1, 2) + ") ON CONFLICT DO NOTHING",

		linkTo:   "SELECT " + c("to_id") + " FROM " + links + " WHERE " + eq("kind,from_system,from_id,to_system", 1),
		linkFrom: "SELECT " + c("from_id") + " FROM " + links + " WHERE " + eq("kind,to_system,to_id,from_system", 1),
		linkAdd: "INSERT INTO " + links + " (" + c("kind,from_system,from_id,to_system,to_id") + ") VALUES (" + p(1, 5) + ") " +
			"ON CONFLICT DO NOTHING",
		linkDel: "DELETE FROM " + links + " WHERE " + eq("kind,from_system,from_id,to_system,to_id", 1),

		auditLast: "SELECT " + c("seq,hash,event") + " FROM " + audit + " WHERE " + eq("trail", 1) +
			" ORDER BY " + c("seq") + " DESC LIMIT 1",
		auditAdd: "INSERT INTO " + audit + " (" + c("trail,seq,hash,prev_hash,event") + ") VALUES (" + p(1, 5) + ")",
		auditPage: "SELECT " + c("seq,hash,event") + " FROM " + audit + " WHERE " + eq("trail", 1) +
			" AND " + c("seq") + " > " + db.placeholder(2) +
			" ORDER BY " + c("seq") + " LIMIT " + strconv.Itoa(auditPageSize),
	}
	if db.Dialect() == SQLite {
		q.schema = append(q.schema, "CREATE TABLE IF NOT EXISTS "+locks+" ("+
			c("flow")+" TEXT NOT NULL PRIMARY KEY, "+c("holder")+" TEXT NOT NULL, "+c("expires_at")+" BIGINT NOT NULL)")
		// Take the row if it is absent or its lease has expired; one
		// statement, so atomic. RowsAffected is 0 when it is held.
		q.lockTake = "INSERT INTO " + locks + " (" + c("flow,holder,expires_at") + ") VALUES (?, ?, ?) " +
			"ON CONFLICT (" + c("flow") + ") DO UPDATE SET " + c("holder") + " = excluded." + c("holder") + ", " +
			c("expires_at") + " = excluded." + c("expires_at") + " WHERE " + locks + "." + c("expires_at") + " <= ?"
		q.lockHolder = "SELECT " + c("holder") + " FROM " + locks + " WHERE " + c("flow") + " = ?"
		q.lockRenew = "UPDATE " + locks + " SET " + c("expires_at") + " = ? WHERE " + c("flow") + " = ? AND " + c("holder") + " = ?"
		q.lockDrop = "DELETE FROM " + locks + " WHERE " + c("flow") + " = ? AND " + c("holder") + " = ?"
	}
	return q
}
