package transport

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"
)

func TestStopAfterUnauthorizedKeepsRefusedCredentialsBack(t *testing.T) {
	srv, n := statusServer(t, nil, 401, 401)
	c := newClient(t, Config{StopAfterUnauthorized: true})
	send := func(auth string) error {
		req, err := http.NewRequest(http.MethodGet, srv.URL+"/x?name=Test", nil)
		require.NoError(t, err)
		req.Header.Set("Authorization", auth)
		resp, err := c.Do(req)
		if resp != nil {
			resp.Body.Close()
		}
		return err
	}
	require.ErrorIs(t, send("Basic one"), ErrUnauthorized)
	for range 5 {
		err := send("Basic one")
		require.ErrorIs(t, err, ErrUnauthorized)
		require.ErrorIs(t, err, ErrCredentialsRejected)
		assert.NotContains(t, err.Error(), "Test", "the URL is redacted")
	}
	assert.EqualValues(t, 1, n.Load(), "refused credentials sent again")

	require.ErrorIs(t, send("Basic two"), ErrUnauthorized, "other credentials are sent")
	assert.EqualValues(t, 2, n.Load())

	c.ResetUnauthorized()
	require.NoError(t, send("Basic two"), "sent again after a reset")
	assert.EqualValues(t, 3, n.Load())
}

func TestStopAfterUnauthorizedWithTokenSourceAndConcurrency(t *testing.T) {
	srv, n := statusServer(t, nil, 401)
	c := newClient(t, Config{StopAfterUnauthorized: true, TokenSource: oauth2.StaticTokenSource(&oauth2.Token{AccessToken: "tok"})})
	_, err := do(t, c, context.Background(), http.MethodGet, srv.URL)
	require.ErrorIs(t, err, ErrUnauthorized)
	var wg sync.WaitGroup
	var rejected atomic.Int32
	for range 20 {
		wg.Go(func() {
			req, _ := http.NewRequest(http.MethodGet, srv.URL, nil)
			if _, err := c.Do(req); errors.Is(err, ErrCredentialsRejected) {
				rejected.Add(1)
			}
		})
	}
	wg.Wait()
	assert.EqualValues(t, 20, rejected.Load())
	assert.EqualValues(t, 1, n.Load(), "the refused bearer was sent again")
}

func TestWithoutStopAfterUnauthorizedEach401IsSent(t *testing.T) {
	srv, n := statusServer(t, nil, 401, 401)
	c := newClient(t, Config{})
	for range 2 {
		req, _ := http.NewRequest(http.MethodGet, srv.URL, nil)
		req.Header.Set("Authorization", "Basic one")
		_, err := c.Do(req)
		require.ErrorIs(t, err, ErrUnauthorized)
	}
	assert.EqualValues(t, 2, n.Load(), "the guard is opt-in")
}
