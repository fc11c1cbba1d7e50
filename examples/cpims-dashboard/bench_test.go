package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/casebridge/casebridge/internal/pgtest"
	"github.com/casebridge/casebridge/primero"
	"github.com/casebridge/casebridge/primero/primerotest"
	"github.com/casebridge/casebridge/sqlsink"
)

// heapSampler records the peak of live heap objects while it runs.
type heapSampler struct {
	peak atomic.Uint64
	stop chan struct{}
	done chan struct{}
}

func sampleHeap() *heapSampler {
	h := &heapSampler{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(h.done)
		s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
		t := time.NewTicker(2 * time.Millisecond)
		defer t.Stop()
		for {
			metrics.Read(s)
			if v := s[0].Value.Uint64(); v > h.peak.Load() {
				h.peak.Store(v)
			}
			select {
			case <-h.stop:
				return
			case <-t.C:
			}
		}
	}()
	return h
}

func (h *heapSampler) end() uint64 { close(h.stop); <-h.done; return h.peak.Load() }

// measured is one timed run.
type measured struct {
	d     time.Duration
	alloc uint64 // bytes allocated by the whole process (fake included)
	peak  uint64 // peak live heap above the heap live before the run (the fake's transient share included)
}

func measure(b *testing.B, fn func() error) measured {
	b.Helper()
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	h := sampleHeap()
	start := time.Now()
	err := fn()
	d := time.Since(start)
	peak := h.end()
	runtime.ReadMemStats(&after)
	require.NoError(b, err)
	if peak > before.HeapAlloc {
		peak -= before.HeapAlloc
	} else {
		peak = 0
	}
	return measured{d: d, alloc: after.TotalAlloc - before.TotalAlloc, peak: peak}
}

// benchSizes are the numbers of cases: 10,000; 10,000, 100,000 and
// 1,000,000 with CASEBRIDGE_BENCH_LARGE=1; or the comma-separated list in
// CASEBRIDGE_BENCH_SIZES (e.g. 100000).
func benchSizes() []int {
	if v := os.Getenv("CASEBRIDGE_BENCH_SIZES"); v != "" {
		var out []int
		for f := range strings.SplitSeq(v, ",") {
			if n, err := strconv.Atoi(strings.TrimSpace(f)); err == nil && n > 0 {
				out = append(out, n)
			}
		}
		if len(out) > 0 {
			return out
		}
	}
	if os.Getenv("CASEBRIDGE_BENCH_LARGE") == "1" {
		return []int{10_000, 100_000, 1_000_000}
	}
	return []int{10_000}
}

// benchEnv is one size's data: a fake for the first load and one holding
// the same cases with other values (every row changes).
type benchEnv struct {
	n               int
	fake, changed   *primerotest.Server
	client, client2 *primero.Client
	ref             *floorRef
}

func newBenchEnv(b *testing.B, n int) *benchEnv {
	e := &benchEnv{n: n}
	// Stamps 100 ms apart, from a fixed instant: the cases spread over time
	// as real ones do, not all in the newest second.
	var err error
	e.fake, err = primerotest.Start(fakeOptions(primerotest.WithClock(benchClock()))...)
	require.NoError(b, err)
	e.changed, err = primerotest.Start(fakeOptions(primerotest.WithClock(benchClock()))...)
	require.NoError(b, err)
	for _, s := range []*primerotest.Server{e.fake, e.changed} {
		seedLookups(s)
	}
	seedCases(e.fake, 0, n)
	seedVariant(e.changed, 0, n, 1)
	e.client, err = primero.New(e.fake.URL(), primero.WithBasicAuth(primerotest.DefaultUser, primerotest.DefaultPassword))
	require.NoError(b, err)
	e.client2, err = primero.New(e.changed.URL(), primero.WithBasicAuth(primerotest.DefaultUser, primerotest.DefaultPassword))
	require.NoError(b, err)
	e.ref, err = loadFloorRef(context.Background(), e.client)
	require.NoError(b, err)
	return e
}

// close stops both fakes, releasing their cases before the next size.
func (e *benchEnv) close() {
	e.fake.Close()
	e.changed.Close()
}

