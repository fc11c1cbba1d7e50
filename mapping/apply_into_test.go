package mapping

import (
	"context"
	"testing"

	"github.com/casebridge/casebridge/internal/race"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// reuseSpec has nested targets of every kind ApplyInto reuses: maps under
// maps, a list of maps through [*] and through an index, a list of lists,
// and a map copied whole from the source (which must never be reused).
func reuseSpec() *Spec {
	return &Spec{Name: "reuse", Rules: []Rule{
		{Target: "id", Sources: []string{"id"}},
		{Target: "person.name.first", Sources: []string{"name"}},
		{Target: "person.sex", Sources: []string{"sex"}},
		{Target: "services[*].type", Sources: []string{"rows[*].type"}},
		{Target: "services[*].note", Sources: []string{"rows[*].note"}},
		{Target: "services[0].first", Constant: "true", Type: TypeBool},
		{Target: "grid[0][*]", Sources: []string{"cells[*]"}},
		{Target: "meta", Sources: []string{"meta"}},
		{Target: "tags", Sources: []string{"tags"}},
	}}
}

// reuseRecords are sources of different shapes, in an order that leaves
// something behind for the next to trip over: lists that shrink, grow and
// vanish, nested fields that come and go, a record the mapping refuses.
func reuseRecords() []Record {
	row := func(typ, note string) map[string]any {
		r := map[string]any{"type": typ}
		if note != "" {
			r["note"] = note
		}
		return r
	}
	return []Record{
		{"id": "1", "name": "Test Child 1", "sex": "f", "rows": []any{row("a", "n1"), row("b", ""), row("c", "n3")},
			"cells": []any{"x", "y"}, "meta": map[string]any{"k": "v"}, "tags": []any{"t1"}},
		{"id": "2", "rows": []any{row("d", "")}, "meta": map[string]any{"k": "w", "j": "u"}},
		{"id": "3", "name": "Test Child 3", "rows": []any{}, "cells": []any{"z"}},
		{"id": "4", "rows": "not a list"},
		{"id": "5", "sex": "m", "rows": []any{nil, row("e", "n5"), 7, row("f", "n6"), row("g", "")}, "cells": []any{}},
		{"id": "6"},
		{"id": "7", "name": "Test Child 7", "rows": []any{row("h", "n7")}, "cells": []any{"p", "q", "r"}, "tags": []any{}},
	}
}

// TestApplyIntoMatchesApply maps a sequence of records into one reused
// record and checks each result against Apply: nothing of the previous
// record may remain, and errors behave as Apply's.
func TestApplyIntoMatchesApply(t *testing.T) {
	ctx := context.Background()
	check := func(t *testing.T, m *Mapping, srcs []Record) {
		t.Helper()
		var dst Record
		for round := 0; round < 2; round++ {
			for i, src := range srcs {
				want, wantErr := m.Apply(ctx, src)
				got, err := m.ApplyInto(ctx, dst, src)
				require.Equal(t, wantErr, err, "record %d", i)
				require.Equal(t, want, got, "record %d", i)
				if err != nil {
					assert.Empty(t, dst, "record %d: an error leaves dst empty", i)
					continue
				}
				dst = got
			}
		}
	}
	t.Run("nested targets", func(t *testing.T) {
		check(t, mustCompile(t, reuseSpec()), reuseRecords())
	})
	t.Run("golden", func(t *testing.T) {
		golden := loadJSON(t, "testdata/intervention.json")
		noDOB := loadJSON(t, "testdata/intervention.json")
		delete(noDOB, "individuals.progres_dateofbirth")
		refused := loadJSON(t, "testdata/intervention.json")
		refused["interventiontype.progres_description"] = "Protection"
		srcs := []Record{golden, noDOB, refused, golden, {}}
		for format, spec := range loadGoldenSpecs(t) {
			t.Run(format, func(t *testing.T) { check(t, mustCompile(t, spec), srcs) })
		}
	})
	t.Run("benchmark", func(t *testing.T) {
		srcs := make([]Record, 40)
		for i := range srcs {
			srcs[i] = benchRecord(i)
		}
		srcs[7]["individuals.progres_sex"] = "9" // refused: unknown value
		srcs[11]["services_section"] = []any{map[string]any{"service_type": "A"}}
		delete(srcs[12], "services_section")
		check(t, mustCompile(t, benchSpec()), srcs)
	})
}

// TestApplyIntoLeavesTheSourceAlone: a map or list copied whole from one
// source is still the source's after the next record reuses dst.
func TestApplyIntoLeavesTheSourceAlone(t *testing.T) {
	m := mustCompile(t, reuseSpec())
	first := reuseRecords()[0]
	before := first.Clone()
	dst, err := m.ApplyInto(context.Background(), nil, first)
	require.NoError(t, err)
	for _, src := range reuseRecords()[1:] {
		dst, err = m.ApplyInto(context.Background(), dst, src)
		if err != nil {
			dst = nil
		}
	}
	assert.Equal(t, before, first)
}

// TestApplyIntoRefusesItsSource: clearing dst would wipe the source.
func TestApplyIntoRefusesItsSource(t *testing.T) {
	m := mustCompile(t, reuseSpec())
	src := reuseRecords()[0]
	before := src.Clone()
	out, err := m.ApplyInto(context.Background(), src, src)
	require.ErrorIs(t, err, errDstIsSource)
	assert.Nil(t, out)
	assert.Equal(t, before, src)
}

// TestApplyIntoCanceled: a done context is an error and leaves dst empty.
func TestApplyIntoCanceled(t *testing.T) {
	m := mustCompile(t, reuseSpec())
	dst, err := m.ApplyInto(context.Background(), nil, reuseRecords()[0])
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	out, err := m.ApplyInto(ctx, dst, reuseRecords()[0])
	require.ErrorIs(t, err, context.Canceled)
	assert.Nil(t, out)
	assert.Empty(t, dst)
}

// TestApplyIntoReusesContainers: mapping a record of the same shape again
// makes no new map or list (nor boxes a list again); Apply makes all of
// them.
func TestApplyIntoReusesContainers(t *testing.T) {
	m := mustCompile(t, reuseSpec())
	src := Record{"id": "1", "name": "Test Child 1", "sex": "f",
		"rows": []any{map[string]any{"type": "a", "note": "n"}, map[string]any{"type": "b", "note": "m"}}}
	ctx := context.Background()
	dst, err := m.ApplyInto(ctx, nil, src)
	require.NoError(t, err)
	into := testing.AllocsPerRun(100, func() {
		if dst, err = m.ApplyInto(ctx, dst, src); err != nil {
			t.Fatal(err)
		}
	})
	fresh := testing.AllocsPerRun(100, func() {
		if _, err := m.Apply(ctx, src); err != nil {
			t.Fatal(err)
		}
	})
	if !race.Enabled {
		assert.Zero(t, into, "ApplyInto of the same shape allocates nothing")
	}
	assert.Greater(t, fresh, 6.0, "Apply makes the record, person, person.name, services and its two elements")
}
