package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/casebridge/casebridge/internal/pgtest"
	"github.com/casebridge/casebridge/mapping"
	"github.com/casebridge/casebridge/primero"
	"github.com/casebridge/casebridge/primero/primerotest"
	"github.com/casebridge/casebridge/sqlsink"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// forEachDatabase runs fn on a fresh SQLite file and a fresh PostgreSQL
// database.
func forEachDatabase(t *testing.T, fn func(t *testing.T, dsn string)) {
	t.Run("sqlite", func(t *testing.T) { fn(t, "sqlite:"+filepath.Join(t.TempDir(), "dash.db")) })
	t.Run("postgres", func(t *testing.T) { fn(t, pgtest.DSN(t)) })
}

// newFake starts a fake with the dashboard's lookups and n seeded cases.
func newFake(t *testing.T, n int) *primerotest.Server {
	s := primerotest.NewServer(t, fakeOptions()...)
	seedLookups(s)
	seedCases(s, 0, n)
	return s
}

func fakeEnv(k string) string {
	switch k {
	case envUser:
		return primerotest.DefaultUser
	case envPassword:
		return primerotest.DefaultPassword
	case envPseudonymKey:
		return "a synthetic pseudonym key of at least 32 bytes"
	}
	return ""
}

// syncTo runs one sync of url into dsn and returns its output line.
func syncTo(ctx context.Context, t *testing.T, url, dsn string, hook func(int) error, edit ...func(*config)) (string, error) {
	t.Helper()
	cfg := config{url: url, source: "primero", dsn: dsn, chunk: 40, per: primero.MaxPer}
	for _, e := range edit {
		e(&cfg)
	}
	var out bytes.Buffer
	err := runConfig(ctx, &out, &out, cfg, fakeEnv, hook)
	return out.String(), err
}

// fakeClient is a client of fake with its default credentials.
func fakeClient(t *testing.T, fake *primerotest.Server) *primero.Client {
	t.Helper()
	c, err := primero.New(fake.URL(), primero.WithBasicAuth(primerotest.DefaultUser, primerotest.DefaultPassword))
	require.NoError(t, err)
	return c
}

// removeService removes service k from synthetic case i in Primero.
func removeService(ctx context.Context, t *testing.T, c *primero.Client, i, k int) {
	t.Helper()
	_, err := c.Cases.Update(ctx, synthUUID(i, 0), primero.Patch{"services_section": []any{
		map[string]any{"unique_id": synthUUID(i, k), "_destroy": true}}})
	require.NoError(t, err)
}

// rows reads a table, ordered by its key.
func rows(t *testing.T, dsn, table string) []mapping.Record {
	t.Helper()
	ctx := context.Background()
	db, err := sqlsink.Open(ctx, dsn)
	require.NoError(t, err)
	defer db.Close()
	order := map[string]string{"cases": "source, case_key", "services": "source, service_key", "locations": "source, code"}[table]
	var out []mapping.Record
	for r, err := range db.Query(ctx, "SELECT * FROM "+table+" ORDER BY "+order) {
		require.NoError(t, err)
		out = append(out, r)
	}
	return out
}

// byKey indexes rows by the given column.
func byKey(rs []mapping.Record, col string) map[string]mapping.Record {
	m := map[string]mapping.Record{}
	for _, r := range rs {
		m[fmt.Sprint(r[col])] = r
	}
	return m
}

// truthy reads a Bool column (bool on PostgreSQL, 0/1 on SQLite).
func truthy(v any) any {
	switch x := v.(type) {
	case int64:
		return x != 0
	case nil, bool:
		return x
	}
	return v
}

