package sqlsink

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"database/sql/driver"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"os"

	"github.com/jackc/pgx/v5/stdlib"
)

// advisoryKey returns the PostgreSQL advisory lock key of flow in the
// store with the given table prefix: the first 8 bytes of
// SHA-256("casebridge/sqlsink/flow-lock" NUL prefix NUL flow), read as a
// big-endian int64.
func advisoryKey(prefix, flow string) int64 {
	sum := sha256.Sum256([]byte("casebridge/sqlsink/flow-lock\x00" + prefix + "\x00" + flow))
	return int64(binary.BigEndian.Uint64(sum[:8]))
}

// Lock takes the flow's run lock: a PostgreSQL session advisory lock, or
// a SQLite lease row (see DBState).
func (s *DBState) Lock(ctx context.Context, flow string) (*Lock, error) {
	if err := checkIdent("flow", flow); err != nil {
		return nil, err
	}
	if s.db.Dialect() == Postgres {
		return s.lockPostgres(ctx, flow)
	}
	if err := s.ensure(ctx); err != nil {
		return nil, err
	}
	return s.lockSQLite(ctx, flow)
}

// lockPostgres holds pg_try_advisory_lock on a connection of its own. The
// keeper pings that connection; if it fails the session (and so the lock)
// may be gone, the lock counts as lost and the connection is closed, which
// makes sure the server releases it.
func (s *DBState) lockPostgres(ctx context.Context, flow string) (*Lock, error) {
	key := advisoryKey(s.prefix, flow)
	conn, err := s.db.SQL().Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("sqlsink: lock flow %s: %w", flow, err)
	}
	var got bool
	if err := conn.QueryRowContext(ctx, "SELECT pg_try_advisory_lock($1)", key).Scan(&got); err != nil {
		// The lock may have been granted before the error: drop the session.
		discardConn(conn)
		return nil, fmt.Errorf("sqlsink: lock flow %s: %w", flow, err)
	}
	if !got {
		_ = conn.Close()
		return nil, &LockHeldError{Flow: flow}
	}
	keep := func(ctx context.Context) error {
		if err := conn.PingContext(ctx); err != nil {
			return fmt.Errorf("%w: %w", ErrLockLost, err)
		}
		return nil
	}
	end := func(ctx context.Context, lost bool) error {
		if lost {
			discardConn(conn)
			return nil
		}
		var released bool
		err := conn.QueryRowContext(ctx, "SELECT pg_advisory_unlock($1)", key).Scan(&released)
		if err != nil || !released {
			discardConn(conn)
			if err == nil {
				err = errors.New("the session no longer held it")
			}
			return err
		}
		return conn.Close()
	}
	return newLock(flow, s.lease/3, keep, end), nil
}

// discardConn closes the PostgreSQL session under conn, so that no lock it
// may hold survives, and drops conn from the pool.
func discardConn(conn *sql.Conn) {
	_ = conn.Raw(func(dc any) error {
		if c, ok := dc.(*stdlib.Conn); ok {
			ctx, cancel := context.WithTimeout(context.Background(), releaseTimeout)
			defer cancel()
			_ = c.Conn().Close(ctx)
		}
		return driver.ErrBadConn
	})
	_ = conn.Close()
}

// newHolder returns a holder id for a SQLite lock row: the process id
// and random bits, no host or user name.
func newHolder() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("pid-%d-%s", os.Getpid(), hex.EncodeToString(b[:]))
}

// lockSQLite takes the flow's lease row, renews it every third of the
// lease, and deletes it on release.
func (s *DBState) lockSQLite(ctx context.Context, flow string) (*Lock, error) {
	holder := newHolder()
	now := s.now()
	expires := now.Add(s.lease).UnixMilli()
	res, err := s.db.SQL().ExecContext(ctx, s.q.lockTake, flow, holder, expires, now.UnixMilli())
	if err != nil {
		return nil, fmt.Errorf("sqlsink: lock flow %s: %w", flow, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return nil, fmt.Errorf("sqlsink: lock flow %s: %w", flow, err)
	}
	if n != 1 {
		held := &LockHeldError{Flow: flow}
		_ = s.db.SQL().QueryRowContext(ctx, s.q.lockHolder, flow).Scan(&held.Holder)
		return nil, held
	}
	keep := func(ctx context.Context) error {
		now := s.now()
		res, err := s.db.SQL().ExecContext(ctx, s.q.lockRenew, now.Add(s.lease).UnixMilli(), flow, holder)
		if err == nil {
			var n int64
			if n, err = res.RowsAffected(); err == nil && n != 1 {
				return fmt.Errorf("%w: lease row taken or removed", ErrLockLost)
			}
		}
		if err != nil {
			if now.UnixMilli() >= expires {
				return fmt.Errorf("%w: lease expired: %w", ErrLockLost, err)
			}
			return err
		}
		expires = now.Add(s.lease).UnixMilli()
		return nil
	}
	end := func(ctx context.Context, lost bool) error {
		if lost {
			return nil
		}
		_, err := s.db.SQL().ExecContext(ctx, s.q.lockDrop, flow, holder)
		return err
	}
	return newLock(flow, s.lease/3, keep, end), nil
}
