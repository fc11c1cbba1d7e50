package sqlsink

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"iter"

	"github.com/casebridge/casebridge/consent"
	"github.com/jackc/pgx/v5/pgconn"
)

// AuditLog returns the audit log named trail, kept in the audit table.
func (s *DBState) AuditLog(trail string) AuditLog { return &dbAudit{s: s, trail: trail} }

// dbAudit is one trail of the audit table.
type dbAudit struct {
	s     *DBState
	trail string
}

// Append stores e in one transaction after checking that it continues
// the stored trail. The (trail, seq) primary key refuses a second writer
// that raced past the check (PostgreSQL); SQLite transactions begin
// IMMEDIATE, so writers queue.
func (a *dbAudit) Append(ctx context.Context, e consent.Event) error {
	if err := checkIdent("trail", a.trail); err != nil {
		return err
	}
	if err := a.s.ensure(ctx); err != nil {
		return err
	}
	line, err := encodeEvent(e)
	if err != nil {
		return fmt.Errorf("sqlsink: audit trail %s: encode seq %d: %w", a.trail, e.Seq, err)
	}
	err = a.s.inTx(ctx, func(tx *sql.Tx) error {
		last, err := a.last(ctx, tx)
		if err != nil {
			return err
		}
		if again, err := checkAppend(a.trail, last, e); err != nil || again {
			return err
		}
		_, err = tx.ExecContext(ctx, a.s.q.auditAdd, a.trail, e.Seq, e.Hash, e.PrevHash, string(line))
		return err
	})
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "23505" { // unique_violation
		return brokenChain(a.trail, e, e.Seq-1, "another writer appended this sequence number first")
	}
	if err != nil && !errors.Is(err, consent.ErrBrokenChain) {
		return fmt.Errorf("sqlsink: audit trail %s: append seq %d: %w", a.trail, e.Seq, err)
	}
	return err
}

// last reads the trail's last event (zero when empty).
func (a *dbAudit) last(ctx context.Context, q querier) (consent.Event, error) {
	var (
		seq  int64
		hash string
		ev   string
	)
	err := q.QueryRowContext(ctx, a.s.q.auditLast, a.trail).Scan(&seq, &hash, &ev)
	if errors.Is(err, sql.ErrNoRows) {
		return consent.Event{}, nil
	}
	if err != nil {
		return consent.Event{}, fmt.Errorf("sqlsink: audit trail %s: read last event: %w", a.trail, err)
	}
	// The position is unknown without counting; seq is where it should be.
	return decodeEvent([]byte(ev), int(seq), seq, hash)
}

// Last returns the trail's last stored event.
func (a *dbAudit) Last(ctx context.Context) (consent.Event, error) {
	if err := checkIdent("trail", a.trail); err != nil {
		return consent.Event{}, err
	}
	if err := a.s.ensure(ctx); err != nil {
		return consent.Event{}, err
	}
	return a.last(ctx, a.s.db.SQL())
}

// Events yields the trail's events in seq order, one page per query.
func (a *dbAudit) Events(ctx context.Context) iter.Seq2[consent.Event, error] {
	return func(yield func(consent.Event, error) bool) {
		if err := checkIdent("trail", a.trail); err != nil {
			yield(consent.Event{}, err)
			return
		}
		if err := a.s.ensure(ctx); err != nil {
			yield(consent.Event{}, err)
			return
		}
		pos := 0
		var after int64
		for {
			page, err := a.page(ctx, after)
			if err != nil {
				yield(consent.Event{}, err)
				return
			}
			for _, r := range page {
				pos++
				e, err := decodeEvent(r.event, pos, r.seq, r.hash)
				if !yield(e, err) || err != nil {
					return
				}
				after = r.seq
			}
			if len(page) < auditPageSize {
				return
			}
		}
	}
}

// auditRow is one stored event as read from the table.
type auditRow struct {
	seq   int64
	hash  string
	event []byte
}

// page reads up to auditPageSize rows after seq.
func (a *dbAudit) page(ctx context.Context, after int64) ([]auditRow, error) {
	rows, err := a.s.db.SQL().QueryContext(ctx, a.s.q.auditPage, a.trail, after)
	if err != nil {
		return nil, fmt.Errorf("sqlsink: audit trail %s: read events: %w", a.trail, err)
	}
	defer rows.Close()
	var page []auditRow
	for rows.Next() {
		var (
			r  auditRow
			ev string
		)
		if err := rows.Scan(&r.seq, &r.hash, &ev); err != nil {
			return nil, fmt.Errorf("sqlsink: audit trail %s: read events: %w", a.trail, err)
		}
		r.event = []byte(ev)
		page = append(page, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlsink: audit trail %s: read events: %w", a.trail, err)
	}
	return page, nil
}