func TestFirstLoadFillsTheDashboardTables(t *testing.T) {
	forEachDatabase(t, func(t *testing.T, dsn string) {
		fake := newFake(t, 120)
		out, err := syncTo(context.Background(), t, fake.URL(), dsn, nil)
		require.NoError(t, err)
		assert.Contains(t, out, "read 120 cases: 120 inserted")

		cases := byKey(rows(t, dsn, "cases"), "case_key")
		require.Len(t, cases, 120)
		wantServices := 0
		for i := range 120 {
			r := cases[synthUUID(i, 99)]
			require.NotNil(t, r, "case %d is keyed by its case_id", i)
			assert.Equal(t, "primero", r["source"])
			assert.Equal(t, i%10 != 7, truthy(r["enabled"]), "case %d enabled", i)
			assert.EqualValues(t, i%18, r["age"])
			assert.Equal(t, []string{"female", "male"}[i%2], r["sex_label"], "label from lookup-gender")
			assert.Equal(t, synthCaseTypes[i%2], r["case_type_label"], "label from lookup-case-type")
			assert.Equal(t, synthCaseTypes[i%2], r["case_type"])
			assert.Equal(t, synthPlacements[i%3], r["placement_type_label"], "label from lookup-placement-type")
			switch loc := synthLocations[i%3]; loc {
			case "XX0101":
				assert.Equal(t, "XX01", r["province_code"])
				assert.Equal(t, "Synthetic Province 1", r["province"])
				assert.Equal(t, "XX0101", r["district_code"])
				assert.Equal(t, "Synthetic District 1", r["district"])
			case "XX0102":
				assert.Equal(t, "Synthetic District 2", r["district"])
			case "XX02":
				assert.Equal(t, "Synthetic Province 2", r["province"])
				assert.Nil(t, r["district_code"], "a province has no district")
			}
			assert.Equal(t, []any{true, false, nil}[i%3], truthy(r["consent_for_reporting"]), "case %d consent", i)
			assert.Equal(t, map[bool]string{true: "oscar", false: "primero"}[i%5 == 0], r["case_source"])
			if i%10 != 7 {
				wantServices += i % 3
			}
		}
		services := byKey(rows(t, dsn, "services"), "service_key")
		assert.Len(t, services, wantServices)
		s := services[synthUUID(4, 1)]
		require.NotNil(t, s)
		assert.Equal(t, synthUUID(4, 99), s["case_key"])
		assert.Equal(t, synthServices[(4+0)%4], s["service_type_label"])
		assert.Equal(t, true, truthy(s["implemented"]))

		locs := byKey(rows(t, dsn, "locations"), "code")
		assert.Equal(t, "XX01", locs["XX0102"]["province_code"])
	})
}

func TestTablesHoldNothingPersonal(t *testing.T) {
	fake := newFake(t, 30)
	dsn := "sqlite:" + filepath.Join(t.TempDir(), "dash.db")
	out, err := syncTo(context.Background(), t, fake.URL(), dsn, nil)
	require.NoError(t, err)
	var all []mapping.Record
	for _, table := range []string{"cases", "services", "locations"} {
		all = append(all, rows(t, dsn, table)...)
	}
	personal := []string{"Test", "Child", "000-000-0000", "Synthetic address", "OSC-"}
	for _, c := range fake.Cases() {
		personal = append(personal, c["date_of_birth"].(string), c["id"].(string))
	}
	for _, r := range all {
		for col, v := range r {
			s := fmt.Sprint(v)
			for _, p := range personal {
				assert.NotContains(t, s, p, "column %s", col)
			}
		}
	}
	// The test's own temporary directory is named after it ("Test…"):
	// take it out of what the program printed before looking for names.
	printed := strings.ReplaceAll(out, filepath.Dir(strings.TrimPrefix(dsn, "sqlite:")), "<dir>")
	for _, p := range personal[:5] {
		assert.NotContains(t, printed, p)
	}
}

