package sqlsink

import (
	"context"
	"fmt"
	"iter"
	"runtime"
	"testing"
	"time"

	"github.com/casebridge/casebridge/internal/race"
	"github.com/casebridge/casebridge/mapping"
	"github.com/jackc/pgx/v5"
)

// benchTable has ten columns of mixed types, keyed by id.
func benchTable(name string) Table {
	return Table{
		Name: name,
		Columns: []Column{
			{Name: "id", Type: Text},
			{Name: "seq", Type: Integer},
			{Name: "age", Type: Integer},
			{Name: "score", Type: Float},
			{Name: "weight", Type: Float},
			{Name: "name", Type: Text},
			{Name: "district", Type: Text},
			{Name: "consent", Type: Bool},
			{Name: "born", Type: Date},
			{Name: "updated_at", Type: Timestamp},
		},
		Key: []string{"id"},
	}
}

var benchEpoch = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

// benchRecords yields n synthetic ten-field records, generated on the fly
// (nothing is kept): version changes every non-key value.
func benchRecords(n, version int) iter.Seq2[mapping.Record, error] {
	return func(yield func(mapping.Record, error) bool) {
		for i := range n {
			rec := mapping.Record{
				"id":         fmt.Sprintf("child-%07d", i),
				"seq":        int64(i),
				"age":        int64((i + version) % 18),
				"score":      float64(i%1000)/8 + float64(version),
				"weight":     float64(20 + (i+version)%60),
				"name":       fmt.Sprintf("Test Name %d v%d", i, version),
				"district":   fmt.Sprintf("district-%02d", (i+version)%25),
				"consent":    (i+version)%2 == 0,
				"born":       benchEpoch.AddDate(-(i % 18), 0, -version),
				"updated_at": benchEpoch.Add(time.Duration(i+version) * time.Second),
			}
			if !yield(rec, nil) {
				return
			}
		}
	}
}

// rawCopy loads the records with pgx CopyFrom straight into table: the
// baseline, with only the type assertions a hand-written loader needs.
func rawCopy(ctx context.Context, db *DB, tbl Table, recs iter.Seq2[mapping.Record, error]) (int64, error) {
	cols := make([]string, len(tbl.Columns))
	for i, c := range tbl.Columns {
		cols[i] = c.Name
	}
	next, stop := iter.Pull2(recs)
	defer stop()
	row := make([]any, len(cols))
	src := pgx.CopyFromFunc(func() ([]any, error) {
		rec, err, ok := next()
		if !ok || err != nil {
			return nil, err
		}
		for i, c := range cols {
			row[i] = rec[c]
		}
		return row, nil
	})
	return db.pool.CopyFrom(ctx, pgx.Identifier{tbl.Name}, cols, src)
}

