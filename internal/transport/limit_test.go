package transport

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func bodyServer(t *testing.T, body []byte, declare bool) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if declare {
			w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		} else {
			w.(http.Flusher).Flush() // chunked: no Content-Length
		}
		_, _ = w.Write(body)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func readAll(t *testing.T, c *Client, url string) ([]byte, error) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	require.NoError(t, err)
	resp, err := c.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	return io.ReadAll(resp.Body)
}

func TestResponseBodyLimit(t *testing.T) {
	c := newClient(t, Config{MaxResponseBytes: 1000})
	exact := bytes.Repeat([]byte("a"), 1000)
	for _, declare := range []bool{true, false} {
		got, err := readAll(t, c, bodyServer(t, exact, declare).URL)
		require.NoError(t, err, "a body of exactly the limit is accepted (declared %v)", declare)
		assert.Len(t, got, 1000)

		_, err = readAll(t, c, bodyServer(t, append(exact, 'b'), declare).URL+"/x?name=Test")
		require.ErrorIs(t, err, ErrResponseTooLarge, "declared %v", declare)
		var tl *ResponseTooLargeError
		require.ErrorAs(t, err, &tl)
		assert.EqualValues(t, 1000, tl.Limit)
		assert.NotContains(t, err.Error(), "Test")
	}
	assert.Equal(t, DefaultMaxResponseBytes, newClient(t, Config{}).MaxResponseBytes())
	_, err := New(Config{MaxResponseBytes: -1})
	assert.ErrorIs(t, err, ErrValidation)
}