func TestResyncReflectsChangesRemovedServicesAndDisabledCases(t *testing.T) {
	forEachDatabase(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		fake := newFake(t, 60)
		_, err := syncTo(ctx, t, fake.URL(), dsn, nil)
		require.NoError(t, err)

		c := fakeClient(t, fake)
		// Case 5 loses its second service, case 8 is disabled (it had two),
		// case 10 changes sex.
		removeService(ctx, t, c, 5, 2)
		require.NoError(t, c.Cases.Delete(ctx, synthUUID(8, 0)))
		_, err = c.Cases.Update(ctx, synthUUID(10, 0), primero.Patch{"sex": "female"})
		require.NoError(t, err)

		out, err := syncTo(ctx, t, fake.URL(), dsn, nil)
		require.NoError(t, err)
		assert.Contains(t, out, "services: ")
		assert.Contains(t, out, "3 removed", "case 5's removed service and case 8's two")

		cases := byKey(rows(t, dsn, "cases"), "case_key")
		assert.Equal(t, false, truthy(cases[synthUUID(8, 99)]["enabled"]))
		assert.Equal(t, "female", cases[synthUUID(10, 99)]["sex"])
		services := byKey(rows(t, dsn, "services"), "service_key")
		assert.Contains(t, services, synthUUID(5, 1))
		assert.NotContains(t, services, synthUUID(5, 2), "a service removed in Primero leaves no row")
		assert.NotContains(t, services, synthUUID(8, 1), "a disabled case keeps no services")
		assert.NotContains(t, services, synthUUID(8, 2))

		// A third run with nothing changed writes nothing.
		out, err = syncTo(ctx, t, fake.URL(), dsn, nil)
		require.NoError(t, err)
		assert.Contains(t, out, "0 inserted, 0 updated")
		assert.Contains(t, out, "0 removed")
	})
}

// A chunk of new cases skips the stale-services delete (none of them can
// have rows yet); one changed case among new ones must not.
func TestAChangedCaseAmongNewOnesLosesItsRemovedService(t *testing.T) {
	forEachDatabase(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		fake := newFake(t, 30)
		_, err := syncTo(ctx, t, fake.URL(), dsn, nil)
		require.NoError(t, err)

		c := fakeClient(t, fake)
		removeService(ctx, t, c, 5, 2)
		seedCases(fake, 30, 10)

		// One chunk: case 5, the ten new cases (and those the overlap
		// window reads again, unchanged).
		out, err := syncTo(ctx, t, fake.URL(), dsn, nil)
		require.NoError(t, err)
		assert.Contains(t, out, "10 inserted, 1 updated")
		assert.Contains(t, out, "1 removed")
		services := byKey(rows(t, dsn, "services"), "service_key")
		assert.Contains(t, services, synthUUID(5, 1))
		assert.NotContains(t, services, synthUUID(5, 2), "a service removed in Primero leaves no row")
		assert.Contains(t, services, synthUUID(31, 1), "the new cases' services are written")
	})
}

// stopAfterLists sits in front of the fake and cancels the run's context
// when the n-th case list request arrives: a kill in the middle of a page.
type stopAfterLists struct {
	next   http.Handler
	n      int64
	count  atomic.Int64
	cancel context.CancelFunc
}

func (h *stopAfterLists) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, "/api/v2/cases") && h.count.Add(1) == h.n {
		h.cancel()
	}
	h.next.ServeHTTP(w, r)
}

func TestKilledAtAnyPageAndRestartedConverges(t *testing.T) {
	forEachDatabase(t, func(t *testing.T, dsn string) {
		fake := newFake(t, 200) // 5 chunks of 40, pages of 1000
		reference := filepath.Join(t.TempDir(), "ref.db")
		_, err := syncTo(context.Background(), t, fake.URL(), "sqlite:"+reference, nil)
		require.NoError(t, err)
		want, wantSvc := rows(t, "sqlite:"+reference, "cases"), rows(t, "sqlite:"+reference, "services")

		for kill := 1; kill <= 6; kill++ {
			t.Run(fmt.Sprintf("after chunk %d", kill), func(t *testing.T) {
				d := freshLike(t, dsn)
				stop := errors.New("killed")
				_, err := syncTo(context.Background(), t, fake.URL(), d, func(n int) error {
					if n == kill {
						return stop
					}
					return nil
				})
				if kill < 5 {
					require.ErrorIs(t, err, stop)
				}
				_, err = syncTo(context.Background(), t, fake.URL(), d, nil)
				require.NoError(t, err)
				assertSameRows(t, want, rows(t, d, "cases"))
				assertSameRows(t, wantSvc, rows(t, d, "services"))
			})
		}
		// Pages of 30: an uninterrupted run makes n list requests; kill the
		// run at each of them in turn.
		count := &stopAfterLists{next: fake, n: -1, cancel: func() {}}
		proxy := httptest.NewServer(count)
		_, err = syncTo(context.Background(), t, proxy.URL, freshLike(t, dsn), nil, func(c *config) { c.chunk, c.per = 25, 30 })
		proxy.Close()
		require.NoError(t, err)
		requests := count.count.Load()
		require.Greater(t, requests, int64(7), "at least one request per page")
		for kill := int64(1); kill <= requests; kill++ {
			t.Run(fmt.Sprintf("at list request %d", kill), func(t *testing.T) {
				d := freshLike(t, dsn)
				ctx, cancel := context.WithCancel(context.Background())
				defer cancel()
				h := &stopAfterLists{next: fake, n: kill, cancel: cancel}
				proxy := httptest.NewServer(h)
				defer proxy.Close()
				small := func(c *config) { c.chunk, c.per = 25, 30 }
				_, err := syncTo(ctx, t, proxy.URL, d, nil, small)
				require.Error(t, err)
				_, err = syncTo(context.Background(), t, fake.URL(), d, nil, small)
				require.NoError(t, err)
				assertSameRows(t, want, rows(t, d, "cases"))
				assertSameRows(t, wantSvc, rows(t, d, "services"))
			})
		}
	})
}

