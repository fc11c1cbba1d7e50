// Package sqlsink writes records to SQL tables and reads them back, on
// PostgreSQL (jackc/pgx v5) or SQLite (modernc.org/sqlite, pure Go, the
// embedded default so that a program runs with no database server). It also
// holds the durable state the referral flows keep: cursors, links between
// systems' record ids, processed keys and the consent audit sink.
//
// [Open] picks the dialect from the DSN: "postgres://…", "postgresql://…"
// or a libpq keyword string ("host=… dbname=…") is PostgreSQL;
// ":memory:", "sqlite:PATH", "file:PATH" or a plain path is SQLite; any
// other scheme ("mysql://…") is an error.
//
// # Tables
//
// A [Table] is declared in Go: columns with a portable [Type] (Text,
// Integer, Float, Numeric, Bool, Date, Timestamp, JSON, UUID, TextArray),
// key columns and optional indexes. [DB.EnsureTable] creates it when
// missing and adds columns declared since; a destructive change (a column
// dropped or retyped, a different key) is refused with an error naming the
// table and column, unless an [EnsureOption] explicitly allows it. Every
// identifier is quoted, so names with spaces, quotes or reserved words are
// safe.
//
// # Existing tables
//
// A table made by another tool (a dashboard's, a reporting database's) is
// used as it is when its columns are compatible with the declaration. A
// declared Type accepts an existing column of the same kind of value,
// whatever its width:
//
//	Text       text, varchar(n)
//	Integer    bigint, integer, smallint
//	Float      double precision
//	Numeric    numeric, numeric(p,s)
//	Bool       boolean
//	Date       date
//	Timestamp  timestamp with time zone
//	JSON       jsonb
//	UUID       uuid
//	TextArray  text[], varchar(n)[]
//
// and on SQLite the declared types of the same families ([Type] lists
// them). The width is the column's own: an Integer too large for a
// smallint column is a *RowError (never a wrapped number), a text longer
// than varchar(n) a database error, and numeric(p,s) rounds to s digits
// as it would for any writer. Columns that would change every value are
// not compatible: real for Float, timestamp without time zone for
// Timestamp, json for JSON, text for UUID. EnsureTable leaves compatible
// columns alone; [DB.Upsert] checks the declaration against the table
// before it writes anything, and refuses a missing table or column, an
// incompatible type or another key.
//
// # Upserts
//
// [DB.Upsert] streams an iter.Seq2[mapping.Record, error] into a table in
// batches, one transaction per batch. On PostgreSQL each batch is COPYed
// into a temporary table and merged with INSERT … ON CONFLICT (key) DO
// UPDATE, which leaves rows whose values did not change untouched (counted
// as skipped); into a table that was empty, batches are COPYed straight in
// until one meets an existing key. The next batch is converted while the
// previous one is written, and memory holds two batches at most. Values
// are taken by column name from each record, in the table's declared
// order, never from the record's own order; a field the
// table does not declare is an error unless ignored explicitly; a missing
// field is NULL or the column's default. Rows repeating a key in one batch
// (equal as the column's type: numeric 1 and 1.0 are one key) collapse to
// the last. Errors name the row's position, the column and its type, never
// a value, which may be personal data; the row's key is shown only when its
// columns are declared [Column].Identifier.
//
// On PostgreSQL the rows are encoded for binary COPY for the column types
// the table really has, as read from the catalog at the start of the
// upsert, and the staging table is named after that shape: nothing
// prepared or described for one table is used for another.
//
// # Batches and transactions
//
// A flow that commits something of its own with its rows (a cursor) fills
// a [Batch] instead: [DB.NewBatch] checks the table once, [Batch.Add]
// converts and encodes each record as Upsert would (so the goroutine that
// reads the records does that work, and the batch holds rows in their
// written form, on PostgreSQL as COPY tuples), and [Batch.Write] writes
// them in one transaction. [DB.InTx] opens a transaction in which
// [Tx.Write] writes batches, [Tx.Exec] runs statements and
// [DBState.UpdateIn] moves a flow's cursor: all of it commits together or
// not at all, so a cursor never passes rows that are not there.
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
