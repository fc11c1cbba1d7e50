package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/casebridge/casebridge/internal/pgtest"
	"github.com/casebridge/casebridge/primero"
	"github.com/casebridge/casebridge/primero/primerotest"
	"github.com/casebridge/casebridge/sqlsink"
)

// heapSampler records, while it runs, the peak of the heap's objects
// (live and not yet collected: what the process must hold) and the peak
// of the live heap as the last collection found it.
type heapSampler struct {
	peak, live atomic.Uint64
	stop       chan struct{}
	done       chan struct{}
}

// heapMetrics are what heapSampler reads: the heap's objects and its live
// part.
var heapMetrics = []string{"/memory/classes/heap/objects:bytes", "/gc/heap/live:bytes"}

func readHeap() (objects, live uint64) {
	s := []metrics.Sample{{Name: heapMetrics[0]}, {Name: heapMetrics[1]}}
	metrics.Read(s)
	return s[0].Value.Uint64(), s[1].Value.Uint64()
}

// sampleHeap starts a heapSampler. With a profile path, it also writes
// the heap profile there whenever the live heap reaches a new peak (at
// most every 200 ms): the profile of the peak, to see what holds it.
func sampleHeap(profile string) *heapSampler {
	h := &heapSampler{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(h.done)
		t := time.NewTicker(2 * time.Millisecond)
		defer t.Stop()
		var written time.Time
		for {
			objects, live := readHeap()
			if objects > h.peak.Load() {
				h.peak.Store(objects)
			}
			if live > h.live.Load() {
				h.live.Store(live)
				if profile != "" && time.Since(written) > 200*time.Millisecond {
					writeHeapProfile(profile)
					written = time.Now()
				}
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

// writeHeapProfile writes the heap profile (as of the last collection)
// to path, replacing it; a failure only loses the profile.
func writeHeapProfile(path string) {
	f, err := os.Create(path)
	if err != nil {
		return
	}
	_ = pprof.Lookup("heap").WriteTo(f, 0)
	_ = f.Close()
}

func (h *heapSampler) end() (peak, live uint64) {
	close(h.stop)
	<-h.done
	return h.peak.Load(), h.live.Load()
}

// measured is one timed run.
type measured struct {
	d     time.Duration
	alloc uint64        // bytes allocated by the whole process (fake included)
	peak  uint64        // peak heap objects (live or not yet collected) above the live heap before the run
	live  uint64        // peak live heap (as of the last collection) above the live heap before the run
	cpu   time.Duration // CPU time of this process (fake included, when in process)
	pg    time.Duration // CPU time of every PostgreSQL process on the machine
}

// measure runs fn once and measures it. With CASEBRIDGE_BENCH_HEAPPROFILE
// set to a directory, the heap profile at fn's live-heap peak is left in
// it as <name>.heap, e.g. flow-first-load-100000.heap (go tool pprof
// -sample_index=inuse_space).
func measure(b *testing.B, name string, fn func() error) measured {
	b.Helper()
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, base := readHeap() // just collected: every object left is live
	profile := ""
	if dir := os.Getenv("CASEBRIDGE_BENCH_HEAPPROFILE"); dir != "" {
		profile = filepath.Join(dir, name+".heap")
	}
	h := sampleHeap(profile)
	start := time.Now()
	cpu, pg := processCPU(), postgresCPU()
	err := fn()
	d := time.Since(start)
	cpu, pg = processCPU()-cpu, postgresCPU()-pg
	peak, live := h.end()
	runtime.ReadMemStats(&after)
	require.NoError(b, err)
	above := func(v uint64) uint64 { return v - min(v, base) }
	return measured{d: d, alloc: after.TotalAlloc - before.TotalAlloc, peak: above(peak), live: above(live), cpu: cpu, pg: pg}
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
// the same cases with other values (every row changes), started when a
// scenario first needs it (a first-load run holds one data set). The fakes
// run in this process, or, with CASEBRIDGE_BENCH_FAKE=process, each in a
// child process (fakeProcess), so that the heap figures are the sync's
// alone.
type benchEnv struct {
	n       int
	urls    [2]string // by variant: the first-load data, the changed data
	clients [2]*primero.Client
	ref     *floorRef
	stops   []func()
}

// fakeOutOfProcess reports whether CASEBRIDGE_BENCH_FAKE=process.
func fakeOutOfProcess() bool { return os.Getenv("CASEBRIDGE_BENCH_FAKE") == "process" }

func newBenchEnv(b *testing.B, n int) *benchEnv {
	e := &benchEnv{n: n}
	e.start(b, 0)
	var err error
	e.ref, err = loadFloorRef(context.Background(), e.clients[0])
	require.NoError(b, err)
	return e
}

// source returns the URL and a client of the fake holding variant,
// starting it when needed.
func (e *benchEnv) source(b *testing.B, variant int) (string, *primero.Client) {
	if e.clients[variant] == nil {
		e.start(b, variant)
	}
	return e.urls[variant], e.clients[variant]
}

func (e *benchEnv) start(b *testing.B, variant int) {
	if fakeOutOfProcess() {
		u, stop, err := fakeProcess(e.n, variant)
		require.NoError(b, err)
		e.urls[variant] = u
		e.stops = append(e.stops, stop)
	} else {
		// Stamps 100 ms apart, from a fixed instant: the cases spread over
		// time as real ones do, not all in the newest second.
		s, err := primerotest.Start(fakeOptions(primerotest.WithClock(benchClock()))...)
		require.NoError(b, err)
		seedLookups(s)
		seedVariant(s, 0, e.n, variant)
		e.urls[variant] = s.URL()
		e.stops = append(e.stops, s.Close)
	}
	c, err := primero.New(e.urls[variant], primero.WithBasicAuth(primerotest.DefaultUser, primerotest.DefaultPassword))
	require.NoError(b, err)
	e.clients[variant] = c
	// The fake renders a case once per fields selection and keeps it: read
	// every page once, untimed, so that whichever of flow and floor goes
	// first does not pay the rendering for both.
	require.NoError(b, fetchOnly(context.Background(), e.urls[variant]))
}

// close stops the fakes, releasing their cases before the next size.
func (e *benchEnv) close() {
	for _, stop := range e.stops {
		stop()
	}
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
	s := &syncer{db: f.db, state: f.state, client: c, source: "primero", chunk: benchChunk(), prog: newProgress(nil)}
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
// process: with the fake in it, its share is included, and fetch-only
// gives it), the peak of the heap's objects (peakΔ: live or not yet
// collected) and of the live heap (liveΔ), each above the live heap before
// the run, the CPU each used per 1000 cases, of this process (cpu, the
// fake's share included when it runs here) and of PostgreSQL's processes
// (pgcpu), and flow/floor, the ratio of their times. CASEBRIDGE_BENCH_CHUNK
// sets the flow's chunk (default DefaultChunk).
//
//	go test -run '^$' -bench BenchmarkSync -benchtime 3x ./examples/cpims-dashboard/
//	CASEBRIDGE_BENCH_FAKE=process CASEBRIDGE_BENCH_SIZES=100000,1000000 go test -run '^$' -bench 'BenchmarkSync/first-load' -benchtime 1x -timeout 2h ./examples/cpims-dashboard/
//
// By default the fakes run in this process: their per-case memory (every
// case twice, the first-load data and the changed data, and what they
// render) is in the heap the run starts from, their rendered pages and
// the garbage the collector lets pile up in proportion to them in the
// peaks. The heap figures measure the fake as much as the sync then. With
// CASEBRIDGE_BENCH_FAKE=process each fake runs in a child process of the
// test binary (TestServeForRSS), and the heap figures are the sync's own:
// use that for the peak heap at 100,000 and 1,000,000 cases.
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
					firstURL, first := e.source(b, 0)
					if scenario != "first-load" { // load first, untimed
						_, err := fdb.sync(ctx, first)
						require.NoError(b, err)
						_, err = floorSync(ctx, firstURL, pdsn, e.ref)
						require.NoError(b, err)
						require.NoError(b, fdb.forget(ctx))
					}
					srcURL, src := firstURL, first
					if scenario == "resync-changed" {
						srcURL, src = e.source(b, 1)
					}
					b.StartTimer()
					runFlow := func() measured {
						return measure(b, fmt.Sprintf("flow-%s-%d", scenario, n), func() error {
							got, err := fdb.sync(ctx, src)
							if err == nil && got < n {
								err = fmt.Errorf("flow read %d cases, want %d", got, n)
							}
							return err
						})
					}
					runFloor := func() measured {
						return measure(b, fmt.Sprintf("floor-%s-%d", scenario, n), func() error {
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
					flow.cpu += m.cpu
					flow.pg += m.pg
					floor.cpu += p.cpu
					floor.pg += p.pg
					flow.live = max(flow.live, m.live)
					floor.live = max(floor.live, p.live)
					iters++
				}
				cases := float64(n * iters)
				b.ReportMetric(cases/flow.d.Seconds(), "flow-cases/s")
				b.ReportMetric(cases/floor.d.Seconds(), "floor-cases/s")
				b.ReportMetric(float64(flow.alloc)/cases, "flow-B/case")
				b.ReportMetric(float64(floor.alloc)/cases, "floor-B/case")
				b.ReportMetric(float64(flow.peak)/(1<<20), "flow-peakΔ-MiB")
				b.ReportMetric(float64(floor.peak)/(1<<20), "floor-peakΔ-MiB")
				b.ReportMetric(float64(flow.live)/(1<<20), "flow-liveΔ-MiB")
				b.ReportMetric(float64(floor.live)/(1<<20), "floor-liveΔ-MiB")
				kcases := cases / 1000
				b.ReportMetric(float64(flow.cpu.Milliseconds())/kcases, "flow-cpu-ms/kcase")
				b.ReportMetric(float64(floor.cpu.Milliseconds())/kcases, "floor-cpu-ms/kcase")
				b.ReportMetric(float64(flow.pg.Milliseconds())/kcases, "flow-pgcpu-ms/kcase")
				b.ReportMetric(float64(floor.pg.Milliseconds())/kcases, "floor-pgcpu-ms/kcase")
				b.ReportMetric(flow.d.Seconds()/floor.d.Seconds(), "flow/floor")
			})
		}
		// The fake's own share: fetching the same pages and discarding them.
		b.Run(fmt.Sprintf("fetch-only/cases=%d", n), func(b *testing.B) {
			for b.Loop() {
				m := measure(b, fmt.Sprintf("fetch-only-%d", n), func() error { return fetchOnly(context.Background(), e.urls[0]) })
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

// benchChunk is the flow's chunk: DefaultChunk, or CASEBRIDGE_BENCH_CHUNK.
func benchChunk() int {
	if n, err := strconv.Atoi(os.Getenv("CASEBRIDGE_BENCH_CHUNK")); err == nil && n > 0 {
		return n
	}
	return DefaultChunk
}

// processCPU is the CPU time this process has used.
func processCPU() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// postgresCPU is the CPU time every process named postgres on the machine
// has used (from /proc; 0 where there is none): the database's share of a
// sync, along with whatever else the machine's servers did meanwhile.
func postgresCPU() time.Duration {
	var ticks int64
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...: utime and stime are the 14th and
		// 15th fields, the 12th and 13th after the command.
		s := string(b)
		end := strings.LastIndexByte(s, ')')
		if end < 0 || !strings.Contains(s[:end], "(postgres") {
			continue
		}
		f := strings.Fields(s[end+1:])
		if len(f) < 13 {
			continue
		}
		u, _ := strconv.ParseInt(f[11], 10, 64)
		st, _ := strconv.ParseInt(f[12], 10, 64)
		ticks += u + st
	}
	return time.Duration(ticks) * 10 * time.Millisecond // USER_HZ is 100 on Linux
}
