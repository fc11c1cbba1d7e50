package main

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/casebridge/casebridge/primero"
	"github.com/casebridge/casebridge/primero/primerotest"
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
	caseKey := floorUUID(c.CaseID)
	b.cases = append(b.cases, []any{"primero", caseKey, enabled, nz(c.Status), age, nz(c.Sex),
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
		b.services = append(b.services, []any{"primero", floorUUID(s.UniqueID), caseKey, nz(s.ServiceType),
			nz(ref.labels["lookup-service-type"][s.ServiceType]),
			s.ServiceImplemented == "implemented" || s.ServiceImplementedDayTime != "", date, updated})
	}
}

// floorUUID is an id for a uuid column as its 16 bytes, which COPY's
// binary format takes as they are; a string there would cost pgx a failed
// binary encode (an error made) before its text fallback, for every value.
// An id that is not a canonical UUID stays a string, for PostgreSQL to
// refuse.
func floorUUID(s string) any {
	var u [16]byte
	if len(s) != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-' {
		return s
	}
	h := s[:8] + s[9:13] + s[14:18] + s[19:23] + s[24:]
	if _, err := hex.Decode(u[:], []byte(h)); err != nil {
		return s
	}
	return u
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
