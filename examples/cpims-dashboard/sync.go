package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/casebridge/casebridge/mapping"
	"github.com/casebridge/casebridge/primero"
	"github.com/casebridge/casebridge/sqlsink"
)

// DefaultChunk is how many cases are committed, with their services and
// the cursor, at a time. A chunk being filled and one being written are
// held at once (the one being written only as Upsert's encoded batch), so
// it bounds the sync's memory too.
const DefaultChunk = 1000

// DefaultPer is the page size the sync asks Primero for: half its
// maximum. A page is held whole while it is decoded (its body, then its
// cases, given up one by one as they are mapped): with the chunks, it is
// most of what the sync holds, whatever the number of cases. Pages of 1000
// (-per 1000) cost about 4 MiB more RSS, which takes a 100,000-case first
// load over 32 MiB, for half the requests (BENCHMARKS.md, "Process RSS").
const DefaultPer = primero.MaxPer / 2

// syncer runs one source's sync: Primero's changed cases → the mapping →
// the dashboard tables, committing the cursor after each chunk.
type syncer struct {
	db     *sqlsink.DB
	state  *sqlsink.DBState // in db: a chunk's cursor commits with its rows
	client *primero.Client
	source string
	pseudo *pseudonymizer // nil: Primero's own ids
	chunk  int
	per    int // page size; 0 means DefaultPer
	prog   *progress
	// afterChunk, when set, runs after each chunk is committed (tests
	// interrupt or change Primero there).
	afterChunk func(chunk int) error

	cases, services *mapping.Mapping
	// casesT and servicesT are the tables with the keying's key type.
	casesT, servicesT sqlsink.Table
	// caseRec is the record a case is read into, and caseRow and
	// serviceRows the records rows maps it into, reused case after case
	// (Case.RecordInto, mapping.ApplyInto): a chunk encodes their values.
	caseRec     mapping.Record
	caseRow     mapping.Record
	serviceRows []mapping.Record
}

// summary is what a sync did.
type summary struct {
	Read                    int      // cases yielded by the feed
	Inserted, Updated       int64    // case rows
	Unchanged               int64    // case rows already as read
	Disabled                int      // disabled cases read (their rows are marked)
	ServicesWritten         int64    // service rows inserted or updated
	ServicesRemoved         int64    // stale service rows deleted
	ServicesWithoutUniqueID int      // services skipped: no key
	Skipped                 int      // cases the mapping or the tables refused (not written)
	SkippedIDs              []string // their record ids, the first 20
	Cursor                  string
}

