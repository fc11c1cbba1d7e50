package primero_test

import (
	"context"
	"errors"
	"iter"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/casebridge/casebridge/mapping"
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

func TestAsRecordHoldsWhatToRecordHolds(t *testing.T) {
	s := startFake(0)
	defer s.Close()
	s.AddCase(map[string]any{"module_id": "primeromodule-cp", "sex": "female", "age": 7,
		"services_section": []any{map[string]any{"unique_id": "0a30b142-3906-46d3-bbb4-f28c44b357d7", "service_type": "health", "x_custom": []any{"a"}}},
		"nationality":      []any{"nationality1"}, "custom_b25f252": map[string]any{"k": "v"}})
	c := newClient(t, s)
	for k, err := range c.Cases.All(context.Background(), nil) {
		require.NoError(t, err)
		assert.Equal(t, k.ToRecord(), k.AsRecord())
		reused := mapping.Record{"left_over": "from the case before", "sex": "male"}
		assert.Equal(t, k.ToRecord(), k.RecordInto(reused), "RecordInto leaves nothing of what dst held")
		copied := k.ToRecord()
		copied["nationality"].([]any)[0] = "changed"
		assert.Equal(t, "nationality1", k.Fields["nationality"].([]any)[0], "ToRecord copies")
		shared := k.AsRecord()
		shared["nationality"].([]any)[0] = "changed"
		assert.Equal(t, "changed", k.Fields["nationality"].([]any)[0], "AsRecord shares")
	}
}
