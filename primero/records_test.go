package primero_test

import (
	"context"
	"errors"
	"iter"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/casebridge/casebridge/primero"
)

func TestRecordsConvertsEachCaseAndPassesErrorsOn(t *testing.T) {
	boom := errors.New("list failed")
	src := iter.Seq2[*primero.Case, error](func(yield func(*primero.Case, error) bool) {
		if !yield(&primero.Case{ID: "a", Sex: "female", Fields: map[string]any{"x": "y"}}, nil) {
			return
		}
		yield(nil, boom)
	})
	var got []string
	var last error
	for r, err := range primero.Records(src) {
		if err != nil {
			last = err
			continue
		}
		got = append(got, r["id"].(string)+":"+r["sex"].(string)+":"+r["x"].(string))
	}
	assert.Equal(t, []string{"a:female:y"}, got)
	require.ErrorIs(t, last, boom)
}

func TestRecordsStreamsFromTheServer(t *testing.T) {
	s := startFake(5)
	defer s.Close()
	c := newClient(t, s)
	n := 0
	for r, err := range primero.Records(c.Cases.All(context.Background(), nil)) {
		require.NoError(t, err)
		require.NotEmpty(t, r["id"])
		n++
	}
	assert.Equal(t, 5, n)
}