func (s summary) String() string {
	out := fmt.Sprintf("read %d cases: %d inserted, %d updated, %d unchanged, %d disabled; services: %d written, %d removed; cursor %s",
		s.Read, s.Inserted, s.Updated, s.Unchanged, s.Disabled, s.ServicesWritten, s.ServicesRemoved, orNone(s.Cursor))
	if s.Skipped > 0 {
		out += fmt.Sprintf("; SKIPPED %d cases the mapping or the tables refused (record ids %s)", s.Skipped, strings.Join(s.SkippedIDs, ", "))
	}
	if s.ServicesWithoutUniqueID > 0 {
		out += fmt.Sprintf("; %d services without unique_id skipped", s.ServicesWithoutUniqueID)
	}
	return out
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

// flowName is the state flow of one source.
func flowName(source string) string { return "cpims-dashboard:" + source }

// prepare reads Primero's configuration, writes the locations table and
// compiles the mapping.
func (s *syncer) prepare(ctx context.Context) error {
	s.casesT = withKeyType(casesTable, keyType(s.pseudo))
	s.servicesT = withKeyType(servicesTable, keyType(s.pseudo))
	for _, t := range []sqlsink.Table{s.casesT, s.servicesT, locationsTable} {
		if _, err := s.db.EnsureTable(ctx, t); err != nil {
			return err
		}
	}
	ref, err := loadReference(ctx, s.client)
	if err != nil {
		return err
	}
	if s.cases, s.services, err = compileSpecs(ref); err != nil {
		return err
	}
	_, err = s.db.Upsert(ctx, locationsTable, mapping.FromSlice(ref.locationRows(s.source)))
	return err
}

// run syncs what changed since the stored cursor. The cursor moves only
// over committed chunks; a run stopped at any point is repeated by the next
// one, which converges to the same tables.
func (s *syncer) run(ctx context.Context) (summary, error) {
	var sum summary
	flow := flowName(s.source)
	lock, err := s.state.Lock(ctx, flow)
	if err != nil {
		return sum, err
	}
	defer func() { _ = lock.Release() }()
	if err := s.checkMode(ctx, flow); err != nil {
		return sum, err
	}
	if err := s.prepare(ctx); err != nil {
		return sum, err
	}
	cursor, _, err := s.state.Cursor(ctx, flow)
	if err != nil {
		return sum, err
	}
	since, err := primero.ParseWatermark(cursor)
	if err != nil {
		return sum, fmt.Errorf("the stored cursor of %s: %w", flow, err)
	}
	// No filter on record_state: a disabled case must come through, to be
	// marked.
	per := s.per
	if per == 0 {
		per = DefaultPer
	}
	feed := s.client.Cases.Changes(&primero.ChangesOptions{Since: since, Fields: caseFields, Per: per})
	// The writer does not stop with ctx: on a stop request (or a failed
	// read) the chunks already read are still committed, with their cursor.
	w, err := s.startWriter(context.WithoutCancel(ctx), flow, cursor)
	if err != nil {
		return sum, err
	}
	defer func() { _, _ = w.wait() }() // should the feed panic, the writer still finishes
	ch := w.next()
	var readErr error
	// covered is the watermark over the cases added to chunks so far. The
	// feed's own watermark already covers the case it hands over, which
	// is not in a chunk until add has mapped it.
	covered := since
	for c, err := range feed.All(ctx) {
		if err == nil {
			err = s.add(ctx, ch, c, &sum)
		}
		if err != nil {
			readErr = err
			break
		}
		covered = feed.Watermark()
		sum.Read++
		s.prog.update(sum.Read, feed.Total())
		if ch.cases.Records() >= int64(s.chunk) {
			w.send(ch, covered)
			if ch = w.next(); ch == nil {
				break // a commit failed
			}
		}
	}
	if ch != nil {
		// The rest, and the cursor covering every case added (after a
		// read error too: those cases were read whole). At the feed's end
		// that is every case it yielded, and its watermark may also pass
		// cases it read again and skipped.
		if readErr == nil {
			covered = feed.Watermark()
		}
		w.send(ch, covered)
	}
	wsum, werr := w.wait()
	s.prog.done()
	sum.Inserted, sum.Updated, sum.Unchanged = wsum.Inserted, wsum.Updated, wsum.Unchanged
	sum.ServicesWritten, sum.ServicesRemoved, sum.Cursor = wsum.ServicesWritten, wsum.ServicesRemoved, wsum.Cursor
	return sum, errors.Join(readErr, werr)
}

// chunk holds the rows of the cases read since the last commit, converted
// and encoded for their tables as they are added (sqlsink.Batch): the
// reader does that work, not the writer, and a chunk holds its rows in
// their compact written form.
type chunk struct {
	cases    *sqlsink.Batch
	services *sqlsink.Batch
	keys     []string    // case keys, for the stale service rows
	versions []time.Time // each key's primero_updated_at, as written
}

func (s *syncer) newChunk(ctx context.Context) (*chunk, error) {
	cases, err := s.db.NewBatch(ctx, s.casesT)
	if err != nil {
		return nil, err
	}
	services, err := s.db.NewBatch(ctx, s.servicesT)
	if err != nil {
		return nil, err
	}
	return &chunk{cases: cases, services: services}, nil
}

// reset empties ch for the next chunk, keeping its capacity.
func (ch *chunk) reset() {
	ch.cases.Reset()
	ch.services.Reset()
	clear(ch.keys)
	ch.keys = ch.keys[:0]
	ch.versions = ch.versions[:0]
}

// add maps one case into ch.
func (s *syncer) add(ctx context.Context, ch *chunk, c *primero.Case, sum *summary) error {
	row, services, err := s.rows(ctx, c, sum)
	if err != nil {
		if ctx.Err() != nil {
			return err
		}
		// One case the mapping refuses must not stop the dashboard for
		// every run to come: it is skipped, and named (by its record id)
		// in the summary.
		skip(sum, c)
		return nil
	}
	version, err := rowVersion(row)
	if err != nil {
		return err
	}
	// Parsed once, for the case row, its service rows (which rows leaves
	// without it) and the delete.
	row["primero_updated_at"] = version
	for _, svc := range services {
		svc["case_updated_at"] = version
	}
	// A row the table refuses (a value it cannot hold, such as a date in
	// year 0) is the case's problem, as one the mapping refuses is: the
	// case's rows are taken back from both batches, and it is skipped and
	// named.
	ch.cases.Savepoint()
	ch.services.Savepoint()
	if !addAll(ch, row, services) {
		ch.cases.Rollback()
		ch.services.Rollback()
		skip(sum, c)
		return nil
	}
	ch.keys = append(ch.keys, row["case_key"].(string))
	ch.versions = append(ch.versions, version)
	return nil
}

// addAll adds a case's row and its service rows to the chunk's batches,
// and reports whether the tables took them all (Add refuses a row with a
// *sqlsink.RowError, which names only the column).
func addAll(ch *chunk, row mapping.Record, services []mapping.Record) bool {
	if ch.cases.Add(row) != nil {
		return false
	}
	for _, svc := range services {
		if ch.services.Add(svc) != nil {
			return false
		}
	}
	return true
}

// skip counts a case that is not written and names it (by its record id,
// the first maxSkippedIDs of them) in the summary.
func skip(sum *summary, c *primero.Case) {
	sum.Skipped++
	if len(sum.SkippedIDs) < maxSkippedIDs {
		sum.SkippedIDs = append(sum.SkippedIDs, c.ID)
	}
}

// rowVersion is a case row's primero_updated_at as the cases table holds
// it: the mapping writes it as RFC 3339 text, the table keeps the instant
// to the microsecond.
func rowVersion(row mapping.Record) (time.Time, error) {
	s, _ := row["primero_updated_at"].(string)
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, errors.New("the cases mapping gives primero_updated_at in another form than RFC 3339")
	}
	return t.UTC().Truncate(time.Microsecond), nil
}

