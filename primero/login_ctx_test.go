package primero_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/casebridge/casebridge/primero"
	"github.com/stretchr/testify/require"
)

// stuckLogin is a server whose login never answers until released; it
// records whether the client abandoned the login request.
type stuckLogin struct {
	srv       *httptest.Server
	arrived   chan struct{} // one value per login that reached the server
	release   chan struct{}
	abandoned atomic.Int32
}

func newStuckLogin(t *testing.T) *stuckLogin {
	s := &stuckLogin{arrived: make(chan struct{}, 16), release: make(chan struct{})}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/api/v2/tokens" {
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(`{"data":[],"metadata":{"total":0,"per":20,"page":1}}`))
			return
		}
		_, _ = io.Copy(io.Discard, r.Body) // lets the server notice the client leaving
		s.arrived <- struct{}{}
		select {
		case <-r.Context().Done():
			s.abandoned.Add(1)
		case <-s.release:
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(`{"id":1,"user_name":"primero_api","token":"legacy-token"}`))
		}
	}))
	t.Cleanup(func() {
		close(s.release)
		s.srv.Close()
	})
	return s
}

func TestLegacyLoginHonoursTheCallersDeadline(t *testing.T) {
	s := newStuckLogin(t)
	c, err := primero.New(s.srv.URL, primero.WithLegacyLogin("primero_api", "synthetic-password"), primero.WithRetry(fastRetry))
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	done := make(chan error, 1)
	go func() {
		_, _, err := c.Cases.List(ctx, nil)
		done <- err
	}()
	<-s.arrived
	select {
	case err := <-done:
		require.ErrorIs(t, err, context.DeadlineExceeded)
	case <-time.After(20 * time.Second): // a hang guard, not a speed check
		t.Fatal("the login ignored the caller's deadline")
	}
	// The login request itself was abandoned, not left running.
	require.Eventually(t, func() bool { return s.abandoned.Load() == 1 }, 10*time.Second, time.Millisecond)
}

func TestLegacyLoginInFlightDoesNotHoldOtherCallers(t *testing.T) {
	s := newStuckLogin(t)
	c, err := primero.New(s.srv.URL, primero.WithLegacyLogin("primero_api", "synthetic-password"), primero.WithRetry(fastRetry))
	require.NoError(t, err)
	first := make(chan error, 1)
	go func() { // no deadline: waits for the login
		_, _, err := c.Cases.List(context.Background(), nil)
		first <- err
	}()
	<-s.arrived

	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	second := make(chan error, 1)
	go func() {
		_, _, err := c.Cases.List(ctx, nil)
		second <- err
	}()
	select {
	case err := <-second:
		require.ErrorIs(t, err, context.DeadlineExceeded, "the second caller gave up at its own deadline")
	case <-time.After(20 * time.Second): // a hang guard, not a speed check
		t.Fatal("the second caller waited for the first caller's login")
	}
	select {
	case err := <-first:
		t.Fatalf("the first caller's login finished before it was released: %v", err)
	default:
	}
	s.release <- struct{}{}
	require.NoError(t, <-first)
}
