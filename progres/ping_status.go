package progres

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"regexp"
	"time"
)

// IngestionStatus is a checkstatus answer.
type IngestionStatus struct {
	TransactionID string
	// Ready is false while PING has no result yet (Data empty or null).
	Ready bool
	// Records holds one result per ingested record, in PING's order.
	Records []IngestionRecord
	// Repaired is true when Data was the malformed string PING is known to
	// send and had to be repaired before it could be read.
	Repaired bool
}

// IngestionRecord is one per-record result. Its member names are not
// public (unconfirmed): the inner Data object is decoded into Data, every
// other member is kept in Members.
type IngestionRecord struct {
	Data    map[string]any
	Members map[string]any
}

// checkStatusBody is the wire form of a checkstatus request.
type checkStatusBody struct {
	ShippingProcessID string `json:"ShippingProcessId"`
	InteropID         string `json:"InteropID"`
	PartnerID         string `json:"PartnerId"`
	TransactionID     string `json:"SPHTransactionId"`
}

// CheckStatus asks once for an async ingestion's results. It changes
// nothing, so the transport may retry it.
func (c *PINGClient) CheckStatus(ctx context.Context, shippingProcessID, transactionID string) (*IngestionStatus, error) {
	v := &ValidationError{}
	if !pathSegment(shippingProcessID) {
		v.Add("ShippingProcessId", "is required: letters, digits, '-' or '_'")
	}
	requireText(v, "SPHTransactionId", transactionID)
	if err := v.Err(); err != nil {
		return nil, err
	}
	out, err := c.post(ctx, pathCheckStatus, checkStatusBody{shippingProcessID, c.interopID, c.partnerID, transactionID}, true)
	if err != nil {
		return nil, err
	}
	st, err := DecodeCheckStatus(out)
	if err != nil {
		return nil, c.decodeError(pathCheckStatus, err)
	}
	if st.TransactionID == "" {
		st.TransactionID = transactionID
	}
	return st, nil
}

// malformedData is how the earlier integration repairs checkstatus's Data string: a
// member "Data" holding an object serialised into a string without
// escaping its quotes, followed by another member.
var malformedData = regexp.MustCompile(`"Data"\s*:\s*"\{([\s\S]*?)\}"\s*,`)

// DecodeCheckStatus decodes a checkstatus answer. Its Data is null or
// empty (not ready), an array of per-record objects or one object, or a
// string holding that array, possibly malformed in the one way PING is
// known to malform it (the inner Data object not escaped); it is then
// repaired. Anything else is an error naming the part refused, never
// quoting it.
func DecodeCheckStatus(body []byte) (*IngestionStatus, error) {
	var env struct {
		Data          json.RawMessage `json:"Data"`
		TransactionID *string         `json:"SPHTransactionId"`
		ErrorMessage  *string         `json:"ErrorMessage"`
	}
	if err := strictUnmarshal(body, &env); err != nil {
		return nil, &DecodeError{Err: err}
	}
	st := &IngestionStatus{}
	if env.TransactionID != nil {
		st.TransactionID = *env.TransactionID
	}
	if env.ErrorMessage != nil && *env.ErrorMessage != "" {
		return nil, &GatewayError{ShippingProcessID: "checkstatus", Message: *env.ErrorMessage}
	}
	data := bytes.TrimSpace(env.Data)
	if len(data) == 0 || string(data) == "null" || string(data) == "false" || string(data) == `""` {
		return st, nil
	}
	if data[0] == '"' {
		var s string
		if err := json.Unmarshal(data, &s); err != nil {
			return nil, &DecodeError{Path: "Data", Err: err}
		}
		data = []byte(s)
		if !json.Valid(data) {
			data = malformedData.ReplaceAllFunc(data, escapeInnerData)
			st.Repaired = true
		}
	}
	recs, err := decodeRecords(data)
	if err != nil {
		return nil, err
	}
	st.Records, st.Ready = recs, len(recs) > 0
	return st, nil
}

// escapeInnerData re-encodes one matched `"Data": "{…}",` with the inner
// object as a proper JSON string.
func escapeInnerData(m []byte) []byte {
	sub := malformedData.FindSubmatch(m)
	inner, _ := json.Marshal("{" + string(sub[1]) + "}")
	return append(append([]byte(`"Data": `), inner...), ',')
}

// decodeRecords reads the per-record array (or a single object).
func decodeRecords(data []byte) ([]IngestionRecord, error) {
	var raws []json.RawMessage
	switch {
	case len(data) > 0 && data[0] == '[':
		if err := strictUnmarshal(data, &raws); err != nil {
			return nil, &DecodeError{Path: "Data", Err: shapeErr("not a JSON array, even after repair")}
		}
	case len(data) > 0 && data[0] == '{':
		raws = []json.RawMessage{data}
	default:
		return nil, &DecodeError{Path: "Data", Err: shapeErr("neither an array nor an object, even after repair")}
	}
	out := make([]IngestionRecord, len(raws))
	for i, raw := range raws {
		p := "Data[" + itoa(i) + "]"
		m, err := decodeObject(raw)
		if err != nil {
			return nil, &DecodeError{Path: p, Err: shapeErr("not an object")}
		}
		rec := IngestionRecord{Members: m}
		switch inner := m["Data"].(type) {
		case nil:
		case map[string]any:
			rec.Data = inner
		case string:
			obj, err := decodeObject(json.RawMessage(inner))
			if err != nil {
				return nil, &DecodeError{Path: p + ".Data", Err: shapeErr("not a JSON object")}
			}
			rec.Data = obj
		default:
			return nil, &DecodeError{Path: p + ".Data", Err: shapeErr("neither an object nor a string")}
		}
		delete(m, "Data")
		out[i] = rec
	}
	return out, nil
}

// WaitOptions says how Wait polls.
type WaitOptions struct {
	// Interval is the first wait between polls (default 2s); each poll
	// doubles it up to MaxInterval (default 30s).
	Interval, MaxInterval time.Duration
	// Timeout bounds the whole wait (default 10 minutes); then Wait returns
	// an error matching ErrIngestionPending, with the last status.
	Timeout time.Duration
}

// Wait polls CheckStatus until its results are there, with exponential
// backoff and a deadline, and returns them. A failing check ends the wait
// with its error.
func (c *PINGClient) Wait(ctx context.Context, shippingProcessID, transactionID string, opts WaitOptions) (*IngestionStatus, error) {
	if opts.Interval <= 0 {
		opts.Interval = 2 * time.Second
	}
	if opts.MaxInterval < opts.Interval {
		opts.MaxInterval = max(30*time.Second, opts.Interval)
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 10 * time.Minute
	}
	ctx, cancel := context.WithTimeout(ctx, opts.Timeout)
	defer cancel()
	wait := opts.Interval
	for {
		st, err := c.CheckStatus(ctx, shippingProcessID, transactionID)
		if err != nil {
			if errors.Is(err, context.DeadlineExceeded) {
				return nil, &PendingError{TransactionID: transactionID}
			}
			return nil, err
		}
		if st.Ready {
			return st, nil
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				return st, &PendingError{TransactionID: transactionID}
			}
			return st, ctx.Err()
		case <-t.C:
		}
		wait = min(wait*2, opts.MaxInterval)
	}
}

// PendingError is an async ingestion without results at Wait's deadline.
type PendingError struct{ TransactionID string }

// Error names the transaction.
func (e *PendingError) Error() string {
	return "progres: async ingestion " + e.TransactionID + " has no result yet"
}

// Is reports true for ErrIngestionPending.
func (e *PendingError) Is(target error) bool { return target == ErrIngestionPending }
