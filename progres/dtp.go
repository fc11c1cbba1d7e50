package progres

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strconv"

	"github.com/casebridge/casebridge/internal/transport"
)

// DefaultUserAgent is sent unless WithUserAgent is given.
const DefaultUserAgent = "casebridge-progres/1"

// DTPOperation names one of the two DTP gateway operations.
type DTPOperation string

// The DTP operations. Each is POSTed to <baseURL>/<operation> unless
// WithOperationURL gives it its own URL (in the pilot each was configured
// as its own credential).
const (
	// OpReceiveIncomingReferral: a new referral from Primero to UNHCR.
	OpReceiveIncomingReferral DTPOperation = "ReceiveIncomingReferral"
	// OpReceiveDecisionOutgoingReferral: delivery feedback and decisions on
	// referrals proGres sent to Primero.
	OpReceiveDecisionOutgoingReferral DTPOperation = "ReceiveDecisionOutgoingReferral"
)

// WithOperationURL sets the full URL of one DTP operation (https, no query).
func WithOperationURL(op DTPOperation, rawURL string) Option {
	return func(c *config) error {
		path := "WithOperationURL." + string(op)
		if op != OpReceiveIncomingReferral && op != OpReceiveDecisionOutgoingReferral {
			return transport.NewValidationError("WithOperationURL.op", "is not a DTP operation")
		}
		if _, err := parseHTTPS(path, rawURL); err != nil {
			return err
		}
		if c.opURLs == nil {
			c.opURLs = map[DTPOperation]string{}
		}
		c.opURLs[op] = rawURL
		c.dtpOnly = append(c.dtpOnly, "WithOperationURL")
		return nil
	}
}

// parseHTTPS checks a gateway URL: what ParseBaseURL checks, and https,
// since a client certificate is presented only over TLS.
func parseHTTPS(path, raw string) (*url.URL, error) {
	u, err := transport.ParseBaseURL(raw)
	if err != nil {
		var ve *ValidationError
		if errors.As(err, &ve) {
			for i := range ve.Fields {
				ve.Fields[i].Path = path
			}
		}
		return nil, err
	}
	if u.Scheme != "https" {
		return nil, transport.NewValidationError(path, "scheme must be https (DTP uses mutual TLS)")
	}
	return u, nil
}

// DTPClient talks to the DTP gateway. It is safe for concurrent use.
type DTPClient struct {
	urls       map[DTPOperation]*url.URL
	http       *transport.Client
	key        string
	thumbName  string
	thumbValue string

	// Referrals sends new referrals to UNHCR (ReceiveIncomingReferral).
	Referrals *DTPReferralsService
	// Feedback sends delivery feedback and decisions on proGres referrals
	// (ReceiveDecisionOutgoingReferral).
	Feedback *FeedbackService
}

// NewDTP returns a client for the DTP gateway at baseURL
// ("https://<apim-host>/<api-suffix>"; the operations are appended).
// WithSubscriptionKey and a client certificate (WithClientCertificate,
// WithClientCertificateFiles or WithClientCertificatePEM) are required.
func NewDTP(baseURL string, opts ...Option) (*DTPClient, error) {
	base, err := parseHTTPS("baseURL", baseURL)
	if err != nil {
		return nil, err
	}
	cfg, err := applyOptions(opts, "DTP")
	if err != nil {
		return nil, err
	}
	if len(cfg.certs) == 0 {
		return nil, transport.NewValidationError("WithClientCertificate", "is required: DTP authenticates the client certificate")
	}
	hc, err := cfg.tlsHTTPClient()
	if err != nil {
		return nil, err
	}
	tcfg := cfg.transportConfig(DefaultUserAgent)
	tcfg.HTTPClient = noRedirects(hc)
	c := &DTPClient{urls: map[DTPOperation]*url.URL{}, key: cfg.subscriptionKey}
	if c.http, err = transport.New(tcfg); err != nil {
		return nil, err
	}
	for _, op := range []DTPOperation{OpReceiveIncomingReferral, OpReceiveDecisionOutgoingReferral} {
		u := *base
		u.Path = base.Path + "/" + string(op)
		c.urls[op] = &u
		if raw, ok := cfg.opURLs[op]; ok {
			c.urls[op], _ = parseHTTPS("", raw)
		}
	}
	if cfg.thumbprintHeader != "" {
		c.thumbName, c.thumbValue = cfg.thumbprintHeader, Thumbprint(cfg.certs[0])
	}
	c.Referrals = &DTPReferralsService{c: c}
	c.Feedback = &FeedbackService{c: c}
	return c, nil
}

// URL returns the URL an operation is POSTed to.
func (c *DTPClient) URL(op DTPOperation) string {
	if u, ok := c.urls[op]; ok {
		return u.String()
	}
	return ""
}

// maxAnswer caps how much of a 2xx answer is read (DTP answers "{}").
const maxAnswer = 1 << 20

// post sends one operation. Any 2xx is success (DTP's answers carry
// nothing); the body is read and discarded. It is never retried.
func (c *DTPClient) post(ctx context.Context, op DTPOperation, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.urls[op].String(), bytes.NewReader(body))
	if err != nil {
		return errors.New("progres: building request failed")
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Ocp-Apim-Subscription-Key", c.key)
	if c.thumbName != "" {
		req.Header.Set(c.thumbName, c.thumbValue)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return wrapErr(err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxAnswer))
	return checkStatus(resp)
}

// marshalBody encodes a validated body; a failure names no value.
func marshalBody(v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		var ve *ValidationError
		if errors.As(err, &ve) {
			return nil, ve
		}
		return nil, errors.New("progres: encoding request body failed")
	}
	return b, nil
}

func itoa(i int) string { return strconv.Itoa(i) }
