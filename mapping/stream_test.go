package mapping_test

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/casebridge/casebridge/mapping"
)

const streamSpec = `
name: stream
rules:
  - target: sex
    source: sex
    table: sex
tables:
  sex:
    unknown: error
    entries: {f: female, m: male}
`

func compileStream(t testing.TB) *mapping.Mapping {
	spec, err := mapping.ParseYAML("stream.yaml", []byte(streamSpec))
	require.NoError(t, err)
	m, err := mapping.Compile(spec)
	require.NoError(t, err)
	return m
}

func TestStreamMapsEachRecordInOrder(t *testing.T) {
	m := compileStream(t)
	var got []any
	for r, err := range m.Stream(context.Background(), mapping.FromSlice([]mapping.Record{{"sex": "f"}, {"sex": "m"}})) {
		require.NoError(t, err)
		got = append(got, r["sex"])
	}
	assert.Equal(t, []any{"female", "male"}, got)
}

func TestStreamStopsAtARefusedRecordNamingItsPosition(t *testing.T) {
	m := compileStream(t)
	n := 0
	var err error
	for _, err = range m.Stream(context.Background(), mapping.FromSlice([]mapping.Record{{"sex": "f"}, {"sex": "Test Value"}, {"sex": "m"}})) {
		if err != nil {
			break
		}
		n++
	}
	assert.Equal(t, 1, n)
	var se *mapping.StreamError
	require.ErrorAs(t, err, &se)
	assert.Equal(t, 2, se.Record)
	var fe *mapping.FieldError
	require.ErrorAs(t, err, &fe, "Apply's error is wrapped")
	assert.NotContains(t, err.Error(), "Test Value", "no value is quoted")
}

func TestStreamPassesTheSourceErrorOnAndStopsAtBreak(t *testing.T) {
	m := compileStream(t)
	boom := errors.New("source failed")
	src := iter.Seq2[mapping.Record, error](func(yield func(mapping.Record, error) bool) {
		if yield(mapping.Record{"sex": "f"}, nil) {
			yield(nil, boom)
		}
	})
	var last error
	for _, err := range m.Stream(context.Background(), src) {
		last = err
	}
	require.ErrorIs(t, last, boom)

	pulled := 0
	counting := iter.Seq2[mapping.Record, error](func(yield func(mapping.Record, error) bool) {
		for range 10 {
			pulled++
			if !yield(mapping.Record{"sex": "m"}, nil) {
				return
			}
		}
	})
	for _, err := range m.Stream(context.Background(), counting) {
		require.NoError(t, err)
		break
	}
	assert.Equal(t, 1, pulled, "lazy: nothing is read past the break")
}

// Map a stream of records without a loop of one's own; the result can go
// straight to sqlsink.DB.Upsert.
func ExampleMapping_Stream() {
	spec, _ := mapping.ParseYAML("stream.yaml", []byte(streamSpec))
	m, _ := mapping.Compile(spec)
	src := mapping.FromSlice([]mapping.Record{{"sex": "f"}, {"sex": "m"}})
	for r, err := range m.Stream(context.Background(), src) {
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println(r["sex"])
	}
	// Output:
	// female
	// male
}
