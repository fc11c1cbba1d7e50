package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"runtime"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/casebridge/casebridge/internal/pgtest"
	"github.com/casebridge/casebridge/primero"
	"github.com/casebridge/casebridge/primero/primerotest"
	"github.com/casebridge/casebridge/sqlsink"
)

// The floor: what a careful hand-written client does for the same flow,
// and the baseline the SDK's flow is measured against. It fetches the same
// pages from the fake (the same query, so that the fake costs both the
// same), decodes only the fields the tables need into a struct, and, on a
// goroutine of its own, COPYs batches of rows into temporary tables, merges
// them with INSERT … ON CONFLICT and deletes stale service rows, one
// transaction per batch. It has no cursor, no resumption, no mapping spec
// and no checks: it is a floor, not a product.

type floorService struct {
	UniqueID                  string `json:"unique_id"`
	ServiceType               string `json:"service_type"`
	ServiceImplemented        string `json:"service_implemented"`
	ServiceImplementedDayTime string `json:"service_implemented_day_time"`
}

type floorCase struct {
	CaseID           string         `json:"case_id"`
	RecordState      *bool          `json:"record_state"`
	Status           string         `json:"status"`
	Age              *int64         `json:"age"`
	Sex              string         `json:"sex"`
	TypeOfCase       string         `json:"type_of_case"`
	PlacementType    string         `json:"placement_type"`
	LocationCurrent  string         `json:"location_current"`
	ConsentReporting any            `json:"consent_reporting"`
	OscarNumber      string         `json:"oscar_number"`
	RegistrationDate string         `json:"registration_date"`
	LastUpdatedAt    string         `json:"last_updated_at"`
	Services         []floorService `json:"services_section"`
}

type floorPage struct {
	Data     []floorCase `json:"data"`
	Metadata struct {
		Total int `json:"total"`
		Per   int `json:"per"`
	} `json:"metadata"`
}

// floorRef is the lookups and location tree, read once.
type floorRef struct {
	labels                   map[string]map[string]string // lookup -> id -> label
	provCode, prov, distCode map[string]string
	dist                     map[string]string
}

func loadFloorRef(ctx context.Context, c *primero.Client) (*floorRef, error) {
	ref, err := loadReference(ctx, c)
	if err != nil {
		return nil, err
	}
	f := &floorRef{labels: map[string]map[string]string{}, provCode: map[string]string{}, prov: map[string]string{},
		distCode: map[string]string{}, dist: map[string]string{}}
	for id, vals := range ref.lookups {
		m := map[string]string{}
		for _, v := range vals {
			m[v.ID] = v.DisplayText["en"]
		}
		f.labels[id] = m
	}
	for _, p := range ref.locations {
		f.provCode[p.loc.Code], f.prov[p.loc.Code] = p.provinceCode, p.province
		f.distCode[p.loc.Code], f.dist[p.loc.Code] = p.districtCode, p.district
	}
	return f, nil
}

func nz(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// floorBatch is one transaction's rows.
type floorBatch struct {
	cases, services [][]any
	keys            []string
}

const floorBatchSize = 5000

var floorCaseCols = []string{"source", "case_key", "enabled", "status", "age", "sex", "sex_label", "case_type",
	"case_type_label", "placement_type", "placement_type_label", "location_code", "province_code", "province",
	"district_code", "district", "consent_for_reporting", "case_source", "registration_date", "primero_updated_at"}

var floorServiceCols = []string{"source", "service_key", "case_key", "service_type", "service_type_label",
	"implemented", "service_date", "case_updated_at"}

// floorSync runs the floor client: Primero at baseURL → PostgreSQL at dsn
// (tables already created). It returns the number of cases read.
func floorSync(ctx context.Context, baseURL, dsn string, ref *floorRef) (int, error) {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return 0, err
	}
	defer conn.Close(ctx)
	for _, t := range []struct {
		name string
		cols []string
	}{{"floor_cases", floorCaseCols}, {"floor_services", floorServiceCols}} {
		src := strings.TrimPrefix(t.name, "floor_")
		if _, err := conn.Exec(ctx, "CREATE TEMP TABLE "+t.name+" (LIKE "+src+") ON COMMIT DELETE ROWS"); err != nil {
			return 0, err
		}
	}
	batches := make(chan floorBatch, 1)
	done := make(chan error, 1)
	go func() { done <- floorWrite(ctx, conn, batches) }()

	n, err := floorFetch(ctx, baseURL, ref, batches)
	close(batches)
	if werr := <-done; err == nil {
		err = werr
	}
	return n, err
}

// floorGet requests one page: every case, oldest change first, the
// fields the flow asks for too.
func floorGet(ctx context.Context, baseURL string, page int) (*http.Response, error) {
	q := url.Values{"per": {"1000"}, "order_by": {"last_updated_at"}, "order": {"asc"}, "page": {strconv.Itoa(page)},
		"last_updated_at": {"1970-01-01T00:00:00Z.."}, "fields": {strings.Join(caseFields, ",")}}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, baseURL+"/api/v2/cases?"+q.Encode(), nil)
	if err != nil {
		return nil, err
	}
	req.SetBasicAuth(primerotest.DefaultUser, primerotest.DefaultPassword)
	return http.DefaultClient.Do(req)
}

