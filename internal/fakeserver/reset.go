package fakeserver

import (
	"crypto/tls"
	"net"
	"net/http"
)

// Reset closes the request's connection without an answer, with a TCP
// reset rather than an orderly close (over TLS too: no close_notify), so
// the client sees "connection reset by peer" and no status. It works on
// HTTP/1.x, where the connection can be hijacked; elsewhere (HTTP/2) it
// aborts the handler, which resets the stream.
func Reset(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic(http.ErrAbortHandler)
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	raw := conn
	if tc, ok := conn.(*tls.Conn); ok {
		raw = tc.NetConn()
	}
	if tcp, ok := raw.(*net.TCPConn); ok {
		_ = tcp.SetLinger(0) // close sends RST
	}
	_ = raw.Close()
}

// discardWriter takes a handler's answer and throws it away (the answer a
// FaultDropAfter loses).
type discardWriter struct {
	header http.Header
}

func (d *discardWriter) Header() http.Header { return d.header }

func (d *discardWriter) Write(b []byte) (int, error) { return len(b), nil }

func (d *discardWriter) WriteHeader(int) {}