// benchClock moves 100 ms at every reading.
func benchClock() func() time.Time {
	var mu sync.Mutex
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	return func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		now = now.Add(100 * time.Millisecond)
		return now
	}
}

// flowDB is a dashboard database for the flow (casebridge).
type flowDB struct {
	db    *sqlsink.DB
	state *sqlsink.DBState
}

func openFlowDB(b testing.TB, dsn string) *flowDB {
	db, err := sqlsink.Open(context.Background(), dsn)
	require.NoError(b, err)
	b.Cleanup(func() { _ = db.Close() })
	st, err := sqlsink.NewDBState(db)
	require.NoError(b, err)
	return &flowDB{db: db, state: st}
}

func (f *flowDB) sync(ctx context.Context, c *primero.Client) (int, error) {
	s := &syncer{db: f.db, state: f.state, client: c, source: "primero", chunk: DefaultChunk, prog: newProgress(nil)}
	sum, err := s.run(ctx)
	return sum.Read, err
}

// forget resets the flow's cursor, so that the next sync reads every case.
func (f *flowDB) forget(ctx context.Context) error {
	return f.state.Update(ctx, flowName("primero"), func(tx sqlsink.StateTx) error {
		return tx.SetCursor(ctx, "1970-01-01T00:00:00Z")
	})
}

// floorDB creates the dashboard tables for the floor.
func floorDB(b testing.TB) string {
	dsn := pgtest.DSN(b)
	db, err := sqlsink.Open(context.Background(), dsn)
	require.NoError(b, err)
	defer db.Close()
	for _, t := range []sqlsink.Table{withKeyType(casesTable, keyType(nil)), withKeyType(servicesTable, keyType(nil))} {
		_, err := db.EnsureTable(context.Background(), t)
		require.NoError(b, err)
	}
	return dsn
}

// BenchmarkSync measures the dashboard flow and the floor client in the
// same run, on the same data, from the fake into PostgreSQL: a first load,
// a re-sync where every row changes, and one where no row does (every case
// read again). Metrics: cases/s and B/case of each (B/case counts the whole
// process, so it includes the in-process fake's share: fetch-only gives
// it), the peak live heap above the heap before the run, and flow/floor,
// the ratio of their times.
//
//	go test -run '^$' -bench BenchmarkSync -benchtime 3x ./examples/cpims-dashboard/
//	CASEBRIDGE_BENCH_LARGE=1 go test -run '^$' -bench BenchmarkSync -benchtime 1x -timeout 4h ./examples/cpims-dashboard/
//
// The fake runs in the same process and holds every case twice (the
// first-load data and the changed data) in memory: at 1,000,000 cases it
// needs several GiB, and it sorts the whole set for every page requested
// by last_updated_at, so the large run measures the fake as much as the
// flow. Process RSS is therefore not reported here; measure it with the
// fake out of process (cmd/casebridge-fakes).
func BenchmarkSync(b *testing.B) {
	for _, n := range benchSizes() {
		e := newBenchEnv(b, n)
		for _, scenario := range []string{"first-load", "resync-changed", "resync-unchanged"} {
			b.Run(fmt.Sprintf("%s/cases=%d", scenario, n), func(b *testing.B) {
				ctx := context.Background()
				var flow, floor measured
				iters := 0
				for b.Loop() {
					b.StopTimer()
					fdb := openFlowDB(b, pgtest.DSN(b))
					pdsn := floorDB(b)
					if scenario != "first-load" { // load first, untimed
						_, err := fdb.sync(ctx, e.client)
						require.NoError(b, err)
						_, err = floorSync(ctx, e.fake.URL(), pdsn, e.ref)
						require.NoError(b, err)
						require.NoError(b, fdb.forget(ctx))
					}
					src, srcURL := e.client, e.fake.URL()
					if scenario == "resync-changed" {
						src, srcURL = e.client2, e.changed.URL()
					}
					b.StartTimer()
					runFlow := func() measured {
						return measure(b, func() error {
							got, err := fdb.sync(ctx, src)
							if err == nil && got < n {
								err = fmt.Errorf("flow read %d cases, want %d", got, n)
							}
							return err
						})
					}
					runFloor := func() measured {
						return measure(b, func() error {
							got, err := floorSync(ctx, srcURL, pdsn, e.ref)
							if err == nil && got != n {
								err = fmt.Errorf("floor read %d cases, want %d", got, n)
							}
							return err
						})
					}
					// They take turns going first, so that neither is always
					// the one a warmer cache or a load swing favours.
					var m, p measured
					if iters%2 == 0 {
						m, p = runFlow(), runFloor()
					} else {
						p, m = runFloor(), runFlow()
					}
					flow.d += m.d
					flow.alloc += m.alloc
					flow.peak = max(flow.peak, m.peak)
					floor.d += p.d
					floor.alloc += p.alloc
					floor.peak = max(floor.peak, p.peak)
					iters++
				}
				cases := float64(n * iters)
				b.ReportMetric(cases/flow.d.Seconds(), "flow-cases/s")
				b.ReportMetric(cases/floor.d.Seconds(), "floor-cases/s")
				b.ReportMetric(float64(flow.alloc)/cases, "flow-B/case")
				b.ReportMetric(float64(floor.alloc)/cases, "floor-B/case")
				b.ReportMetric(float64(flow.peak)/(1<<20), "flow-peakΔ-MiB")
				b.ReportMetric(float64(floor.peak)/(1<<20), "floor-peakΔ-MiB")
				b.ReportMetric(flow.d.Seconds()/floor.d.Seconds(), "flow/floor")
			})
		}
		// The fake's own share: fetching the same pages and discarding them.
		b.Run(fmt.Sprintf("fetch-only/cases=%d", n), func(b *testing.B) {
			for b.Loop() {
				m := measure(b, func() error { return fetchOnly(context.Background(), e.fake.URL()) })
				b.ReportMetric(float64(n)/m.d.Seconds(), "cases/s")
				b.ReportMetric(float64(m.alloc)/float64(n), "B/case")
			}
		})
		e.close()
	}
}