func floorFetch(ctx context.Context, baseURL string, ref *floorRef, out chan<- floorBatch) (int, error) {
	var b floorBatch
	n := 0
	for page := 1; ; page++ {
		resp, err := floorGet(ctx, baseURL, page)
		if err != nil {
			return n, err
		}
		var p floorPage
		err = json.NewDecoder(resp.Body).Decode(&p)
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if err != nil {
			return n, err
		}
		for i := range p.Data {
			c := &p.Data[i]
			n++
			floorRows(&b, c, ref)
			if len(b.cases) >= floorBatchSize {
				out <- b
				b = floorBatch{}
			}
		}
		if len(p.Data) == 0 || page*p.Metadata.Per >= p.Metadata.Total {
			break
		}
	}
	if len(b.cases) > 0 {
		out <- b
	}
	return n, nil
}

func floorRows(b *floorBatch, c *floorCase, ref *floorRef) {
	enabled := c.RecordState == nil || *c.RecordState
	var consent any
	switch c.ConsentReporting {
	case "yes", "true", true:
		consent = true
	case "no", "false", false:
		consent = false
	}
	src := "primero"
	if c.OscarNumber != "" {
		src = "oscar"
	}
	var reg any
	if d, err := time.Parse(time.DateOnly, c.RegistrationDate); err == nil {
		reg = d
	}
	updated, _ := time.Parse(time.RFC3339Nano, c.LastUpdatedAt)
	updated = updated.Truncate(time.Microsecond)
	var age any
	if c.Age != nil {
		age = *c.Age
	}
	loc := c.LocationCurrent
	b.cases = append(b.cases, []any{"primero", c.CaseID, enabled, nz(c.Status), age, nz(c.Sex),
		nz(ref.labels["lookup-gender"][c.Sex]), nz(c.TypeOfCase), nz(ref.labels["lookup-case-type"][c.TypeOfCase]),
		nz(c.PlacementType), nz(ref.labels["lookup-placement-type"][c.PlacementType]), nz(loc),
		nz(ref.provCode[loc]), nz(ref.prov[loc]), nz(ref.distCode[loc]), nz(ref.dist[loc]),
		consent, src, reg, updated})
	b.keys = append(b.keys, c.CaseID)
	if !enabled {
		return
	}
	for _, s := range c.Services {
		var date any
		if len(s.ServiceImplementedDayTime) >= 10 {
			if d, err := time.Parse(time.DateOnly, s.ServiceImplementedDayTime[:10]); err == nil {
				date = d
			}
		}
		b.services = append(b.services, []any{"primero", s.UniqueID, c.CaseID, nz(s.ServiceType),
			nz(ref.labels["lookup-service-type"][s.ServiceType]),
			s.ServiceImplemented == "implemented" || s.ServiceImplementedDayTime != "", date, updated})
	}
}

func floorMerge(table string, cols []string, key string) string {
	var set, old, excl []string
	for _, c := range cols {
		if c == "source" || c == key {
			continue
		}
		set = append(set, c+" = EXCLUDED."+c)
		old = append(old, "t."+c)
		excl = append(excl, "EXCLUDED."+c)
	}
	return "INSERT INTO " + table + " AS t SELECT * FROM floor_" + table + " ON CONFLICT (source, " + key + ") DO UPDATE SET " +
		strings.Join(set, ", ") + " WHERE (" + strings.Join(old, ", ") + ") IS DISTINCT FROM (" + strings.Join(excl, ", ") + ")"
}

func floorWrite(ctx context.Context, conn *pgx.Conn, in <-chan floorBatch) error {
	mergeCases := floorMerge("cases", floorCaseCols, "case_key")
	mergeServices := floorMerge("services", floorServiceCols, "service_key")
	var err error
	for b := range in {
		if err != nil {
			continue // drain
		}
		err = pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
			if _, err := tx.CopyFrom(ctx, pgx.Identifier{"floor_cases"}, floorCaseCols, pgx.CopyFromRows(b.cases)); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, mergeCases); err != nil {
				return err
			}
			if _, err := tx.CopyFrom(ctx, pgx.Identifier{"floor_services"}, floorServiceCols, pgx.CopyFromRows(b.services)); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, mergeServices); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, `DELETE FROM services s USING cases c WHERE s.source = 'primero' AND c.source = s.source
				AND c.case_key = s.case_key AND s.case_key = ANY($1) AND s.case_updated_at <> c.primero_updated_at`, b.keys)
			return err
		})
	}
	return err
}

// --- measuring ---

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

// benchSizes are the numbers of cases: 10,000, and 1,000,000 with
// CASEBRIDGE_BENCH_LARGE=1.
func benchSizes() []int {
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
					m := measure(b, func() error {
						got, err := fdb.sync(ctx, src)
						if err == nil && got < n {
							err = fmt.Errorf("flow read %d cases, want %d", got, n)
						}
						return err
					})
					p := measure(b, func() error {
						got, err := floorSync(ctx, srcURL, pdsn, e.ref)
						if err == nil && got != n {
							err = fmt.Errorf("floor read %d cases, want %d", got, n)
						}
						return err
					})
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