// maxSkippedIDs bounds the record ids a summary lists.
const maxSkippedIDs = 20

// rows maps one case into its row and its service rows, all or nothing;
// add sets the service rows' case_updated_at. They are s's reused records:
// valid until the next call.
func (s *syncer) rows(ctx context.Context, c *primero.Case, sum *summary) (mapping.Record, []mapping.Record, error) {
	if c.CaseID == "" {
		return nil, nil, errors.New("no case_id")
	}
	s.caseRec = c.RecordInto(s.caseRec) // the feed never yields this case again
	rec := s.caseRec
	row, err := s.cases.ApplyInto(ctx, s.caseRow, rec)
	s.caseRow = row
	if err != nil {
		return nil, nil, err
	}
	key := s.pseudo.key("case", s.source, c.CaseID)
	row["source"], row["case_key"] = s.source, key
	if row["enabled"] == false {
		sum.Disabled++
		return row, nil, nil // a disabled case keeps no service rows
	}
	svcs, _ := rec["services_section"].([]any)
	out := s.serviceRows[:0]
	for _, v := range svcs {
		m, ok := v.(map[string]any)
		if !ok {
			continue
		}
		uid, _ := m["unique_id"].(string)
		if uid == "" {
			sum.ServicesWithoutUniqueID++
			continue
		}
		// The record the previous case mapped its service at this index
		// into, if it had that many: out's backing array still holds it.
		var reuse mapping.Record
		if n := len(out); n < cap(out) {
			reuse = out[:n+1][n]
		}
		srow, err := s.services.ApplyInto(ctx, reuse, m)
		if err != nil {
			return nil, nil, err
		}
		srow["source"], srow["case_key"] = s.source, key
		srow["service_key"] = s.pseudo.key("service", s.source, uid)
		out = append(out, srow)
	}
	s.serviceRows = out
	return row, out, nil
}

// commit writes the chunk's cases and services, deletes the service rows
// its cases no longer have and stores the cursor covering it, in one
// transaction: a reader of the tables never sees a case without its
// services, and the cursor never passes rows that are not there (a crash
// leaves all of the chunk to the next run, which writes it again).
func (s *syncer) commit(ctx context.Context, flow string, ch *chunk, wm primero.Watermark, sum *summary) error {
	n := ch.cases.Records()
	moves := !wm.IsZero() && wm.String() != sum.Cursor
	if n == 0 && !moves {
		ch.reset()
		return nil
	}
	var cases, services sqlsink.Stats
	var removed int64
	err := s.db.InTx(ctx, func(tx *sqlsink.Tx) error {
		var err error
		if cases, err = tx.Write(ctx, ch.cases); err != nil {
			return err
		}
		if services, err = tx.Write(ctx, ch.services); err != nil {
			return err
		}
		// When every case of the chunk is new (no key repeated, none
		// there before), none has service rows but this chunk's: a case's
		// services are written with it. Nothing can be stale, and a first
		// load skips the delete.
		if cases.Inserted < n {
			if removed, err = s.deleteStale(ctx, tx, ch.keys, ch.versions); err != nil {
				return err
			}
		}
		if !moves {
			return nil
		}
		return s.state.UpdateIn(ctx, tx, flow, func(st sqlsink.StateTx) error {
			return st.SetCursor(ctx, wm.String())
		})
	})
	if err != nil {
		return err
	}
	sum.Inserted += cases.Inserted
	sum.Updated += cases.Updated
	sum.Unchanged += cases.Skipped + cases.Duplicates
	sum.ServicesWritten += services.Inserted + services.Updated
	sum.ServicesRemoved += removed
	if moves {
		sum.Cursor = wm.String()
	}
	ch.reset()
	return nil
}