// freshLike returns a fresh database of the same dialect as dsn.
func freshLike(t *testing.T, dsn string) string {
	if strings.HasPrefix(dsn, "postgres") {
		return pgtest.DSN(t)
	}
	return "sqlite:" + filepath.Join(t.TempDir(), "dash.db")
}

// assertSameRows compares two tables, read from either dialect: values as
// text, booleans normalised.
func assertSameRows(t *testing.T, want, got []mapping.Record) {
	t.Helper()
	require.Equal(t, len(want), len(got))
	norm := func(r mapping.Record) map[string]string {
		m := map[string]string{}
		for k, v := range r {
			m[k] = fmt.Sprint(truthy(v))
		}
		return m
	}
	for i := range want {
		require.Equal(t, norm(want[i]), norm(got[i]), "row %d", i)
	}
}

func TestTwoSourcesShareOneDatabase(t *testing.T) {
	forEachDatabase(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		a, b := newFake(t, 50), newFake(t, 30) // the same ids in both
		_, err := syncTo(ctx, t, a.URL(), dsn, nil, func(c *config) { c.source = "kh-a" })
		require.NoError(t, err)
		_, err = syncTo(ctx, t, b.URL(), dsn, nil, func(c *config) { c.source = "kh-b" })
		require.NoError(t, err)

		count := map[string]int{}
		for _, r := range rows(t, dsn, "cases") {
			count[r["source"].(string)]++
		}
		assert.Equal(t, map[string]int{"kh-a": 50, "kh-b": 30}, count, "no key collides across sources")

		db, err := sqlsink.Open(ctx, dsn)
		require.NoError(t, err)
		defer db.Close()
		st, err := sqlsink.NewDBState(db)
		require.NoError(t, err)
		ca, _, err := st.Cursor(ctx, flowName("kh-a"))
		require.NoError(t, err)
		cb, _, err := st.Cursor(ctx, flowName("kh-b"))
		require.NoError(t, err)
		assert.NotEmpty(t, ca)
		assert.NotEmpty(t, cb)
		assert.NotEqual(t, ca, cb, "each source keeps its own cursor")
	})
}

func TestChangesDuringARunArePickedUp(t *testing.T) {
	forEachDatabase(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		fake := newFake(t, 200)
		c := fakeClient(t, fake)
		_, err := syncTo(ctx, t, fake.URL(), dsn, func(n int) error {
			if n != 1 {
				return nil
			}
			// Between two chunks: change a case already written and one not
			// read yet.
			if _, err := c.Cases.Update(ctx, synthUUID(3, 0), primero.Patch{"sex": "female"}); err != nil {
				return err
			}
			_, err := c.Cases.Update(ctx, synthUUID(150, 0), primero.Patch{"sex": "male"})
			return err
		}, func(c *config) { c.chunk = 30 })
		require.NoError(t, err)
		_, err = syncTo(ctx, t, fake.URL(), dsn, nil)
		require.NoError(t, err)
		cases := byKey(rows(t, dsn, "cases"), "case_key")
		require.Len(t, cases, 200)
		assert.Equal(t, "female", cases[synthUUID(3, 99)]["sex"], "seeded male")
		assert.Equal(t, "male", cases[synthUUID(150, 99)]["sex"], "seeded female")
	})
}

