package progrestest

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// PINGServer is a fake of PING: the B2C token endpoint and the four PING
// endpoints, by ShippingProcessId, on plain HTTP on loopback. All methods
// are safe for concurrent use.
type PINGServer struct {
	core
	cfg PINGConfig
	key string

	tokens       map[string]time.Time // access token -> expiry (fake clock)
	tokensIssued int
	rows         map[string][]map[string]any // fetch rows by ShippingProcessId
	ingested     []Ingestion
	txs          map[string]*transaction
	txOrder      []string
	rejected     map[string]bool // ExternalIds whose async record fails
}

// Ingestion is one ingestion the fake received.
type Ingestion struct {
	ShippingProcessID string
	Async             bool
	TransactionID     string
	Records           []map[string]any // the Data entries, decoded
}

type transaction struct {
	shp     string
	records []map[string]any
	polls   int
}

// NewPINGServer starts a PING fake and closes it on t.Cleanup.
func NewPINGServer(t testing.TB, opts ...Option) *PINGServer {
	t.Helper()
	s, err := StartPING(opts...)
	if err != nil {
		t.Fatalf("progrestest: start PING: %v", err)
	}
	t.Cleanup(s.Close)
	return s
}

// StartPING starts a PING fake without a testing.TB; the caller must call
// Close.
func StartPING(opts ...Option) (*PINGServer, error) {
	cfg := defaultConfig()
	for _, o := range opts {
		o(&cfg)
	}
	s := &PINGServer{cfg: cfg.ping, key: cfg.subscriptionKey, tokens: map[string]time.Time{},
		rows: map[string][]map[string]any{}, txs: map[string]*transaction{}, rejected: map[string]bool{}}
	if err := s.init(cfg, func(r *http.Request) bool { return r.URL.Path == s.TokenPath() }); err != nil {
		return nil, err
	}
	if s.cfg.PageSize <= 0 {
		s.cfg.PageSize = 50
	}
	if err := s.serve(cfg.addr, nil, http.HandlerFunc(s.handle)); err != nil {
		return nil, err
	}
	return s, nil
}

// TokenPath is the B2C token endpoint's path.
func (s *PINGServer) TokenPath() string {
	return "/" + s.cfg.Tenant + ".onmicrosoft.com/" + s.cfg.Policy + "/oauth2/v2.0/token"
}

// Config returns the fake's configuration (credentials, ids).
func (s *PINGServer) Config() PINGConfig { return s.cfg }

// TokensIssued returns how many tokens the token endpoint issued.
func (s *PINGServer) TokensIssued() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tokensIssued
}

// ExpireTokens makes every issued token invalid (as a key rotation would).
func (s *PINGServer) ExpireTokens() {
	s.mu.Lock()
	clear(s.tokens)
	s.mu.Unlock()
}

// AddRows appends fetch rows to a shipping process.
func (s *PINGServer) AddRows(shippingProcessID string, rows ...map[string]any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range rows {
		s.rows[shippingProcessID] = append(s.rows[shippingProcessID], cloneMap(r))
	}
}

// Rows returns a shipping process's rows.
func (s *PINGServer) Rows(shippingProcessID string) []map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]map[string]any, len(s.rows[shippingProcessID]))
	for i, r := range s.rows[shippingProcessID] {
		out[i] = cloneMap(r)
	}
	return out
}

// Ingested returns the ingestions received, in order.
func (s *PINGServer) Ingested() []Ingestion {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Ingestion, len(s.ingested))
	for i, in := range s.ingested {
		out[i] = in
		out[i].Records = make([]map[string]any, len(in.Records))
		for j, r := range in.Records {
			out[i].Records[j] = cloneMap(r)
		}
	}
	return out
}

// RejectRecord makes the async records with this ExternalId fail in
// checkstatus.
func (s *PINGServer) RejectRecord(externalID string) {
	s.mu.Lock()
	s.rejected[externalID] = true
	s.mu.Unlock()
}

// redactTokenRequest removes the password from a recorded token request.
func redactTokenRequest(b []byte) []byte {
	q, err := url.ParseQuery(string(b))
	if err != nil {
		return []byte(Redacted)
	}
	if q.Has("password") {
		q.Set("password", Redacted)
	}
	return []byte(q.Encode())
}

// handle serves one request.
func (s *PINGServer) handle(w http.ResponseWriter, r *http.Request) {
	var redact func([]byte) []byte
	if r.URL.Path == s.TokenPath() {
		redact = redactTokenRequest
	}
	s.core.handle(w, r, redact, func(w http.ResponseWriter, body []byte) { s.operation(w, r, body) })
}

