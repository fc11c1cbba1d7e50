package primero_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/casebridge/casebridge/primero"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// padServer answers every request with status and a valid JSON list page
// padded by a string field of padBytes bytes, written in chunks without a
// Content-Length. It counts the bytes the client actually took.
func padServer(t *testing.T, status int, padBytes int64) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var written atomic.Int64
	chunk := []byte(strings.Repeat("x", 32<<10))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = io.WriteString(w, `{"data":[],"metadata":{"total":0,"per":20,"page":1},"pad":"`)
		for left := padBytes; left > 0; left -= int64(len(chunk)) {
			n, err := w.Write(chunk[:min(int64(len(chunk)), left)])
			written.Add(int64(n))
			if err != nil {
				return // the client stopped reading
			}
		}
		_, _ = io.WriteString(w, `"}`)
	}))
	t.Cleanup(srv.Close)
	return srv, &written
}

func TestOversizedBodyStopsReadingAtTheLimit(t *testing.T) {
	srv, written := padServer(t, http.StatusOK, 400<<20)
	c := basicClient(t, srv.URL, primero.WithMaxResponseBytes(1<<20))
	_, _, err := c.Cases.List(context.Background(), nil)
	require.ErrorIs(t, err, primero.ErrResponseTooLarge, "a 400 MiB page was decoded")
	assert.Contains(t, err.Error(), "WithMaxResponseBytes")
	// The server could push only what the socket buffers hold past the cap.
	assert.Less(t, written.Load(), int64(64<<20), "the client kept reading past the cap")
}

func TestOversizedErrorBodyIsCapped(t *testing.T) {
	srv, written := padServer(t, http.StatusUnprocessableEntity, 400<<20)
	_, _, err := basicClient(t, srv.URL).Cases.List(context.Background(), nil)
	var ae *primero.APIError
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, http.StatusUnprocessableEntity, ae.StatusCode)
	assert.Less(t, written.Load(), int64(64<<20), "the client kept reading the error body")
}

func TestWithMaxResponseBytesValidated(t *testing.T) {
	_, err := primero.New("http://127.0.0.1:1", primero.WithBasicAuth("u", "p"), primero.WithMaxResponseBytes(0))
	var ve *primero.ValidationError
	require.ErrorAs(t, err, &ve)
	assert.True(t, ve.Has("WithMaxResponseBytes.n"))
}

func TestDeclaredOversizedBodyIsRefusedBeforeReading(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", strconv.Itoa(400<<20))
		_, _ = io.WriteString(w, `{"data":[],"metadata":{"total":0,"per":20,"page":1}}`)
	}))
	defer srv.Close()
	_, _, err := basicClient(t, srv.URL).Cases.List(context.Background(), nil)
	require.ErrorIs(t, err, primero.ErrResponseTooLarge, "a body declared as 400 MiB was read")
	assert.Contains(t, err.Error(), strconv.FormatInt(primero.DefaultMaxResponseBytes, 10), "the default cap applies")
}
