package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/casebridge/casebridge/mapping"
	"github.com/casebridge/casebridge/primero/primerotest"
	"github.com/casebridge/casebridge/sqlsink"
)

// TestQuickstartWritesEveryCaseOnce runs the program twice in an empty
// directory and reads back the table it wrote: one row per synthetic case
// with its case_id, sex and age (compared with a second fake seeded the same
// way), nothing else, and the second run changes no row.
func TestQuickstartWritesEveryCaseOnce(t *testing.T) {
	t.Chdir(t.TempDir())
	first := captureStdout(t, main)
	second := captureStdout(t, main)
	assert.Equal(t, "25 cases: 25 inserted, 0 updated, 0 unchanged\n", first)
	assert.Equal(t, "25 cases: 0 inserted, 0 updated, 25 unchanged\n", second)

	// AddSyntheticCases is deterministic: a fresh fake holds the same cases.
	seed := primerotest.NewServer(t)
	seed.AddSyntheticCases(25)
	want := map[string]mapping.Record{}
	for _, c := range seed.Cases() {
		id := c["case_id"].(string)
		want[id] = mapping.Record{"case_id": id, "sex": c["sex"], "age": int64(c["age"].(float64))}
	}
	require.Len(t, want, 25)

	ctx := context.Background()
	db, err := sqlsink.Open(ctx, "quickstart.db")
	require.NoError(t, err)
	defer db.Close()
	got := map[string]mapping.Record{}
	for row, err := range db.Query(ctx, `SELECT * FROM cases`) {
		require.NoError(t, err)
		got[row["case_id"].(string)] = row
	}
	assert.Equal(t, want, got)
}

// TestReadmeShowsTheProgram checks that README.md holds this program, from
// "package main" to the end, as its one Go code block that starts so.
func TestReadmeShowsTheProgram(t *testing.T) {
	src, err := os.ReadFile("main.go")
	require.NoError(t, err)
	start := bytes.Index(src, []byte("\npackage main\n"))
	require.GreaterOrEqual(t, start, 0, "main.go has no package clause")
	body := string(src[start+1:])

	readme, err := os.ReadFile("../../README.md")
	require.NoError(t, err)
	var blocks []string
	for _, part := range strings.Split(string(readme), "```go\n")[1:] {
		block, _, closed := strings.Cut(part, "```")
		if closed && strings.HasPrefix(block, "package main\n") {
			blocks = append(blocks, block)
		}
	}
	require.Len(t, blocks, 1, "README.md must show the quickstart program in exactly one ```go block")
	assert.Equal(t, body, blocks[0], "README.md's program differs from examples/quickstart/main.go")
}

// captureStdout runs fn with os.Stdout redirected and returns what it wrote.
func captureStdout(t *testing.T, fn func()) string {
	t.Helper()
	r, w, err := os.Pipe()
	require.NoError(t, err)
	defer r.Close()
	saved := os.Stdout
	os.Stdout = w
	done := make(chan string)
	go func() {
		b, _ := io.ReadAll(r)
		done <- string(b)
	}()
	defer func() { os.Stdout = saved }()
	fn()
	require.NoError(t, w.Close())
	return <-done
}