func TestPseudonymisedKeysAreStableAndNeverTheCaseID(t *testing.T) {
	ctx := context.Background()
	fake := newFake(t, 40)
	dsn := "sqlite:" + filepath.Join(t.TempDir(), "public.db")
	pseudo := func(c *config) { c.pseudonymize = true }
	_, err := syncTo(ctx, t, fake.URL(), dsn, nil, pseudo)
	require.NoError(t, err)
	first := rows(t, dsn, "cases")
	require.Len(t, first, 40)
	ids := map[string]bool{}
	for _, c := range fake.Cases() {
		ids[c["case_id"].(string)], ids[c["id"].(string)] = true, true
	}
	for _, r := range append(first, rows(t, dsn, "services")...) {
		for _, col := range []string{"case_key", "service_key"} {
			if v, ok := r[col]; ok {
				assert.False(t, ids[v.(string)], "%s holds a Primero id", col)
				assert.Len(t, v, 32)
			}
		}
	}
	_, err = syncTo(ctx, t, fake.URL(), dsn, nil, pseudo)
	require.NoError(t, err)
	assertSameRows(t, first, rows(t, dsn, "cases"))

	_, err = syncTo(ctx, t, fake.URL(), dsn, nil)
	require.Error(t, err, "plain keys are refused in a database of pseudonyms")
	assert.Len(t, rows(t, dsn, "cases"), 40)
}

func TestPseudonymizeNeedsAKey(t *testing.T) {
	fake := newFake(t, 1)
	cfg := config{url: fake.URL(), source: "primero", dsn: "sqlite:" + filepath.Join(t.TempDir(), "d.db"), chunk: 10, per: 100, pseudonymize: true}
	var out bytes.Buffer
	err := runConfig(context.Background(), &out, &out, cfg, func(k string) string {
		if k == envPseudonymKey {
			return "short"
		}
		return fakeEnv(k)
	}, nil)
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "short", "the key is never echoed")
}

func TestRealServerNeedsCredentialsFromTheEnvironment(t *testing.T) {
	var out bytes.Buffer
	err := run(context.Background(), &out, &out, []string{"-primero-url", "http://127.0.0.1:1"}, func(string) string { return "" })
	require.Error(t, err)
	assert.Contains(t, err.Error(), envUser)
}

// TestUUIDKeyedTableSyncedTwice syncs twice into a dashboard whose cases
// table keys on a PostgreSQL uuid column, as the Ministry's does.
func TestUUIDKeyedTableSyncedTwice(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.DSN(t)
	db, err := sqlsink.Open(ctx, dsn)
	require.NoError(t, err)
	_, err = db.SQL().ExecContext(ctx, `CREATE TABLE cases (source text NOT NULL, case_key uuid NOT NULL,
		enabled boolean NOT NULL, status text, age bigint, sex text, sex_label text, case_type text,
		case_type_label text, placement_type text, placement_type_label text, location_code text,
		province_code text, province text, district_code text, district text,
		consent_for_reporting boolean, case_source text, registration_date date,
		primero_updated_at timestamptz NOT NULL, PRIMARY KEY (source, case_key))`)
	require.NoError(t, err)
	require.NoError(t, db.Close())
	fake := newFake(t, 50)
	_, err = syncTo(ctx, t, fake.URL(), dsn, nil)
	require.NoError(t, err)
	_, err = syncTo(ctx, t, fake.URL(), dsn, nil)
	require.NoError(t, err, "a second sync into a uuid-keyed table")
	assert.Len(t, rows(t, dsn, "cases"), 50)
}

