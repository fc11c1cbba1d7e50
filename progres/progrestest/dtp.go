package progrestest

import (
	"crypto/subtle"
	"crypto/tls"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/casebridge/casebridge/internal/fakeserver"
)

// DTPServer is a fake of the DTP gateway: an HTTPS server on loopback that
// requires a client certificate from its CA (mutual TLS), optionally pins
// thumbprints, checks the subscription key, validates and stores the bodies
// of the two operations and answers 200 {}. It also pushes notifications
// to the integration's inbound Handler (see Push). All methods are safe for
// concurrent use.
type DTPServer struct {
	core
	cfg    config
	ca     *CA
	client *KeyPair

	referrals []map[string]any // ReceiveIncomingReferral bodies
	feedback  []map[string]any // ReceiveDecisionOutgoingReferral bodies
	pushes    pushQueue
}

// NewDTPServer starts a DTP fake and closes it on t.Cleanup.
func NewDTPServer(t testing.TB, opts ...Option) *DTPServer {
	t.Helper()
	s, err := StartDTP(opts...)
	if err != nil {
		t.Fatalf("progrestest: start DTP: %v", err)
	}
	t.Cleanup(s.Close)
	return s
}

// StartDTP starts a DTP fake without a testing.TB (examples,
// cmd/casebridge-fakes); the caller must call Close.
func StartDTP(opts ...Option) (*DTPServer, error) {
	cfg := defaultConfig()
	for _, o := range opts {
		o(&cfg)
	}
	s := &DTPServer{cfg: cfg, ca: cfg.ca}
	if err := s.init(cfg, nil); err != nil {
		return nil, err
	}
	if s.ca == nil {
		ca, err := NewCA("casebridge DTP fake CA")
		if err != nil {
			return nil, err
		}
		s.ca = ca
	}
	server, err := s.ca.IssueServer()
	if err != nil {
		return nil, err
	}
	if s.client, err = s.ca.IssueClient("casebridge-dtp-client"); err != nil {
		return nil, err
	}
	tc := &tls.Config{
		MinVersion:   tls.VersionTLS12,
		Certificates: []tls.Certificate{server.TLS},
		ClientAuth:   tls.RequireAndVerifyClientCert,
		ClientCAs:    s.ca.Pool(),
		Time:         s.now, // certificate validity follows the fake's clock
	}
	if err := s.serve(cfg.addr, tc, http.HandlerFunc(s.handle)); err != nil {
		return nil, err
	}
	return s, nil
}

// Close stops the pushes, the server and its open connections.
func (s *DTPServer) Close() {
	s.StopPushing()
	s.core.Close()
}

// CA returns the fake's CA: trust it for the server certificate
// (progres.WithRootCAs(s.CA().Pool())) and issue client certificates with it.
func (s *DTPServer) CA() *CA { return s.ca }

// ClientCert returns a valid client certificate issued by the fake's CA.
func (s *DTPServer) ClientCert() *KeyPair { return s.client }

// BaseURL returns the URL the operations are appended to
// (URL() + the DTP prefix).
func (s *DTPServer) BaseURL() string { return s.url + s.cfg.prefix }

// Referrals returns the ReceiveIncomingReferral bodies received, in order.
func (s *DTPServer) Referrals() []map[string]any { return s.bodies(&s.referrals) }

// Feedback returns the ReceiveDecisionOutgoingReferral bodies received.
func (s *DTPServer) Feedback() []map[string]any { return s.bodies(&s.feedback) }

func (s *DTPServer) bodies(p *[]map[string]any) []map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]map[string]any, len(*p))
	for i, m := range *p {
		out[i] = cloneMap(m)
	}
	return out
}

// handle serves one request: faults, certificate pin, subscription key,
// then the operation.
func (s *DTPServer) handle(w http.ResponseWriter, r *http.Request) {
	s.core.handle(w, r, nil, func(w http.ResponseWriter, body []byte) { s.operation(w, r, body) })
}

