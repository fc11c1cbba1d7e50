package sqlsink

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"regexp"
	"sync"
	"time"

	"github.com/casebridge/casebridge/consent"
)

// DBState is a [State] kept in a SQLite or PostgreSQL database. Its
// tables are created on first use, named with a prefix ("casebridge_" by
// default; see WithTablePrefix):
//
//	<prefix>cursors    flow, cursor
//	<prefix>processed  flow, key
//	<prefix>links      kind, from_system, from_id, to_system, to_id
//	<prefix>audit      trail, seq, hash, prev_hash, event (the event's canonical JSON)
//	<prefix>locks      flow, holder, expires_at (SQLite only)
//
// Every identifier is quoted and every value is a bind parameter.
//
// Run locks: on PostgreSQL, Lock takes a session advisory lock
// (pg_try_advisory_lock) on a connection of its own, held until Release;
// if that connection drops, the server releases the lock, and Lost tells
// the holder. The lock key is the first 8 bytes, as a big-endian signed
// 64-bit integer, of SHA-256("casebridge/sqlsink/flow-lock" NUL prefix
// NUL flow). Two flow names colliding on it (odds about n²/2⁶⁵ for n
// names) would exclude each other, and so could another application
// taking advisory locks with the same 64-bit key in the same database.
// Each held lock keeps one connection of the pool busy: release every
// lock before closing the DB, whose Close waits for that connection.
//
// On SQLite, Lock inserts a row (flow, holder id, expiry) that another
// holder may take only after the lease has expired; the holder renews the
// lease every third of it (WithLockLease, 30 seconds by default) and
// deletes the row on Release. A holder that crashes keeps the flow locked
// until its lease expires. Leases compare the clocks of the processes
// sharing the database file, which for SQLite are normally on one machine.
type DBState struct {
	db     *DB
	prefix string
	lease  time.Duration
	now    func() time.Time

	mu      sync.Mutex
	created bool

	q stateQueries
}

var _ State = (*DBState)(nil)

// StateOption configures a DBState.
type StateOption func(*DBState) error

