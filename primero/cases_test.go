package primero_test

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/casebridge/casebridge/primero"
	"github.com/casebridge/casebridge/primero/primerotest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const (
	svc1 = "0a30b142-3906-46d3-bbb4-f28c44b357d7"
	svc2 = "6f1d7c57-40b3-4f65-9d0e-2a6d95a2c111"
	svc3 = "5c2d4f6c-8e8a-4a57-9a43-0d2f3e1b7a10"
	fam1 = "3b1c2d4e-5f60-4718-8a9b-0c1d2e3f4a5b"
)

func TestFiltersRender(t *testing.T) {
	s := primerotest.NewServer(t)
	c := newClient(t, s)
	since := time.Date(2025, 3, 1, 0, 0, 0, 0, time.FixedZone("X", 3600))
	for _, tc := range []struct {
		name string
		f    []primero.Filter
		want string
	}{
		{"value list", []primero.Filter{primero.Sex("male", "female")}, "sex=male%2Cfemale"},
		{"closed int range", []primero.Filter{primero.AgeBetween(0, 17)}, "age=0..17"},
		{"open time range in UTC", []primero.Filter{primero.UpdatedSince(since)}, "last_updated_at=2025-02-28T23%3A00%3A00Z.."},
		{"date range", []primero.Filter{primero.DateRange("registration_date", time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2024, 1, 31, 0, 0, 0, 0, time.UTC))}, "registration_date=2024-01-01..2024-01-31"},
		{"boolean", []primero.Filter{primero.Enabled(true)}, "record_state=true"},
		{"location", []primero.Filter{primero.LocatedIn("KH12")}, "loc%3Alocation_current=KH12"},
		{"or", []primero.Filter{primero.Or(primero.Eq("owned_by", "cw1"), primero.Eq("assigned_user_names", "cw1"))}, "or%5Bassigned_user_names%5D=cw1&or%5Bowned_by%5D=cw1"},
		{"not", []primero.Filter{primero.Not(primero.Status("closed"))}, "not%5Bstatus%5D=closed"},
		{"id field exact", []primero.Filter{primero.Eq("unhcr_individual_no", "803-00000001")}, "unhcr_individual_no=803-00000001"},
		{"raw", []primero.Filter{primero.Raw("workflow", "new")}, "workflow=new"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := c.RenderFilters(tc.f...)
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestFiltersRefusedBeforeSending(t *testing.T) {
	s := primerotest.NewServer(t)
	c := newClient(t, s)
	for _, tc := range []struct {
		name string
		opts primero.ListOptions
		path string
	}{
		{"unknown raw filter", primero.ListOptions{Filters: []primero.Filter{primero.Raw("sexx", "male")}}, "ListOptions.Filters[0].field"},
		{"unknown typed field", primero.ListOptions{Filters: []primero.Filter{primero.Eq("stauts", "open")}}, "ListOptions.Filters[0].field"},
		{"raw open-below range", primero.ListOptions{Filters: []primero.Filter{primero.Raw("age", "..5")}}, "ListOptions.Filters[0].value"},
		{"range without lower bound", primero.ListOptions{Filters: []primero.Filter{primero.TimeRange("last_updated_at", time.Time{}, time.Now())}}, "ListOptions.Filters[0].from"},
		{"empty value", primero.ListOptions{Filters: []primero.Filter{primero.Eq("status", "")}}, "ListOptions.Filters[0].values[0]"},
		{"comma in a value", primero.ListOptions{Filters: []primero.Filter{primero.Eq("owned_by", "a,b")}}, "ListOptions.Filters[0].values[0]"},
		{"per above 1000", primero.ListOptions{Per: 2000}, "ListOptions.Per"},
		{"two values on an ID field", primero.ListOptions{Filters: []primero.Filter{primero.Eq("case_id", "a", "b")}}, "ListOptions.Filters[0].values"},
		{"reserved name", primero.ListOptions{Filters: []primero.Filter{primero.Raw("page", "2")}}, "ListOptions.Filters[0].field"},
		{"zero filter", primero.ListOptions{Filters: []primero.Filter{{}}}, "ListOptions.Filters[0]"},
		{"duplicate field", primero.ListOptions{Filters: []primero.Filter{primero.Status("open"), primero.Status("closed")}}, "ListOptions.Filters[1].field"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := c.Cases.List(context.Background(), &tc.opts)
			var ve *primero.ValidationError
			require.ErrorAs(t, err, &ve)
			assert.True(t, ve.Has(tc.path), "%v", ve)
			for _, err := range c.Cases.All(context.Background(), &tc.opts) {
				require.ErrorAs(t, err, &ve, "All yields the same validation error")
			}
			assert.Empty(t, s.Requests(), "nothing was sent")
		})
	}
}

func TestDeclaredFormFieldIsFilterable(t *testing.T) {
	s := primerotest.NewServer(t, primerotest.WithFields(map[string]string{"x_custom_flag": "text_field"}))
	s.AddCase(map[string]any{"name_first": "Test", "x_custom_flag": "yes"})
	s.AddCase(map[string]any{"name_first": "Test", "x_custom_flag": "no"})
	c := newClient(t, s, primero.WithFilterableFields("x_custom_flag"))
	got, _, err := c.Cases.List(context.Background(), &primero.ListOptions{Filters: []primero.Filter{primero.Raw("x_custom_flag", "yes")}})
	require.NoError(t, err)
	require.Len(t, got, 1)
	assert.Equal(t, "yes", got[0].Fields["x_custom_flag"])
}

func TestFiltersSelectOnTheFake(t *testing.T) {
	s := primerotest.NewServer(t)
	s.AddSyntheticCases(60)
	c := newClient(t, s)
	ctx := context.Background()
	n := 0
	for k, err := range c.Cases.All(ctx, &primero.ListOptions{Per: 7, Filters: []primero.Filter{primero.Sex("female"), primero.AgeBetween(0, 9), primero.LocatedIn("XX01")}}) {
		require.NoError(t, err)
		assert.Equal(t, "female", k.Sex)
		require.NotNil(t, k.Age)
		assert.LessOrEqual(t, *k.Age, 9)
		assert.Contains(t, []string{"XX0101", "XX0102"}, k.LocationCurrent)
		n++
	}
	want := 0
	for _, k := range s.Cases() {
		age, _ := k["age"].(float64)
		if k["sex"] == "female" && age <= 9 && k["location_current"] != "XX02" {
			want++
		}
	}
	assert.Equal(t, want, n)
	assert.Positive(t, n)
}

func TestAllPagesStableDedupesAndStopsOnBreak(t *testing.T) {
	s := primerotest.NewServer(t)
	s.AddSyntheticCases(25)
	c := newClient(t, s)
	ctx := context.Background()
	seen := map[string]bool{}
	var prev time.Time
	for k, err := range c.Cases.All(ctx, &primero.ListOptions{Per: 10}) {
		require.NoError(t, err)
		assert.False(t, seen[k.ID], "duplicate %s", k.ID)
		seen[k.ID] = true
		assert.False(t, k.CreatedAt.Before(prev), "created_at ascending")
		prev = k.CreatedAt
	}
	assert.Len(t, seen, 25)
	for _, r := range s.Requests() {
		assert.Equal(t, "created_at", r.Query.Get("order_by"))
		assert.Equal(t, "asc", r.Query.Get("order"))
		assert.Equal(t, "10", r.Query.Get("per"))
	}
	assert.Len(t, s.Requests(), 3)

	s.ResetRequests()
	n := 0
	for _, err := range c.Cases.All(ctx, &primero.ListOptions{Per: 10}) {
		require.NoError(t, err)
		n++
		if n == 12 {
			break
		}
	}
	assert.Len(t, s.Requests(), 2, "no page fetched after break")
}

func TestAllYieldsErrorOnce(t *testing.T) {
	s := primerotest.NewServer(t)
	s.AddSyntheticCases(15)
	c := newClient(t, s)
	var items, errs int
	first := true
	for _, err := range c.Cases.All(context.Background(), &primero.ListOptions{Per: 10}) {
		if first {
			s.FailNext(1, http.StatusForbidden)
			first = false
		}
		if err != nil {
			errs++
			assert.ErrorIs(t, err, primero.ErrForbidden)
			continue
		}
		items++
	}
	assert.Equal(t, 10, items)
	assert.Equal(t, 1, errs)
}

func TestAllSkipsRowsShiftedAcrossPages(t *testing.T) {
	s := primerotest.NewServer(t)
	s.AddSyntheticCases(20)
	c := newClient(t, s)
	// Sorting by created_at desc on the server would shift rows when a case
	// is created mid-iteration; with created_at asc the new case comes last
	// and nothing is seen twice.
	seen := map[string]int{}
	for k, err := range c.Cases.All(context.Background(), &primero.ListOptions{Per: 5}) {
		require.NoError(t, err)
		seen[k.ID]++
		if len(seen) == 3 {
			s.AddCase(map[string]any{"name_first": "Test"})
		}
	}
	assert.Len(t, seen, 21)
	for id, n := range seen {
		assert.Equal(t, 1, n, id)
	}
}

func TestRoundTripPreservesUnknownFields(t *testing.T) {
	s := primerotest.NewServer(t, primerotest.WithFields(map[string]string{"oscar_referral_id_a4ac8a5": "text_field"}))
	stored := s.AddCase(map[string]any{
		"name_first": "Test", "name_last": "Synthetic", "sex": "female", "age": 9,
		"oscar_referral_id_a4ac8a5": "ref-001", "nationality": []any{"nat_1"},
		"family_details_section": []any{map[string]any{"unique_id": fam1, "relation": "mother", "relation_is_caregiver": true}},
		"services_section":       []any{map[string]any{"unique_id": svc1, "service_type": "alternative_care", "x_svc_note": "kept"}},
		"hidden_name":            nil, "estimated": false, "name_nickname": "",
	})
	id := stored["id"].(string)
	c := newClient(t, s)
	ctx := context.Background()
	got, err := c.Cases.Get(ctx, id)
	require.NoError(t, err)

	// JSON round trip: re-encoding the decoded case gives the same object.
	var served map[string]any
	b, _ := json.Marshal(stored)
	require.NoError(t, json.Unmarshal(b, &served))
	out, err := json.Marshal(got)
	require.NoError(t, err)
	var again map[string]any
	require.NoError(t, json.Unmarshal(out, &again))
	assert.Equal(t, served, again)

	// Record round trip.
	back, err := primero.FromRecord(got.ToRecord())
	require.NoError(t, err)
	assert.Equal(t, got, back)

	// Read-modify-write: only the changed field is sent, everything else kept.
	mod := got.Clone()
	mod.NameLast = "Changed"
	mod.Services[0].ServiceImplementingAgency = "agency-unicef"
	p := primero.PatchFrom(got, mod)
	assert.Equal(t, primero.Patch{"name_last": "Changed", "services_section": []any{map[string]any{"unique_id": svc1, "service_implementing_agency": "agency-unicef"}}}, p)
	_, err = c.Cases.Update(ctx, id, p)
	require.NoError(t, err)
	after, ok := s.Case(id)
	require.True(t, ok)
	assert.Equal(t, "Changed", after["name_last"])
	assert.Equal(t, "ref-001", after["oscar_referral_id_a4ac8a5"])
	assert.Equal(t, []any{"nat_1"}, after["nationality"])
	svc := after["services_section"].([]any)[0].(map[string]any)
	assert.Equal(t, "kept", svc["x_svc_note"])
	assert.Equal(t, "agency-unicef", svc["service_implementing_agency"])
	assert.Len(t, after["family_details_section"], 1)
}

func TestUpdateSubformRowsAndValidation(t *testing.T) {
	s := primerotest.NewServer(t)
	stored := s.AddCase(map[string]any{"name_first": "Test", "services_section": []any{
		map[string]any{"unique_id": svc1, "service_type": "alternative_care"},
		map[string]any{"unique_id": svc2, "service_type": "education_formal"},
	}})
	id := stored["id"].(string)
	c := newClient(t, s)
	ctx := context.Background()
	p := primero.Patch{}.
		UpdateRow("services_section", svc1, map[string]any{"service_implemented_day_time": "2026-01-05T10:00:00Z"}).
		DestroyRow("services_section", svc2).
		AppendRow("services_section", map[string]any{"unique_id": svc3, "service_type": "health"})
	_, err := c.Cases.Update(ctx, id, p)
	require.NoError(t, err)
	after, _ := s.Case(id)
	rows := after["services_section"].([]any)
	require.Len(t, rows, 2)
	assert.Equal(t, svc1, rows[0].(map[string]any)["unique_id"])
	assert.Equal(t, "alternative_care", rows[0].(map[string]any)["service_type"], "deep merge keeps the row's other fields")
	assert.Equal(t, svc3, rows[1].(map[string]any)["unique_id"])

	s.ResetRequests()
	for _, bad := range []primero.Patch{
		{"services_section": []any{}},
		{"services_section": []any{map[string]any{"_destroy": true}}},
		{"services_section": []any{map[string]any{"unique_id": "not-a-uuid", "service_type": "medical"}}},
		primero.Patch{}.DestroyRow("services_section", svc1).DestroyRow("services_section", svc1),
		{},
	} {
		_, err := c.Cases.Update(ctx, id, bad)
		assert.ErrorIs(t, err, primero.ErrValidation)
	}
	assert.Empty(t, s.Requests())
}

func TestDeleteIsSoft(t *testing.T) {
	s := primerotest.NewServer(t)
	id := s.AddCase(map[string]any{"name_first": "Test"})["id"].(string)
	c := newClient(t, s)
	require.NoError(t, c.Cases.Delete(context.Background(), id))
	got, err := c.Cases.Get(context.Background(), id)
	require.NoError(t, err)
	require.NotNil(t, got.RecordState)
	assert.False(t, *got.RecordState)
}

func TestCreateWithoutIDReturnsServerFields(t *testing.T) {
	s := primerotest.NewServer(t)
	c := newClient(t, s)
	got, err := c.Cases.Create(context.Background(), &primero.Case{ModuleID: "primeromodule-cp", NameFirst: "Test", Sex: "male"})
	require.NoError(t, err)
	assert.NotEmpty(t, got.ID)
	assert.NotEmpty(t, got.CaseID)
	assert.NotEqual(t, got.ID, got.CaseID)
	assert.Len(t, got.ShortID, 7)
	assert.False(t, got.LastUpdatedAt.IsZero())
}

func TestUpsert(t *testing.T) {
	ctx := context.Background()
	t.Run("ambiguous", func(t *testing.T) {
		s := primerotest.NewServer(t)
		a := s.AddCase(map[string]any{"name_first": "Test", "unhcr_individual_no": "803-00000001"})["id"].(string)
		b := s.AddCase(map[string]any{"name_first": "Test", "unhcr_individual_no": "803-00000001"})["id"].(string)
		s.AddCase(map[string]any{"name_first": "Test", "unhcr_individual_no": "803-00000002"})
		c := newClient(t, s)
		before := s.Cases()
		_, _, err := c.Cases.Upsert(ctx, "unhcr_individual_no", "803-00000001", &primero.Case{NameLast: "Synthetic"})
		var am *primero.AmbiguousMatchError
		require.ErrorAs(t, err, &am)
		assert.ErrorIs(t, err, primero.ErrAmbiguousMatch)
		assert.ElementsMatch(t, []string{a, b}, am.IDs)
		assert.NotContains(t, err.Error(), "803-00000001", "the key value is not in the error")
		assert.Equal(t, before, s.Cases(), "nothing written")
		assert.Zero(t, countMethod(s, http.MethodPatch)+countMethod(s, http.MethodPost))
	})
	t.Run("one match updates it", func(t *testing.T) {
		s := primerotest.NewServer(t)
		s.AddCase(map[string]any{"name_first": "Test", "unhcr_individual_no": "803-00000009"})
		id := s.AddCase(map[string]any{"name_first": "Test", "unhcr_individual_no": "803-00000001"})["id"].(string)
		c := newClient(t, s)
		_, res, err := c.Cases.Upsert(ctx, "unhcr_individual_no", "803-00000001", &primero.Case{NameLast: "Synthetic"})
		require.NoError(t, err)
		assert.False(t, res.Created)
		assert.Equal(t, id, res.ID)
		got, _ := s.Case(id)
		assert.Equal(t, "Synthetic", got["name_last"])
	})
	t.Run("no match creates", func(t *testing.T) {
		s := primerotest.NewServer(t)
		s.AddCase(map[string]any{"name_first": "Test", "unhcr_individual_no": "803-00000009"})
		c := newClient(t, s)
		got, res, err := c.Cases.Upsert(ctx, "unhcr_individual_no", "803-00000001", &primero.Case{ModuleID: "primeromodule-cp", NameFirst: "Test"})
		require.NoError(t, err)
		assert.True(t, res.Created)
		assert.Equal(t, "803-00000001", got.Fields["unhcr_individual_no"])
		assert.Len(t, s.Cases(), 2)
	})
	t.Run("refused before sending", func(t *testing.T) {
		s := primerotest.NewServer(t)
		c := newClient(t, s)
		for _, tc := range []struct{ field, key string }{{"unhcr_individual_no", ""}, {"unhcr_individal_no", "x"}, {"name_first", "Test"}} {
			_, _, err := c.Cases.Upsert(ctx, tc.field, tc.key, &primero.Case{})
			assert.ErrorIs(t, err, primero.ErrValidation, tc)
		}
		assert.Empty(t, s.Requests())
	})
	t.Run("server ignoring the filter is detected", func(t *testing.T) {
		// A deployment field the role cannot filter on: the fake ignores it
		// as Primero does and returns every case.
		s := primerotest.NewServer(t)
		s.AddCase(map[string]any{"name_first": "Test", "x_ext_id": "k-1"})
		s.AddCase(map[string]any{"name_first": "Test", "x_ext_id": "k-2"})
		c := newClient(t, s, primero.WithFilterableFields("x_ext_id"))
		_, _, err := c.Cases.Upsert(ctx, "x_ext_id", "k-1", &primero.Case{NameLast: "Synthetic"})
		require.ErrorIs(t, err, primero.ErrFilterIgnored)
		assert.Zero(t, countMethod(s, http.MethodPatch)+countMethod(s, http.MethodPost))
	})
}
