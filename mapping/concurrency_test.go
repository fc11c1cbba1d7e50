package mapping

import (
	"context"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestApplyConcurrently runs one Mapping from many goroutines; under -race
// it proves that Apply and ApplyInto (each goroutine with its own dst)
// share no mutable state between calls.
func TestApplyConcurrently(t *testing.T) {
	m := goldenMapping(t)
	want, err := m.Apply(context.Background(), loadJSON(t, "testdata/intervention.json"))
	require.NoError(t, err)
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			src := loadJSON(t, "testdata/intervention.json")
			var dst Record
			for i := 0; i < 50; i++ {
				got, err := m.Apply(context.Background(), src)
				assert.NoError(t, err)
				assert.Equal(t, want, got)
				dst, err = m.ApplyInto(context.Background(), dst, src)
				assert.NoError(t, err)
				assert.Equal(t, want, dst)
			}
		}()
	}
	wg.Wait()
}

func TestOutputsDoNotShareConstantLists(t *testing.T) {
	m := mustCompile(t, &Spec{Name: "c", Rules: []Rule{{Target: "l", Constant: "x", Type: TypeList}}})
	a, err := m.Apply(context.Background(), Record{})
	require.NoError(t, err)
	a["l"].([]any)[0] = "changed"
	b, err := m.Apply(context.Background(), Record{})
	require.NoError(t, err)
	assert.Equal(t, []any{"x"}, b["l"])
}

func TestSourceIsNotModified(t *testing.T) {
	src := loadJSON(t, "testdata/intervention.json")
	before := normalizeJSON(t, src)
	_, err := goldenMapping(t).Apply(context.Background(), src)
	require.NoError(t, err)
	assert.Equal(t, before, normalizeJSON(t, src))
}