// operation serves the token endpoint or one PING operation.
func (s *PINGServer) operation(w http.ResponseWriter, r *http.Request, body []byte) {
	if r.URL.Path == s.TokenPath() {
		s.handleToken(w, r, body)
		return
	}
	if r.Method != http.MethodPost {
		writeAPIM(w, http.StatusMethodNotAllowed, "Method not allowed")
		return
	}
	if !keyMatches(r.Header.Get("Ocp-Apim-Subscription-Key"), s.key) {
		writeAPIM(w, http.StatusUnauthorized, "Access denied due to missing or invalid subscription key. Make sure to provide a valid key for an active subscription.")
		return
	}
	if !s.bearerValid(r.Header.Get("Authorization")) {
		writeAPIM(w, http.StatusUnauthorized, "Unauthorized. Access token is missing or invalid.")
		return
	}
	var m map[string]any
	if !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") || decodeJSON(body, &m) != nil || m == nil {
		writeAPIM(w, http.StatusBadRequest, "The body must be a JSON object")
		return
	}
	partnerPath := "/api/ingestion/v2/" + s.cfg.PartnerID + "/"
	switch r.URL.Path {
	case "/primes/fetch/paging/v3/retrievedatawithpaging":
		s.handleFetch(w, m)
	case partnerPath + "data":
		s.handleIngest(w, m, false)
	case partnerPath + "asyncdata":
		s.handleIngest(w, m, true)
	case "/primes/ingestion/checkstatus/v1/pingdata":
		s.handleCheckStatus(w, m)
	default:
		writeAPIM(w, http.StatusNotFound, "Resource not found")
	}
}

// handleToken implements the password grant.
func (s *PINGServer) handleToken(w http.ResponseWriter, r *http.Request, body []byte) {
	q, err := url.ParseQuery(string(body))
	if r.Method != http.MethodPost || err != nil || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_request", "error_description": "AADB2C90083: The request is missing required parameter: grant_type."})
		return
	}
	switch {
	case q.Get("grant_type") != "password":
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "unsupported_grant_type", "error_description": "AADB2C90086: The supplied grant_type is not supported."})
		return
	case q.Get("client_id") != s.cfg.ClientID:
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "unauthorized_client", "error_description": "AADB2C90057: The provided application is not configured."})
		return
	case q.Get("scope") != s.cfg.Scope:
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_scope", "error_description": "AADB2C90055: The scope is invalid."})
		return
	case !keyMatches(q.Get("username"), s.cfg.Username) || !keyMatches(q.Get("password"), s.cfg.Password):
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_grant", "error_description": "AADB2C90225: The username or password provided in the request are invalid."})
		return
	}
	tok := randomToken()
	life := s.cfg.TokenLifetime
	if life <= 0 {
		life = time.Hour
	}
	now := s.now()
	s.mu.Lock()
	s.tokens[tok] = now.Add(life)
	s.tokensIssued++
	s.mu.Unlock()
	var exp any = strconv.Itoa(int(life / time.Second))
	if s.cfg.ExpiresInNumber {
		exp = int(life / time.Second)
	}
	writeJSON(w, http.StatusOK, map[string]any{"access_token": tok, "token_type": "Bearer", "expires_in": exp})
}

// bearerValid checks "Bearer <token>" against the issued, unexpired tokens.
func (s *PINGServer) bearerValid(h string) bool {
	tok, ok := strings.CutPrefix(h, "Bearer ")
	if !ok || tok == "" {
		return false
	}
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	exp, ok := s.tokens[tok]
	return ok && now.Before(exp)
}

// ids checks the deployment ids of a body: ShippingProcessId known, the
// interop id in either casing, PartnerId when required. It returns the
// ShippingProcessId or writes a 400.
func (s *PINGServer) ids(w http.ResponseWriter, m map[string]any, needPartner bool, apiVersion string) (string, bool) {
	shp, _ := m["ShippingProcessId"].(string)
	interop, _ := m["InteropID"].(string)
	if interop == "" {
		interop, _ = m["InteropId"].(string)
	}
	partner, hasPartner := m["PartnerId"].(string)
	switch {
	case !slices.Contains(s.cfg.ShippingProcesses, shp):
		writeJSON(w, http.StatusBadRequest, envelope(nil, "Unknown ShippingProcessId"))
	case interop != s.cfg.InteropID:
		writeJSON(w, http.StatusBadRequest, envelope(nil, "Invalid InteropID"))
	case needPartner && partner != s.cfg.PartnerID, hasPartner && partner != s.cfg.PartnerID:
		writeJSON(w, http.StatusBadRequest, envelope(nil, "Invalid PartnerId"))
	case apiVersion != "" && m["APIVersion"] != apiVersion:
		writeJSON(w, http.StatusBadRequest, envelope(nil, "Unsupported APIVersion"))
	default:
		return shp, true
	}
	return "", false
}