func resetTable(b *testing.B, db *DB, tbl Table) {
	b.Helper()
	ctx := context.Background()
	if _, err := db.SQL().ExecContext(ctx, "DROP TABLE IF EXISTS "+quoteIdent(tbl.Name)); err != nil {
		b.Fatal(err)
	}
	if _, err := db.EnsureTable(ctx, tbl); err != nil {
		b.Fatal(err)
	}
	// Start each run from a clean WAL position so runs compare.
	if _, err := db.SQL().ExecContext(ctx, "CHECKPOINT"); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkUpsertPostgres loads 100,000 ten-column rows into an empty
// table with raw pgx CopyFrom and with Upsert, then re-loads them with
// every row changed (all updates). Metrics: rows/s of each, and the
// Upsert/COPY ratio for the first load (target ≥ 0.6).
//
//	go test -run '^$' -bench UpsertPostgres -benchtime 5x ./sqlsink/
func BenchmarkUpsertPostgres(b *testing.B) {
	for _, size := range []int{DefaultBatchSize} {
		b.Run(fmt.Sprintf("batch=%d", size), func(b *testing.B) { benchUpsert(b, size) })
	}
}

// BenchmarkUpsertPostgresBatchSizes compares batch sizes (for tuning).
func BenchmarkUpsertPostgresBatchSizes(b *testing.B) {
	for _, size := range []int{1000, 5000, 20000, 100000} {
		b.Run(fmt.Sprintf("batch=%d", size), func(b *testing.B) { benchUpsert(b, size) })
	}
}

func benchUpsert(b *testing.B, batchSize int) {
	const n = 100_000
	ctx := context.Background()
	db := testPostgres(b)
	raw, up := benchTable("bench_copy"), benchTable("bench_upsert")
	var copyDur, firstDur, reloadDur time.Duration
	for b.Loop() {
		b.StopTimer()
		resetTable(b, db, raw)
		resetTable(b, db, up)
		b.StartTimer()

		start := time.Now()
		copied, err := rawCopy(ctx, db, raw, benchRecords(n, 0))
		copyDur += time.Since(start)
		if err != nil || copied != n {
			b.Fatalf("raw copy: %d rows, %v", copied, err)
		}

		start = time.Now()
		st, err := db.Upsert(ctx, up, benchRecords(n, 0), BatchSize(batchSize))
		firstDur += time.Since(start)
		if err != nil || st.Inserted != n {
			b.Fatalf("upsert: %+v, %v", st, err)
		}

		start = time.Now()
		st, err = db.Upsert(ctx, up, benchRecords(n, 1), BatchSize(batchSize))
		reloadDur += time.Since(start)
		if err != nil || st.Updated != n {
			b.Fatalf("reload: %+v, %v", st, err)
		}
	}
	runs := float64(b.N) * n
	b.ReportMetric(runs/copyDur.Seconds(), "copy_rows/s")
	b.ReportMetric(runs/firstDur.Seconds(), "upsert_rows/s")
	b.ReportMetric(copyDur.Seconds()/firstDur.Seconds(), "upsert/copy")
	b.ReportMetric(runs/reloadDur.Seconds(), "reload_rows/s")
	b.ReportMetric(0, "ns/op") // the per-op time mixes three loads; see the rates
}

// BenchmarkUpsertSQLite loads 100,000 ten-column rows into an empty
// in-memory SQLite table, then re-loads them all changed.
func BenchmarkUpsertSQLite(b *testing.B) {
	const n = 100_000
	ctx := context.Background()
	db := testSQLite(b)
	tbl := benchTable("bench_upsert")
	var firstDur, reloadDur time.Duration
	for b.Loop() {
		b.StopTimer()
		if _, err := db.SQL().ExecContext(ctx, "DROP TABLE IF EXISTS "+quoteIdent(tbl.Name)); err != nil {
			b.Fatal(err)
		}
		if _, err := db.EnsureTable(ctx, tbl); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		start := time.Now()
		if _, err := db.Upsert(ctx, tbl, benchRecords(n, 0)); err != nil {
			b.Fatal(err)
		}
		firstDur += time.Since(start)
		start = time.Now()
		if _, err := db.Upsert(ctx, tbl, benchRecords(n, 1)); err != nil {
			b.Fatal(err)
		}
		reloadDur += time.Since(start)
	}
	runs := float64(b.N) * n
	b.ReportMetric(runs/firstDur.Seconds(), "upsert_rows/s")
	b.ReportMetric(runs/reloadDur.Seconds(), "reload_rows/s")
	b.ReportMetric(0, "ns/op")
}

// peakUpsertHeap upserts n generated rows and returns the largest live
// heap above the starting baseline, sampled (after a GC) while the rows
// stream in.
func peakUpsertHeap(t *testing.T, db *DB, tbl Table, n int) uint64 {
	t.Helper()
	ctx := context.Background()
	var ms runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms)
	base := ms.HeapAlloc
	var peak uint64
	every := 1000
	src := func(yield func(mapping.Record, error) bool) {
		i := 0
		for rec, err := range benchRecords(n, 0) {
			i++
			if i%every == 0 {
				runtime.GC()
				runtime.ReadMemStats(&ms)
				if ms.HeapAlloc > base && ms.HeapAlloc-base > peak {
					peak = ms.HeapAlloc - base
				}
			}
			if !yield(rec, err) {
				return
			}
		}
	}
	st, err := db.Upsert(ctx, tbl, src)
	if err != nil {
		t.Fatal(err)
	}
	if st.Inserted != int64(n) {
		t.Fatalf("inserted %d rows, want %d", st.Inserted, n)
	}
	return peak
}

// Streaming ten times more rows must not hold more memory: the heap holds
// one batch at a time, never the whole sequence.
func TestUpsertHeapDoesNotGrowWithRowCount(t *testing.T) {
	if testing.Short() {
		t.Skip("upserts 220,000 rows per dialect")
	}
	if race.Enabled {
		t.Skip("heap figures are distorted under -race; .ci/run runs this test without it")
	}
	forEachDialect(t, func(t *testing.T, db *DB) {
		small, large := benchTable("heap_small"), benchTable("heap_large")
		ensure(t, db, small)
		ensure(t, db, large)
		s := peakUpsertHeap(t, db, small, 20_000)
		l := peakUpsertHeap(t, db, large, 200_000)
		t.Logf("peak live heap during upsert: 20k rows %d KiB, 200k rows %d KiB", s/1024, l/1024)
		// Ten times the rows: allow twice the small peak plus 2 MiB of noise.
		if limit := 2*s + 2<<20; l > limit {
			t.Fatalf("peak heap grew with the number of rows: %d bytes for 200k vs %d for 20k", l, s)
		}
	})
}