// fetchOnly requests every page the floor requests and discards the bodies.
func fetchOnly(ctx context.Context, baseURL string) error {
	var total int
	for page := 1; ; page++ {
		resp, err := floorGet(ctx, baseURL, page)
		if err != nil {
			return err
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			return err
		}
		if page == 1 { // the metadata closes the body: {"total":N,...
			tail := string(body[strings.LastIndex(string(body), `"total":`)+len(`"total":`):])
			if total, err = strconv.Atoi(tail[:strings.IndexAny(tail, ",}")]); err != nil {
				return err
			}
		}
		if page*1000 >= total {
			return nil
		}
	}
}

// TestFloorAndFlowProduceTheSameTables checks that the benchmark compares
// like with like: the floor client and the flow leave the same rows, on a
// first load and on a re-sync where every row changes.
func TestFloorAndFlowProduceTheSameTables(t *testing.T) {
	ctx := context.Background()
	fake, changed := newFake(t, 150), primerotest.NewServer(t, fakeOptions()...)
	seedLookups(changed)
	seedVariant(changed, 0, 150, 1)
	c, err := primero.New(fake.URL(), primero.WithBasicAuth(primerotest.DefaultUser, primerotest.DefaultPassword))
	require.NoError(t, err)
	c2, err := primero.New(changed.URL(), primero.WithBasicAuth(primerotest.DefaultUser, primerotest.DefaultPassword))
	require.NoError(t, err)
	ref, err := loadFloorRef(ctx, c)
	require.NoError(t, err)

	flowDSN := pgtest.DSN(t)
	fdb := openFlowDB(t, flowDSN)
	floorDSN := floorDB(t)
	for _, step := range []struct {
		c   *primero.Client
		url string
	}{{c, fake.URL()}, {c2, changed.URL()}} {
		n, err := fdb.sync(ctx, step.c)
		require.NoError(t, err)
		require.Equal(t, 150, n)
		require.NoError(t, fdb.forget(ctx))
		n, err = floorSync(ctx, step.url, floorDSN, ref)
		require.NoError(t, err)
		require.Equal(t, 150, n)
		assertSameRows(t, rows(t, flowDSN, "cases"), rows(t, floorDSN, "cases"))
		assertSameRows(t, rows(t, flowDSN, "services"), rows(t, floorDSN, "services"))
	}
}