// envelope is PING's fetch envelope with no rows.
func envelope(data any, errMsg any) map[string]any {
	return map[string]any{"Data": data, "RecordCount": nil, "ErrorMessage": errMsg, "SPHTransactionId": newGUID(),
		"PagingSummary": map[string]any{"PagingCookie": nil, "PageNumber": 0, "IsMoreRecordsAvailable": false}}
}

// handleFetch answers one page of a shipping process's rows, filtered by
// {record_ids} where the process has a record-id column.
func (s *PINGServer) handleFetch(w http.ResponseWriter, m map[string]any) {
	shp, ok := s.ids(w, m, true, "V3")
	if !ok {
		return
	}
	filter := ""
	params, _ := m["QueryParameters"].([]any)
	for _, p := range params {
		pm, _ := p.(map[string]any)
		if pm["ParameterName"] == "{record_ids}" {
			filter, _ = pm["Value"].(string)
		}
	}
	offset := 0
	if c, _ := m["PagingCookie"].(string); c != "" {
		n, err := decodeCookie(c)
		if err != nil {
			writeJSON(w, http.StatusBadRequest, envelope(nil, "Invalid PagingCookie"))
			return
		}
		offset = n
	}
	page := 0
	if n, ok := m["PageNumber"].(json.Number); ok {
		v, _ := n.Int64()
		page = int(v)
	}
	col := s.cfg.RecordIDColumns[shp]
	s.mu.Lock()
	var match []map[string]any
	for _, r := range s.rows[shp] {
		if col == "" || filter == "" || r[col] == filter {
			match = append(match, r)
		}
	}
	end := min(offset+s.cfg.PageSize, len(match))
	var rows []map[string]any
	if offset < len(match) {
		for _, r := range match[offset:end] {
			rows = append(rows, cloneMap(r))
		}
	}
	s.mu.Unlock()

	if len(rows) == 0 {
		writeJSON(w, http.StatusOK, envelope("No Data Available", nil))
		return
	}
	more := end < len(match)
	var cookie any
	if more {
		cookie = encodeCookie(end)
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"Data": rows, "RecordCount": len(rows), "ErrorMessage": nil, "SPHTransactionId": newGUID(),
		"PagingSummary": map[string]any{"PagingCookie": cookie, "PageNumber": page, "IsMoreRecordsAvailable": more},
	})
}

// encodeCookie renders an opaque paging cookie (the real one's form is
// Dynamics' own; clients must only echo it).
func encodeCookie(offset int) string {
	return base64.StdEncoding.EncodeToString([]byte(`<cookie page="x" offset="` + strconv.Itoa(offset) + `" />`))
}

func decodeCookie(c string) (int, error) {
	b, err := base64.StdEncoding.DecodeString(c)
	if err != nil {
		return 0, err
	}
	_, after, _ := strings.Cut(string(b), `offset="`)
	num, _, _ := strings.Cut(after, `"`)
	return strconv.Atoi(num)
}

// handleIngest stores a sync or async ingestion after checking its shape,
// and applies the effects the flows rely on: a transfer status leaves the
// pending list (the fake's reading; unconfirmed), a decision marked
// synced gets that status in the decision list.
func (s *PINGServer) handleIngest(w http.ResponseWriter, m map[string]any, async bool) {
	apiVersion := ""
	if async {
		apiVersion = "V2"
	}
	shp, ok := s.ids(w, m, false, apiVersion)
	if !ok {
		return
	}
	data, _ := m["Data"].([]any)
	if len(data) == 0 {
		writeJSON(w, http.StatusBadRequest, map[string]any{"SPHTransactionId": nil, "ErrorMessage": "Data is required"})
		return
	}
	records := make([]map[string]any, len(data))
	for i, d := range data {
		rec, ok := d.(map[string]any)
		if !ok || !validRecord(rec) {
			writeJSON(w, http.StatusBadRequest, map[string]any{"SPHTransactionId": nil, "ErrorMessage": "Invalid record " + strconv.Itoa(i)})
			return
		}
		records[i] = rec
	}
	tx := newGUID()
	s.mu.Lock()
	s.ingested = append(s.ingested, Ingestion{ShippingProcessID: shp, Async: async, TransactionID: tx, Records: records})
	if async {
		s.txs[tx] = &transaction{shp: shp, records: records}
		s.txOrder = append(s.txOrder, tx)
		if shp == SHPCreateReferral && s.cfg.ListCreatedReferrals != 0 {
			s.listCreatedLocked(records)
		}
	} else {
		s.applyLocked(shp, records)
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"SPHTransactionId": tx, "ErrorMessage": nil, "RecordCount": len(records)})
}

