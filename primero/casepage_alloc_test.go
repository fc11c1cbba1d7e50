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

// discardRaw records the size of the body it is given and of the buffer
// holding it.
type discardRaw struct{ n, capacity int }

func (d *discardRaw) decodeRaw(b []byte, readErr error) error {
	d.n, d.capacity = len(b), cap(b)
	return readErr
}

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
	require.NoError(t, readRaw(chunked(), &d, &hint))
	require.Equal(t, len(body), d.n)
	// Grown by doubling from empty, the buffer ends at 1,048,064 bytes for
	// this body (after 15 allocations, 2 MB in all); sized from the last
	// body, it is made once, an eighth larger than that body, rounded up
	// by the allocator. (The buffer's size, not an allocation count: the
	// count would take in whatever else the process allocates meanwhile.)
	assert.LessOrEqual(t, d.capacity, len(body)*5/4, "the buffer a %d byte body was read into", len(body))
}
