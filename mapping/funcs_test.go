package mapping

import (
	"testing"

	"github.com/casebridge/casebridge/internal/race"
	"github.com/expr-lang/expr/vm"
	"github.com/stretchr/testify/require"
)

// A dotted key read through $env compiles to a direct map read: no
// reflection, so no allocation per record.
func TestExprDottedEnvKeyReadsDoNotAllocate(t *testing.T) {
	if race.Enabled {
		t.Skip("the race detector distorts allocation counts")
	}
	p, err := compileExpr(`$env["individuals.progres_sex"]`)
	require.NoError(t, err)
	env := map[string]any{"individuals.progres_sex": "125080000"}
	var m vm.VM
	out, err := m.Run(p, env)
	require.NoError(t, err)
	require.Equal(t, "125080000", out)
	allocs := testing.AllocsPerRun(100, func() {
		if _, err := m.Run(p, env); err != nil {
			t.Fatal(err)
		}
	})
	require.Zero(t, allocs)
}