func TestProgressLine(t *testing.T) {
	assert.Equal(t, "500/1000 cases, 250/s, ETA 2s   ", progressLine(500, 1000, 2e9))
	assert.Equal(t, "500 cases, 250/s   ", progressLine(500, 0, 2e9))
	var buf bytes.Buffer
	p := newProgress(&buf)
	p.update(1, 2)
	p.done()
	assert.Empty(t, buf.String(), "quiet when not writing to a terminal")
}

// TestRequestedFieldsFeedTheWholeMapping maps every seeded case twice, from
// the whole record and from only the fields the sync requests: the rows
// must be the same, or a rule reads a field the sync never asks for.
func TestRequestedFieldsFeedTheWholeMapping(t *testing.T) {
	ctx := context.Background()
	fake := newFake(t, 60)
	c, err := primero.New(fake.URL(), primero.WithBasicAuth(primerotest.DefaultUser, primerotest.DefaultPassword))
	require.NoError(t, err)
	ref, err := loadReference(ctx, c)
	require.NoError(t, err)
	cm, sm, err := compileSpecs(ref)
	require.NoError(t, err)
	keep := map[string]bool{"id": true, "enabled": true, "last_updated_at": true}
	for _, f := range caseFields {
		keep[f] = true
	}
	for _, whole := range fake.Cases() {
		part := mapping.Record{}
		for k, v := range whole {
			if keep[k] {
				part[k] = v
			}
		}
		a, err := cm.Apply(ctx, whole)
		require.NoError(t, err)
		b, err := cm.Apply(ctx, part)
		require.NoError(t, err)
		require.Equal(t, a, b, "case %s", whole["id"])
		for _, svc := range whole["services_section"].([]any) {
			a, err := sm.Apply(ctx, svc.(map[string]any))
			require.NoError(t, err)
			require.NotEmpty(t, a)
		}
	}
	// And the sync asks for those fields only.
	_, err = syncTo(ctx, t, fake.URL(), "sqlite:"+filepath.Join(t.TempDir(), "d.db"), nil)
	require.NoError(t, err)
	lists := 0
	for _, r := range fake.Requests() {
		if r.Method == http.MethodGet && strings.HasSuffix(r.Path, "/api/v2/cases") {
			lists++
			assert.NotContains(t, r.Query.Get("fields"), "name", "names are never requested")
			assert.NotEmpty(t, r.Query.Get("fields"))
		}
	}
	assert.Positive(t, lists)
}

func TestRunWithoutAServerSyncsTheFake(t *testing.T) {
	var out bytes.Buffer
	dsn := "sqlite:" + filepath.Join(t.TempDir(), "d.db")
	require.NoError(t, run(context.Background(), &out, &out, []string{"-db", dsn, "-cases", "25"}, func(string) string { return "" }))
	assert.Contains(t, out.String(), "read 25 cases: 25 inserted")
	assert.Len(t, rows(t, dsn, "cases"), 25)
}

