package progres

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/casebridge/casebridge/internal/transport"
)

// The PING endpoints, relative to the base URL.
const (
	pathFetch       = "/primes/fetch/paging/v3/retrievedatawithpaging"
	pathIngest      = "/api/ingestion/v2/{partner}/data"
	pathIngestAsync = "/api/ingestion/v2/{partner}/asyncdata"
	pathCheckStatus = "/primes/ingestion/checkstatus/v1/pingdata"
)

// MaxPINGAnswer caps a PING answer (32 MiB): one fetch page is held in
// memory, and Dynamics pages can hold thousands of rows.
const MaxPINGAnswer = 32 << 20

// defaultMaxPages bounds one lazy fetch.
const defaultMaxPages = 10000

// PINGClient talks to PING, the UNHCR middleware that succeeded DTP. It is
// safe for concurrent use.
type PINGClient struct {
	base      *url.URL
	http      *transport.Client
	key       string
	partnerID string
	interopID string
	procs     ShippingProcesses
	cols      Columns
	maxPages  int
	src       *b2cSource // nil with WithTokenSource

	// Interventions reads the referrals proGres sends to Primero and
	// reports their transfer status.
	Interventions *InterventionsService
	// Decisions reads proGres's decisions on Primero's referrals and marks
	// them synced.
	Decisions *DecisionsService
	// Referrals creates proGres referrals from Primero services (async
	// ingestion) and follows their status.
	Referrals *PINGReferralsService
}

// NewPING returns a client for the PING gateway at baseURL
// ("https://<apim-host>.azure-api.net"). Required: WithSubscriptionKey,
// WithDeployment, and WithPasswordGrant or WithTokenSource.
func NewPING(baseURL string, opts ...Option) (*PINGClient, error) {
	base, err := parseGatewayURL("baseURL", baseURL)
	if err != nil {
		return nil, err
	}
	cfg, err := applyOptions(opts, "PING")
	if err != nil {
		return nil, err
	}
	switch {
	case cfg.grant == nil && cfg.tokens == nil:
		return nil, transport.NewValidationError("WithPasswordGrant", "WithPasswordGrant or WithTokenSource is required")
	case cfg.grant != nil && cfg.tokens != nil:
		return nil, transport.NewValidationError("WithTokenSource", "cannot be used with WithPasswordGrant")
	case cfg.partnerID == "":
		return nil, transport.NewValidationError("WithDeployment", "is required")
	}
	c := &PINGClient{base: base, key: cfg.subscriptionKey, partnerID: cfg.partnerID, interopID: cfg.interopID,
		procs: DefaultShippingProcesses(), cols: DefaultColumns(), maxPages: defaultMaxPages}
	if cfg.processes != nil {
		c.procs = *cfg.processes
	}
	if cfg.columns != nil {
		c.cols = *cfg.columns
	}
	if cfg.pageLimit > 0 {
		c.maxPages = cfg.pageLimit
	}
	tcfg := cfg.transportConfig(DefaultUserAgent)
	if cfg.grant != nil {
		tokenHTTP, err := transport.New(tcfg)
		if err != nil {
			return nil, err
		}
		tokenURL, _ := cfg.grant.tokenURL()
		now := cfg.now
		if now == nil {
			now = time.Now
		}
		c.src = newB2CSource(*cfg.grant, tokenURL, tokenHTTP, now)
		tcfg.TokenSource = c.src
	} else {
		tcfg.TokenSource = cfg.tokens
	}
	// A bearer PING refused with 401 is not sent again: later calls fail
	// at once until a new token (or ResetUnauthorized).
	tcfg.StopAfterUnauthorized = true
	if c.http, err = transport.New(tcfg); err != nil {
		return nil, err
	}
	c.Interventions = &InterventionsService{c: c}
	c.Decisions = &DecisionsService{c: c}
	c.Referrals = &PINGReferralsService{c: c}
	return c, nil
}

// ResetUnauthorized lets the client send again a token PING refused with
// 401 (after the subscription or the account was fixed), and drops the
// cached token so that the next call makes a new grant.
func (c *PINGClient) ResetUnauthorized() {
	c.http.ResetUnauthorized()
	if c.src != nil {
		c.src.invalidate(c.src.generation())
	}
}

// ShippingProcesses returns the ids in force.
func (c *PINGClient) ShippingProcesses() ShippingProcesses { return c.procs }

// endpoint builds base + path with the partner id filled in.
func (c *PINGClient) endpoint(path string) string {
	u := *c.base
	u.Path = c.base.Path + strings.ReplaceAll(path, "{partner}", c.partnerID)
	u.RawPath = ""
	return u.String()
}

// post sends one JSON POST and returns the answer's body (at most
// MaxPINGAnswer bytes; a longer one is an error). safe marks a read-only call
// (fetch, checkstatus) that the transport may retry. After a 401 with a
// token of the password grant, the token is renewed and the call sent
// once more: never in a loop (pitfall 29).
func (c *PINGClient) post(ctx context.Context, path string, in any, safe bool) ([]byte, error) {
	body, err := json.Marshal(in)
	if err != nil {
		return nil, errors.New("progres: encoding request body failed")
	}
	if safe {
		ctx = transport.Idempotent(ctx)
	}
	for attempt := 0; ; attempt++ {
		gen := 0
		if c.src != nil {
			// Take the token first, so that a 401 can tell which one was
			// refused; a failed grant ends the call here, once.
			if _, err := c.src.token(ctx); err != nil {
				return nil, &transport.TokenError{Err: err}
			}
			gen = c.src.generation()
		}
		out, err := c.send(ctx, path, body)
		var ae *APIError
		if attempt == 0 && c.src != nil && errors.As(err, &ae) && ae.StatusCode == http.StatusUnauthorized {
			c.src.invalidate(gen)
			continue
		}
		return out, err
	}
}

// send is one transport call.
func (c *PINGClient) send(ctx context.Context, path string, body []byte) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.endpoint(path), bytes.NewReader(body))
	if err != nil {
		return nil, errors.New("progres: building request failed")
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Ocp-Apim-Subscription-Key", c.key)
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, wrapErr(err)
	}
	defer resp.Body.Close()
	if err := checkStatus(resp); err != nil {
		return nil, err
	}
	out, err := io.ReadAll(io.LimitReader(resp.Body, MaxPINGAnswer+1))
	if err != nil {
		return nil, &DecodeError{Method: http.MethodPost, URL: transport.RedactURL(req.URL), Err: shapeErr("reading the answer failed")}
	}
	if len(out) > MaxPINGAnswer {
		return nil, &DecodeError{Method: http.MethodPost, URL: transport.RedactURL(req.URL), Err: shapeErr("answer larger than MaxPINGAnswer")}
	}
	return out, nil
}

// decodeError names the call a decoding failure belongs to.
func (c *PINGClient) decodeError(path string, err error) error {
	var de *DecodeError
	if errors.As(err, &de) {
		de.Method, de.URL = http.MethodPost, transport.RedactURLString(c.endpoint(path))
		return de
	}
	return &DecodeError{Method: http.MethodPost, URL: transport.RedactURLString(c.endpoint(path)), Err: err}
}

// GatewayError is a 2xx PING answer whose ErrorMessage was set. The
// message is kept in Message but never printed: it may echo what was sent.
type GatewayError struct {
	ShippingProcessID string
	Message           string
}

// Error names the shipping process only.
func (e *GatewayError) Error() string {
	return "progres: PING reported an error for " + e.ShippingProcessID
}

// Is reports true for ErrGateway.
func (e *GatewayError) Is(target error) bool { return target == ErrGateway }