// operation checks the certificate pin and subscription key, then
// validates and stores the body of the operation.
func (s *DTPServer) operation(w http.ResponseWriter, r *http.Request, body []byte) {
	if !s.certAccepted(r) {
		writeAPIM(w, http.StatusForbidden, "Invalid client certificate")
		return
	}
	if !keyMatches(r.Header.Get("Ocp-Apim-Subscription-Key"), s.cfg.subscriptionKey) {
		writeAPIM(w, http.StatusUnauthorized, "Access denied due to missing or invalid subscription key. Make sure to provide a valid key for an active subscription.")
		return
	}
	op, found := strings.CutPrefix(r.URL.Path, s.cfg.prefix+"/")
	if !found || (op != "ReceiveIncomingReferral" && op != "ReceiveDecisionOutgoingReferral") {
		writeAPIM(w, http.StatusNotFound, "Resource not found")
		return
	}
	if r.Method != http.MethodPost {
		writeAPIM(w, http.StatusMethodNotAllowed, "Method not allowed")
		return
	}
	var m map[string]any
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.UseNumber()
	if !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") || dec.Decode(&m) != nil || m == nil {
		writeAPIM(w, http.StatusBadRequest, "The body must be a JSON object")
		return
	}
	var field string
	if op == "ReceiveIncomingReferral" {
		field = checkIncomingReferral(m)
	} else {
		field = checkFeedback(m)
	}
	if field != "" {
		writeAPIM(w, http.StatusBadRequest, "Invalid or missing field: "+field)
		return
	}
	s.mu.Lock()
	if op == "ReceiveIncomingReferral" {
		s.referrals = append(s.referrals, m)
	} else {
		s.feedback = append(s.feedback, m)
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{})
}

// certAccepted applies the thumbprint pin and header (the handshake has
// already verified the chain and validity).
func (s *DTPServer) certAccepted(r *http.Request) bool {
	if r.TLS == nil || len(r.TLS.PeerCertificates) == 0 {
		return false
	}
	tp := fakeserver.Thumbprint(r.TLS.PeerCertificates[0].Raw)
	if len(s.cfg.pins) > 0 && !slices.Contains(s.cfg.pins, tp) {
		return false
	}
	if s.cfg.thumbprintHeader != "" && !strings.EqualFold(r.Header.Get(s.cfg.thumbprintHeader), tp) {
		return false
	}
	return true
}

// keyMatches compares a presented key in constant time; empty never matches.
func keyMatches(got, want string) bool {
	return got != "" && subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

// checkIncomingReferral returns the first invalid field of a
// ReceiveIncomingReferral body, "" when it is acceptable.
func checkIncomingReferral(m map[string]any) string {
	if m["request_type"] != "ReceiveIncomingReferral" {
		return "request_type"
	}
	id, _ := m["id"].(string)
	if strings.Count(id, "#") != 1 || strings.HasPrefix(id, "#") || strings.HasSuffix(id, "#") {
		return "id"
	}
	return ""
}

// checkFeedback returns the first invalid field of a
// ReceiveDecisionOutgoingReferral body: the request_type must agree with
// the status as the pilot sent them.
func checkFeedback(m map[string]any) string {
	if n, _ := m["progres_interventionnumber"].(string); n == "" {
		return "progres_interventionnumber"
	}
	rt, hasRT := m["request_type"]
	switch m["status"] {
	case "Pending Acknowledgement":
		if hasRT {
			return "request_type"
		}
	case "Delivery Fail":
		if rt != "Feedback" {
			return "request_type"
		}
		if r, _ := m["closure_reason"].(string); r == "" {
			return "closure_reason"
		}
	case "acknowledged", "rejected":
		if rt != "ReceiveDecisionOutgoingReferral" {
			return "request_type"
		}
	default:
		return "status"
	}
	return ""
}

// cloneMap deep-copies decoded JSON.
func cloneMap(m map[string]any) map[string]any {
	b, _ := json.Marshal(m)
	var out map[string]any
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.UseNumber()
	_ = dec.Decode(&out)
	return out
}