// TestAFailedWriteLeavesTheCursorBeforeItsChunk makes the database refuse
// one service row (a trigger) in the third chunk: the run fails, the
// stored cursor does not pass that chunk's cases, and once the database
// accepts the row again the next run converges to the same tables as an
// uninterrupted run. The failed chunk commits nothing: its cases, services
// and deletes are one transaction.
func TestAFailedWriteLeavesTheCursorBeforeItsChunk(t *testing.T) {
	forEachDatabase(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		fake := newFake(t, 0)
		_, err := syncTo(ctx, t, fake.URL(), dsn, nil) // creates the tables
		require.NoError(t, err)
		seedCases(fake, 0, 200)
		ref := "sqlite:" + filepath.Join(t.TempDir(), "ref.db")
		_, err = syncTo(ctx, t, fake.URL(), ref, nil)
		require.NoError(t, err)

		db, err := sqlsink.Open(ctx, dsn)
		require.NoError(t, err)
		defer db.Close()
		bad := synthUUID(100, 1) // case 100 is in the third chunk of 40
		create, drop := []string{`CREATE TRIGGER refuse BEFORE INSERT ON services FOR EACH ROW
			WHEN (NEW.service_key = '` + bad + `') BEGIN SELECT RAISE(ABORT, 'refused'); END`}, []string{`DROP TRIGGER refuse`}
		if db.Dialect() == sqlsink.Postgres {
			create = []string{`CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$
				BEGIN IF NEW.service_key = '` + bad + `' THEN RAISE EXCEPTION 'refused'; END IF; RETURN NEW; END $$`,
				`CREATE TRIGGER refuse BEFORE INSERT ON services FOR EACH ROW EXECUTE FUNCTION refuse()`}
			drop = []string{`DROP TRIGGER refuse ON services`}
		}
		for _, q := range create {
			_, err = db.SQL().ExecContext(ctx, q)
			require.NoError(t, err)
		}
		_, err = syncTo(ctx, t, fake.URL(), dsn, nil)
		require.Error(t, err)

		st, err := sqlsink.NewDBState(db)
		require.NoError(t, err)
		cursor, _, err := st.Cursor(ctx, flowName("primero"))
		require.NoError(t, err)
		wm, err := primero.ParseWatermark(cursor)
		require.NoError(t, err)
		kase, ok := fake.Case(synthUUID(100, 0))
		require.True(t, ok)
		assert.False(t, wm.Covers(synthUUID(100, 0), parseStamp(t, kase["last_updated_at"].(string))),
			"the cursor does not cover a case whose chunk failed")
		_, written := byKey(rows(t, dsn, "cases"), "case_key")[synthUUID(100, 99)]
		assert.False(t, written, "a failed chunk's cases are rolled back with its services")

		for _, q := range drop {
			_, err = db.SQL().ExecContext(ctx, q)
			require.NoError(t, err)
		}
		_, err = syncTo(ctx, t, fake.URL(), dsn, nil)
		require.NoError(t, err)
		assertSameRows(t, rows(t, ref, "cases"), rows(t, dsn, "cases"))
		assertSameRows(t, rows(t, ref, "services"), rows(t, dsn, "services"))
	})
}

func parseStamp(t *testing.T, s string) time.Time {
	ts, err := time.Parse(time.RFC3339Nano, s)
	require.NoError(t, err)
	return ts
}

func TestACaseTheMappingRefusesIsSkippedAndNamed(t *testing.T) {
	fake := newFake(t, 20)
	bad := fake.AddCase(map[string]any{"module_id": "primeromodule-cp", "age": "not a number"})
	noKey := fake.AddCase(map[string]any{"module_id": "primeromodule-cp", "case_id": ""})
	dsn := "sqlite:" + filepath.Join(t.TempDir(), "d.db")
	out, err := syncTo(context.Background(), t, fake.URL(), dsn, nil)
	require.NoError(t, err, "one bad case does not stop the dashboard")
	assert.Contains(t, out, "SKIPPED 2 cases")
	assert.Contains(t, out, bad["id"].(string))
	assert.Contains(t, out, noKey["id"].(string))
	assert.NotContains(t, out, "not a number", "no value is echoed")
	assert.Len(t, rows(t, dsn, "cases"), 20)
}

func TestFlagsAreChecked(t *testing.T) {
	for _, args := range [][]string{
		{"-source", "Has Spaces"},
		{"-source", ""},
		{"-chunk", "0"},
		{"-per", "1001"},
		{"-per", "0"},
	} {
		_, err := parseFlags(args)
		assert.Error(t, err, "%v", args)
	}
	c, err := parseFlags(nil)
	require.NoError(t, err)
	assert.Equal(t, "primero", c.source)
	assert.Equal(t, DefaultChunk, c.chunk)
	assert.Equal(t, DefaultPer, c.per)
}

