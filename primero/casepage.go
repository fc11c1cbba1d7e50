package primero

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"

	"github.com/casebridge/casebridge/internal/transport"
)

// casePage is the decoded answer of one GET /cases page. send reads the
// whole body into a pooled buffer and hands it to decodeRaw, which tries
// the fast decoder and falls back to the generic one on the same bytes.
type casePage struct {
	cases   []*Case
	hasData bool // a data array was present
	meta    *pageMeta
}

// rawDecoder is an answer that decodes from the whole body at once.
type rawDecoder interface {
	// decodeRaw decodes body; readErr is the error that ended reading it
	// early (nil when the body was read whole).
	decodeRaw(body []byte, readErr error) error
}

func (p *casePage) decodeRaw(b []byte, readErr error) error {
	if readErr == nil {
		if cases, hasData, meta, err := decodeCasePage(b); err == nil {
			p.cases, p.hasData, p.meta = cases, hasData, meta
			return nil
		}
	}
	// The generic path, fed exactly what it would have read from the
	// network: every error and every odd answer is handled as before.
	var r io.Reader = bytes.NewReader(b)
	if readErr != nil {
		r = io.MultiReader(r, errReader{readErr})
	}
	var env listEnvelope[map[string]any]
	if err := decodeBody(r, &env); err != nil {
		return err
	}
	if env.Data != nil {
		p.hasData = true
		p.cases = make([]*Case, len(*env.Data))
		for i, m := range *env.Data {
			p.cases[i] = caseFromMap(m)
		}
	}
	p.meta = env.Metadata
	return nil
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

// bodyPool holds the buffers answers are read into; a page's buffer is
// reused by the next page instead of growing a new one each time.
var bodyPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// maxPooledBody is the largest buffer put back in the pool, and the most
// a Content-Length header makes us allocate ahead.
const maxPooledBody = 16 << 20

// readRaw reads the whole body into a pooled buffer and decodes it with out.
// Room is made once, for the Content-Length, or, for an answer without one
// (chunked), for the size of the last body read through hint plus an
// eighth: pages of one feed are alike, so the buffer is not grown by
// doubling from empty (every page again once a collection has emptied the
// pool), which allocated twice the body and held one and a half times it
// at the last step.
func readRaw(resp *http.Response, out rawDecoder, hint *atomic.Int64) error {
	buf := bodyPool.Get().(*bytes.Buffer)
	buf.Reset()
	n := resp.ContentLength
	if n < 0 {
		n = hint.Load()
		n += n / 8
	}
	if n > 0 && n <= maxPooledBody {
		buf.Grow(int(n) + bytes.MinRead) // ReadFrom wants MinRead spare at the end
	}
	_, readErr := buf.ReadFrom(resp.Body)
	if readErr == nil {
		hint.Store(int64(buf.Len()))
	}
	err := out.decodeRaw(buf.Bytes(), readErr)
	if buf.Cap() <= maxPooledBody {
		bodyPool.Put(buf)
	}
	return err
}

// getCasePage fetches one page of cases, with getPage's checks.
func getCasePage(ctx context.Context, c *Client, q url.Values) ([]*Case, *Response, error) {
	var p casePage
	status, err := c.do(ctx, http.MethodGet, "cases", q, nil, &p)
	if err != nil {
		return nil, nil, err
	}
	if !p.hasData {
		return nil, nil, &DecodeError{Method: http.MethodGet, URL: transport.RedactURL(c.endpoint("cases", q)), Err: errNoDataArray}
	}
	if p.meta == nil {
		return nil, nil, &DecodeError{Method: http.MethodGet, URL: transport.RedactURL(c.endpoint("cases", q)), Err: errNoMetadata}
	}
	return p.cases, p.meta.response(status), nil
}
