package primero

import (
	"bytes"
	"io"
	"net/http"
	"runtime"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type discardRaw struct{ n int }

func (d *discardRaw) decodeRaw(b []byte, readErr error) error { d.n = len(b); return readErr }

// An answer without Content-Length (chunked, as a server streaming its
// JSON sends it) is read into a buffer sized from the last body, once, not
// grown by doubling from empty: a page of a feed then costs about its own
// size, not twice it.
func TestReadRawSizesAChunkedBodyFromTheLastOne(t *testing.T) {
	body := bytes.Repeat([]byte("x"), 600<<10)
	chunked := func() *http.Response {
		// io.MultiReader hides the size, as a chunked body does.
		return &http.Response{ContentLength: -1, Body: io.NopCloser(io.MultiReader(bytes.NewReader(body)))}
	}
	var hint atomic.Int64
	var d discardRaw
	require.NoError(t, readRaw(chunked(), &d, &hint))
	require.Equal(t, len(body), d.n)

	runtime.GC() // twice: the pool keeps nothing across two collections
	runtime.GC()
	resp := chunked()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	require.NoError(t, readRaw(resp, &d, &hint))
	runtime.ReadMemStats(&after)
	require.Equal(t, len(body), d.n)
	// Grown by doubling from empty, the buffer is allocated 15 times for
	// this body (2 MB in all); sized at once, once (twice under the race
	// detector), beside the pool's own few allocations.
	assert.LessOrEqual(t, after.Mallocs-before.Mallocs, uint64(6), "allocations to read a %d byte body", len(body))
}