// TestAStopRequestCommitsWhatWasRead cancels a run (an interrupt) in the
// middle of its first chunk: the cases read so far are still written, with
// a cursor covering them, and the next run finishes the job.
func TestAStopRequestCommitsWhatWasRead(t *testing.T) {
	fake := newFake(t, 200)
	dsn := "sqlite:" + filepath.Join(t.TempDir(), "d.db")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	proxy := httptest.NewServer(&stopAfterLists{next: fake, n: 6, cancel: cancel})
	defer proxy.Close()
	big := func(c *config) { c.chunk, c.per = 1000, 30 }
	_, err := syncTo(ctx, t, proxy.URL, dsn, nil, big)
	require.ErrorIs(t, err, context.Canceled)
	written := len(rows(t, dsn, "cases"))
	assert.Positive(t, written, "what was read before the stop is kept")
	assert.Less(t, written, 200)

	out, err := syncTo(context.Background(), t, fake.URL(), dsn, nil, big)
	require.NoError(t, err)
	assert.Contains(t, out, fmt.Sprintf(" %d inserted", 200-written), "the next run adds only what the stopped one had not written")
	assert.Len(t, rows(t, dsn, "cases"), 200)
}

// TestAStopWhileMappingACaseLeavesTheCursorBeforeIt cancels a run while the
// reader is between two cases of a page it holds: the case it was handed
// then is not mapped (the mapping sees the stop), so the stored cursor
// must not cover it, or no later run would read it again until it changes.
func TestAStopWhileMappingACaseLeavesTheCursorBeforeIt(t *testing.T) {
	fake := newFake(t, 200)
	dsn := "sqlite:" + filepath.Join(t.TempDir(), "d.db")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// The first commit's hook stops the run while the reader, having filled
	// the second chunk, waits for a free one with the rest of the page in
	// memory: the next case it takes meets the stop in the mapping.
	stopAfterFirst := func(n int) error {
		if n == 1 {
			cancel()
		}
		return nil
	}
	_, err := syncTo(ctx, t, fake.URL(), dsn, stopAfterFirst, func(c *config) { c.chunk = 5 })
	require.ErrorIs(t, err, context.Canceled)

	db, err := sqlsink.Open(context.Background(), dsn)
	require.NoError(t, err)
	defer db.Close()
	st, err := sqlsink.NewDBState(db)
	require.NoError(t, err)
	cursor, _, err := st.Cursor(context.Background(), flowName("primero"))
	require.NoError(t, err)
	wm, err := primero.ParseWatermark(cursor)
	require.NoError(t, err)
	written := byKey(rows(t, dsn, "cases"), "case_key")
	require.NotEmpty(t, written)
	covered := 0
	for _, c := range fake.Cases() {
		if wm.Covers(c["id"].(string), parseStamp(t, c["last_updated_at"].(string))) {
			covered++
			_, ok := written[c["case_id"].(string)]
			assert.True(t, ok, "the cursor covers case %s, which was not written", c["id"])
		}
	}
	assert.Positive(t, covered)
}

// A row the table refuses once mapped (here a service dated in year 0,
// which the mapping reads as a date and neither database stores) is the
// case's problem: its case row, added before the service, is taken back,
// and the case is skipped and named, as one the mapping refuses; the rest
// of its chunk is written.
func TestACaseWithARowTheTableRefusesIsSkippedAndNamed(t *testing.T) {
	forEachDatabase(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		fake := newFake(t, 50)
		c := fakeClient(t, fake)
		// Case 41 (in the second chunk of 40) gets a third service dated
		// in year 0: its case row and two services are added before it.
		_, err := c.Cases.Update(ctx, synthUUID(41, 0), primero.Patch{"services_section": []any{
			map[string]any{"unique_id": synthUUID(41, 7), "service_type": synthServices[0],
				"service_implemented_day_time": "0000-01-01T10:00:00.000Z"}}})
		require.NoError(t, err)
		out, err := syncTo(ctx, t, fake.URL(), dsn, nil)
		require.NoError(t, err)
		assert.Contains(t, out, "SKIPPED 1 cases the mapping or the tables refused (record ids "+synthUUID(41, 0)+")")
		assert.NotContains(t, out, "0000-01-01")

		cases := byKey(rows(t, dsn, "cases"), "case_key")
		assert.Len(t, cases, 49, "every other case is written")
		assert.NotContains(t, cases, synthUUID(41, 99), "the refused case's row is taken back")
		services := byKey(rows(t, dsn, "services"), "service_key")
		assert.NotContains(t, services, synthUUID(41, 1), "and its services")
		assert.Contains(t, services, synthUUID(44, 1), "the rest of its chunk is written")
	})
}
