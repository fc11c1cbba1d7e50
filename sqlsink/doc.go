// Package sqlsink writes records to SQL tables and reads them back, on
// PostgreSQL (jackc/pgx v5) or SQLite (modernc.org/sqlite, pure Go, the
// embedded default so that a program runs with no database server). It also
// holds the durable state the referral flows keep: cursors, links between
// systems' record ids, processed keys and the consent audit sink.
//
// [Open] picks the dialect from the DSN: "postgres://…" is PostgreSQL;
// ":memory:", "sqlite:PATH", "file:PATH" or a plain path is SQLite.
//
// # Tables
//
// A [Table] is declared in Go: columns with a portable [Type], key columns
// and optional indexes. [DB.EnsureTable] creates it when missing and adds
// columns declared since; a destructive change (a column dropped or retyped,
// a different key) is refused with an error naming the table and column,
// unless [EnsureOptions] explicitly allow it. Every identifier is quoted, so
// names with spaces, quotes or reserved words are safe.
//
// # Upserts
//
// [DB.Upsert] streams an iter.Seq2[mapping.Record, error] into a table in
// batches, one transaction per batch. On PostgreSQL each batch is COPYed
// into a temporary table and merged with INSERT … ON CONFLICT (key) DO
// UPDATE, which leaves rows whose values did not change untouched (counted
// as skipped); into a table that was empty, batches are COPYed straight in
// until one meets an existing key. The next batch is converted while the
// previous one is written, and memory holds two batches at most. Values are taken by column name from each record, in the
// table's declared order, never from the record's own order; a field the
// table does not declare is an error unless ignored explicitly; a missing
// field is NULL or the column's default. Rows repeating a key in one batch
// collapse to the last. Errors name the row's key and the column, never a
// value, which may be personal data.
//
// # Queries
//
// [DB.Query] runs a query and yields each row as a mapping.Record, with
// values as int64, float64, string, bool, time.Time, []byte or nil.
//
// # State for flows
//
// [State] is what a flow remembers between runs, identifiers only: cursors,
// links between systems' record ids, processed keys (for idempotency),
// changed together in one transaction by [State.Update]; an audit log that
// is a consent.Sink; and a per-flow run [Lock] (a PostgreSQL advisory lock,
// a leased row on SQLite). [NewMemoryState] is for tests and examples,
// [NewDBState] keeps it in the database.
package sqlsink