// validRecord checks an ingestion record: an ExternalId and Fields of
// {Name, Value?} with string or null values.
func validRecord(rec map[string]any) bool {
	if id, _ := rec["ExternalId"].(string); id == "" {
		return false
	}
	fields, ok := rec["Fields"].([]any)
	if !ok || len(fields) == 0 {
		return false
	}
	for _, f := range fields {
		fm, ok := f.(map[string]any)
		if !ok {
			return false
		}
		if n, _ := fm["Name"].(string); n == "" {
			return false
		}
		switch fm["Value"].(type) {
		case nil, string:
		default:
			return false
		}
	}
	return true
}

// fieldValue returns a record's field value.
func fieldValue(rec map[string]any, name string) string {
	fields, _ := rec["Fields"].([]any)
	for _, f := range fields {
		fm, _ := f.(map[string]any)
		if fm["Name"] == name {
			v, _ := fm["Value"].(string)
			return v
		}
	}
	return ""
}

// applyLocked applies a sync ingestion's effects; s.mu is held.
func (s *PINGServer) applyLocked(shp string, records []map[string]any) {
	switch shp {
	case SHPTransferStatus:
		for _, rec := range records {
			id := fieldValue(rec, "progres_lpinterventionid")
			s.rows[SHPPendingInterventions] = slices.DeleteFunc(s.rows[SHPPendingInterventions], func(r map[string]any) bool {
				return r["progres_lpinterventionid"] == id || r["progres_intervention"] == id
			})
		}
	case SHPMarkSynced:
		for _, rec := range records {
			id := fieldValue(rec, "progres_interoperabilityreferralid")
			st, err := strconv.Atoi(fieldValue(rec, "progres_interoperabilityreferralstatus"))
			if err != nil {
				continue
			}
			for _, r := range s.rows[SHPDecisions] {
				if r["progres_interoperabilityreferralid"] == id {
					r["progres_interoperabilityreferralstatus"] = json.Number(strconv.Itoa(st))
				}
			}
		}
	}
}

// handleCheckStatus answers an async ingestion's results.
func (s *PINGServer) handleCheckStatus(w http.ResponseWriter, m map[string]any) {
	if _, ok := s.ids(w, m, true, ""); !ok {
		return
	}
	id, _ := m["SPHTransactionId"].(string)
	s.mu.Lock()
	tx, ok := s.txs[id]
	pending := ok && tx.polls < s.cfg.PendingPolls
	if ok {
		tx.polls++
	}
	var results []recordResult
	if ok && !pending {
		for _, rec := range tx.records {
			ext, _ := rec["ExternalId"].(string)
			rr := recordResult{inner: map[string]any{"ExternalId": ext, "progres_orgreferralid": fieldValue(rec, "progres_orgreferralid")}, status: "Success", message: "Record created"}
			if s.rejected[ext] {
				rr.status, rr.message = "Failed", "Record rejected"
			}
			results = append(results, rr)
		}
	}
	s.mu.Unlock()
	if !ok {
		writeJSON(w, http.StatusBadRequest, map[string]any{"Data": nil, "SPHTransactionId": id, "ErrorMessage": "Unknown SPHTransactionId"})
		return
	}
	var data any
	if !pending {
		data = s.renderResults(results)
	}
	writeJSON(w, http.StatusOK, map[string]any{"Data": data, "SPHTransactionId": id, "ErrorMessage": nil})
}

// recordResult is one async record's outcome.
type recordResult struct {
	inner           map[string]any
	status, message string
}

// renderResults renders the per-record results in the configured shape.
func (s *PINGServer) renderResults(results []recordResult) any {
	parsed := make([]map[string]any, len(results))
	for i, r := range results {
		inner, _ := json.Marshal(r.inner)
		parsed[i] = map[string]any{"Data": string(inner), s.cfg.StatusMember: r.status, s.cfg.MessageMember: r.message}
	}
	switch s.cfg.StatusShape {
	case StatusParsed:
		return parsed
	case StatusString:
		b, _ := json.Marshal(parsed)
		return string(b)
	}
	// Malformed: the inner object pasted into the string unescaped, and
	// followed by another member, as the reference's repair expects.
	var b strings.Builder
	b.WriteByte('[')
	for i, r := range results {
		if i > 0 {
			b.WriteString(", ")
		}
		inner, _ := json.Marshal(r.inner)
		st, _ := json.Marshal(r.status)
		msg, _ := json.Marshal(r.message)
		b.WriteString(`{"Data": "` + string(inner) + `", "` + s.cfg.StatusMember + `": ` + string(st) + `, "` + s.cfg.MessageMember + `": ` + string(msg) + `}`)
	}
	b.WriteByte(']')
	return b.String()
}

// decodeJSON decodes one JSON value with numbers kept as json.Number.
func decodeJSON(b []byte, out any) error {
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.UseNumber()
	return dec.Decode(out)
}

// randomToken is an opaque access token.
func randomToken() string {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	return "ping-" + hex.EncodeToString(b)
}

// newGUID is a random GUID.
func newGUID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b)
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}
