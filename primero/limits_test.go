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

func TestOversizedBodyIsRefusedAtTheDefaultLimit(t *testing.T) {
	srv, _ := padServer(t, http.StatusOK, 80<<20)
	_, _, err := basicClient(t, srv.URL).Cases.List(context.Background(), nil)
	require.Error(t, err, "an 80 MiB page was decoded whole")
	assert.Contains(t, err.Error(), "limit")
}

func TestDeclaredOversizedBodyIsRefusedBeforeReading(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", strconv.Itoa(400<<20))
		_, _ = io.WriteString(w, `{"data":[],"metadata":{"total":0,"per":20,"page":1}}`)
	}))
	defer srv.Close()
	_, _, err := basicClient(t, srv.URL).Cases.List(context.Background(), nil)
	require.Error(t, err, "a body declared as 400 MiB was read")
	assert.Contains(t, err.Error(), "limit")
}