// prefixRE keeps table names short enough for PostgreSQL's 63-byte limit
// (which would otherwise truncate them silently) and plain.
var prefixRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,39}$`)

// WithTablePrefix sets the prefix of the state tables (default
// "casebridge_"): letters, digits and underscores, at most 40, not
// starting with a digit; "" for none. Two stores with different prefixes
// in one database are independent, locks included.
func WithTablePrefix(prefix string) StateOption {
	return func(s *DBState) error {
		if prefix != "" && !prefixRE.MatchString(prefix) {
			return errors.New("sqlsink: state: table prefix must be letters, digits and _ (at most 40, not starting with a digit)")
		}
		s.prefix = prefix
		return nil
	}
}

// WithLockLease sets how long a SQLite lock row stays valid without
// renewal (default 30 seconds, at least one second). Locks are checked —
// and on SQLite renewed — every third of it.
func WithLockLease(d time.Duration) StateOption {
	return func(s *DBState) error {
		if d < time.Second {
			return errors.New("sqlsink: state: lock lease must be at least one second")
		}
		s.lease = d
		return nil
	}
}

// NewDBState returns the state store kept in db. Nothing is written until
// first use. db stays owned by the caller.
func NewDBState(db *DB, opts ...StateOption) (*DBState, error) {
	if db == nil {
		return nil, errors.New("sqlsink: state: nil DB")
	}
	s := &DBState{db: db, prefix: "casebridge_", lease: 30 * time.Second, now: time.Now}
	for _, o := range opts {
		if err := o(s); err != nil {
			return nil, err
		}
	}
	s.q = buildStateQueries(db, s.prefix)
	return s, nil
}

// ensure creates the tables on first use. On PostgreSQL a transaction
// advisory lock serialises concurrent first uses (CREATE TABLE IF NOT
// EXISTS alone can race); SQLite transactions begin IMMEDIATE.
func (s *DBState) ensure(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.created {
		return nil
	}
	if err := s.inTx(ctx, func(tx *sql.Tx) error { return s.createTables(ctx, tx) }); err != nil {
		return err
	}
	s.created = true
	return nil
}

// ensureIn is ensure inside tx (a transaction of its own could wait for
// tx's locks): the tables count as made once tx commits.
func (s *DBState) ensureIn(ctx context.Context, tx *Tx) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.created {
		return nil
	}
	if err := s.createTables(ctx, tx.sql); err != nil {
		return err
	}
	tx.afterCommit = append(tx.afterCommit, func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.created = true
	})
	return nil
}

// createTables creates the state's tables in tx.
func (s *DBState) createTables(ctx context.Context, tx *sql.Tx) error {
	if s.db.Dialect() == Postgres {
		if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock($1)", advisoryKey(s.prefix, "\x00schema")); err != nil {
			return fmt.Errorf("sqlsink: state: create tables: %w", err)
		}
	}
	for _, stmt := range s.q.schema {
		if _, err := tx.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("sqlsink: state: create tables: %w", err)
		}
	}
	return nil
}

// inTx runs fn in a transaction, committing if it returns nil and rolling
// back otherwise (also on panic).
func (s *DBState) inTx(ctx context.Context, fn func(tx *sql.Tx) error) (err error) {
	tx, err := s.db.SQL().BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	done := false
	defer func() {
		if !done {
			_ = tx.Rollback()
		}
	}()
	if err := fn(tx); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err // database/sql rolls back when ctx ends; say why
	}
	done = true
	if err := tx.Commit(); err != nil {
		return errors.Join(ctx.Err(), err)
	}
	return nil
}

// Update runs fn in one database transaction scoped to flow.
func (s *DBState) Update(ctx context.Context, flow string, fn func(tx StateTx) error) error {
	if err := checkIdent("flow", flow); err != nil {
		return err
	}
	if err := s.ensure(ctx); err != nil {
		return err
	}
	var userErr bool
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		t := &dbTx{s: s, q: tx, flow: flow}
		defer func() { t.done = true }()
		if err := fn(t); err != nil {
			userErr = true
			return err
		}
		return nil
	})
	if err != nil && !userErr {
		return fmt.Errorf("sqlsink: state: update of flow %s: %w", flow, err)
	}
	return err
}

// UpdateIn runs fn inside tx, a transaction of the DB the state is kept
// in: what fn changes commits or rolls back with the rest of tx (the rows
// a flow wrote and the cursor over them, together). It is Update, without
// a transaction of its own.
func (s *DBState) UpdateIn(ctx context.Context, tx *Tx, flow string, fn func(tx StateTx) error) error {
	if err := checkIdent("flow", flow); err != nil {
		return err
	}
	if tx.db != s.db {
		return errors.New("sqlsink: state: UpdateIn needs a transaction of the state's own DB")
	}
	if err := s.ensureIn(ctx, tx); err != nil {
		return err
	}
	t := &dbTx{s: s, q: tx.sql, flow: flow}
	defer func() { t.done = true }()
	return fn(t)
}

// Cursor returns the flow's cursor.
func (s *DBState) Cursor(ctx context.Context, flow string) (string, bool, error) {
	if err := checkIdent("flow", flow); err != nil {
		return "", false, err
	}
	if err := s.ensure(ctx); err != nil {
		return "", false, err
	}
	return s.cursor(ctx, s.db.SQL(), flow)
}

// Processed reports whether key was marked processed for flow.
func (s *DBState) Processed(ctx context.Context, flow, key string) (bool, error) {
	if err := checkIdent("flow", flow); err != nil {
		return false, err
	}
	if err := checkIdent("key", key); err != nil {
		return false, err
	}
	if err := s.ensure(ctx); err != nil {
		return false, err
	}
	return s.processed(ctx, s.db.SQL(), flow, key)
}

// LinkTo returns the id in toSystem of the record from.
func (s *DBState) LinkTo(ctx context.Context, kind string, from consent.RecordRef, toSystem string) (string, bool, error) {
	if err := checkLookup(kind, from, toSystem); err != nil {
		return "", false, err
	}
	if err := s.ensure(ctx); err != nil {
		return "", false, err
	}
	return s.linkTo(ctx, s.db.SQL(), kind, from, toSystem)
}

// LinkFrom returns the id in fromSystem of the record to.
func (s *DBState) LinkFrom(ctx context.Context, kind string, to consent.RecordRef, fromSystem string) (string, bool, error) {
	if err := checkLookup(kind, to, fromSystem); err != nil {
		return "", false, err
	}
	if err := s.ensure(ctx); err != nil {
		return "", false, err
	}
	return s.linkFrom(ctx, s.db.SQL(), kind, to, fromSystem)
}

// querier is what *sql.DB and *sql.Tx have in common.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func (s *DBState) cursor(ctx context.Context, q querier, flow string) (string, bool, error) {
	var c string
	err := q.QueryRowContext(ctx, s.q.cursorGet, flow).Scan(&c)
	if errors.Is(err, sql.ErrNoRows) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("sqlsink: state: read cursor of flow %s: %w", flow, err)
	}
	return c, true, nil
}

func (s *DBState) processed(ctx context.Context, q querier, flow, key string) (bool, error) {
	var one int
	err := q.QueryRowContext(ctx, s.q.processedGet, flow, key).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("sqlsink: state: read processed key of flow %s: %w", flow, err)
	}
	return true, nil
}

func (s *DBState) linkTo(ctx context.Context, q querier, kind string, from consent.RecordRef, toSystem string) (string, bool, error) {
	var id string
	err := q.QueryRowContext(ctx, s.q.linkTo, kind, from.System, from.ID, toSystem).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("sqlsink: state: read %s link: %w", kind, err)
	}
	return id, true, nil
}

func (s *DBState) linkFrom(ctx context.Context, q querier, kind string, to consent.RecordRef, fromSystem string) (string, bool, error) {
	var id string
	err := q.QueryRowContext(ctx, s.q.linkFrom, kind, to.System, to.ID, fromSystem).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("sqlsink: state: read %s link: %w", kind, err)
	}
	return id, true, nil
}

// dbTx is a DBState transaction.
type dbTx struct {
	s    *DBState
	q    *sql.Tx
	flow string
	done bool
}

func (t *dbTx) Flow() string { return t.flow }

func (t *dbTx) Cursor(ctx context.Context) (string, bool, error) {
	if t.done {
		return "", false, errTxDone
	}
	return t.s.cursor(ctx, t.q, t.flow)
}

func (t *dbTx) SetCursor(ctx context.Context, cursor string) error {
	if t.done {
		return errTxDone
	}
	if err := checkCursor(cursor); err != nil {
		return err
	}
	if _, err := t.q.ExecContext(ctx, t.s.q.cursorSet, t.flow, cursor); err != nil {
		return fmt.Errorf("sqlsink: state: set cursor of flow %s: %w", t.flow, err)
	}
	return nil
}

func (t *dbTx) Processed(ctx context.Context, key string) (bool, error) {
	if t.done {
		return false, errTxDone
	}
	if err := checkIdent("key", key); err != nil {
		return false, err
	}
	return t.s.processed(ctx, t.q, t.flow, key)
}

func (t *dbTx) MarkProcessed(ctx context.Context, key string) (bool, error) {
	if t.done {
		return false, errTxDone
	}
	if err := checkIdent("key", key); err != nil {
		return false, err
	}
	res, err := t.q.ExecContext(ctx, t.s.q.processedAdd, t.flow, key)
	if err != nil {
		return false, fmt.Errorf("sqlsink: state: mark processed key of flow %s: %w", t.flow, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("sqlsink: state: mark processed key of flow %s: %w", t.flow, err)
	}
	return n == 1, nil
}

func (t *dbTx) LinkTo(ctx context.Context, kind string, from consent.RecordRef, toSystem string) (string, bool, error) {
	if t.done {
		return "", false, errTxDone
	}
	if err := checkLookup(kind, from, toSystem); err != nil {
		return "", false, err
	}
	return t.s.linkTo(ctx, t.q, kind, from, toSystem)
}

func (t *dbTx) LinkFrom(ctx context.Context, kind string, to consent.RecordRef, fromSystem string) (string, bool, error) {
	if t.done {
		return "", false, errTxDone
	}
	if err := checkLookup(kind, to, fromSystem); err != nil {
		return "", false, err
	}
	return t.s.linkFrom(ctx, t.q, kind, to, fromSystem)
}

// PutLink inserts l unless either of its ends is taken (ON CONFLICT DO
// NOTHING covers both unique keys), then tells a repeat from a conflict.
func (t *dbTx) PutLink(ctx context.Context, l Link) error {
	if t.done {
		return errTxDone
	}
	if err := checkLink(l); err != nil {
		return err
	}
	res, err := t.q.ExecContext(ctx, t.s.q.linkAdd, l.Kind, l.From.System, l.From.ID, l.To.System, l.To.ID)
	if err != nil {
		return fmt.Errorf("sqlsink: state: store %s link: %w", l.Kind, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("sqlsink: state: store %s link: %w", l.Kind, err)
	}
	if n == 1 {
		return nil
	}
	toID, ok, err := t.s.linkTo(ctx, t.q, l.Kind, l.From, l.To.System)
	if err != nil {
		return err
	}
	if ok {
		if toID == l.To.ID {
			return nil
		}
		return &LinkConflictError{Link: l, Existing: Link{Kind: l.Kind, From: l.From, To: consent.RecordRef{System: l.To.System, ID: toID}}}
	}
	fromID, ok, err := t.s.linkFrom(ctx, t.q, l.Kind, l.To, l.From.System)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("sqlsink: state: store %s link: not stored and no conflicting link found", l.Kind)
	}
	return &LinkConflictError{Link: l, Existing: Link{Kind: l.Kind, From: consent.RecordRef{System: l.From.System, ID: fromID}, To: l.To}}
}

func (t *dbTx) DeleteLink(ctx context.Context, l Link) error {
	if t.done {
		return errTxDone
	}
	if err := checkLink(l); err != nil {
		return err
	}
	if _, err := t.q.ExecContext(ctx, t.s.q.linkDel, l.Kind, l.From.System, l.From.ID, l.To.System, l.To.ID); err != nil {
		return fmt.Errorf("sqlsink: state: delete %s link: %w", l.Kind, err)
	}
	return nil
}
