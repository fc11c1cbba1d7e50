package transport

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"
)

func TestTokenErrorPrintsOnlyStandardErrorCodes(t *testing.T) {
	echoed := &TokenError{Err: &oauth2.RetrieveError{
		Response:         &http.Response{StatusCode: http.StatusBadRequest},
		Body:             []byte(`{"error":"Test Child 1"}`),
		ErrorCode:        "Test Child 1",
		ErrorDescription: "Test Child 1",
	}}
	assert.NotContains(t, echoed.Error(), "Test Child 1")
	assert.Contains(t, echoed.Error(), "400")

	standard := &TokenError{Err: &oauth2.RetrieveError{
		Response:  &http.Response{StatusCode: http.StatusBadRequest},
		ErrorCode: "invalid_grant",
	}}
	assert.Contains(t, standard.Error(), "invalid_grant")
}

func TestRequestErrorPrintsNoBytesOfAMalformedResponse(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			_, _ = bufio.NewReader(conn).ReadString('\n')
			_, _ = io.WriteString(conn, "Test Child 1 +000 0000 0001\r\n\r\n")
			_ = conn.Close()
		}
	}()
	p := RetryPolicy{}
	c := newClient(t, Config{Retry: &p})
	req, err := http.NewRequest(http.MethodGet, "http://"+ln.Addr().String()+"/x", nil)
	require.NoError(t, err)
	_, err = c.Do(req)
	require.Error(t, err)
	for _, leak := range []string{"Test", "Child", "0001"} {
		assert.NotContains(t, err.Error(), leak)
	}
}

func TestTokenErrorPrintsNoQuotedBytes(t *testing.T) {
	e := &TokenError{Err: errors.New(`oauth2: cannot parse response: invalid URL escape "%Test Child 1"`)}
	assert.NotContains(t, e.Error(), "Test Child 1")
	assert.Contains(t, e.Error(), "cannot parse response")
}
