package mapping

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCloneSharesNothingWithTheOriginal(t *testing.T) {
	orig := Record{
		"name":   "Test",
		"nested": Record{"a": []any{map[string]any{"b": 1.0}}},
		"rows":   []map[string]any{{"unique_id": "x"}},
		"codes":  []string{"a", "b"},
		"empty":  []string{},
	}
	cp := orig.Clone()
	require.Equal(t, "Test", cp["name"])

	cp["nested"].(Record)["a"].([]any)[0].(map[string]any)["b"] = 2.0
	cp["rows"].([]map[string]any)[0]["unique_id"] = "y"
	cp["codes"].([]string)[0] = "z"
	cp["name"] = "Changed"

	assert.Equal(t, 1.0, orig["nested"].(Record)["a"].([]any)[0].(map[string]any)["b"])
	assert.Equal(t, "x", orig["rows"].([]map[string]any)[0]["unique_id"])
	assert.Equal(t, []string{"a", "b"}, orig["codes"])
	assert.Equal(t, "Test", orig["name"])
	assert.NotNil(t, cp["empty"], "an empty list stays an empty list, not null")
	assert.Nil(t, Record(nil).Clone())
}
