package progres

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"mime"
	"net/http"

	"github.com/casebridge/casebridge/internal/transport"
)

// DefaultMaxBodyBytes bounds an inbound notification body (8 MiB).
const DefaultMaxBodyBytes = 8 << 20

// DefaultAPIKeyHeader is the header the inbound API key is read from by
// default. DTP's real header is not public; x-api-key is the only name
// seen (unconfirmed; see docs/systems/progres.md).
const DefaultAPIKeyHeader = "X-Api-Key"

// Handler receives the notifications DTP POSTs: an http.Handler to mount
// in the caller's own server and mux. For each request it
//
//   - checks the API key in constant time (401 with no detail when it is
//     missing or wrong);
//   - reads at most the body limit (413 beyond it);
//   - decodes the envelope strictly (400 naming the refused fields, never
//     their values; no callback is called), then each item on its own with
//     DecodeItems: an item refused for its own data (unknown option code,
//     malformed date, wrong JSON type, missing required key) does not hold
//     back the valid items of its notification;
//   - hands each item, in order, with its delivery key: a valid one to the
//     callback for its request_type (OnReferral, OnDecision), a refused one
//     to the invalid-item callback (OnInvalidReferral, OnInvalidDecision),
//     which lets the flow answer the sender for that item ("Delivery
//     Fail");
//   - answers with a result per item (ItemResult): "delivered", "failed"
//     (the callback failed: deliver it again) or "invalid" (fix the data:
//     the same item can only fail again).
//
// The status code of the answer says what the sender should do:
//
//   - 200 when every item is durably handled: delivered, or invalid and
//     answered by the invalid-item callback (it returned nil). An invalid
//     item whose "Delivery Fail" went out is done; the sender need not
//     send it again.
//   - 500 when a callback failed, so that the sender keeps and delivers
//     again what failed; casebridge keeps no case data at rest, so the
//     sender is where an undelivered item lives.
//   - 422 otherwise, when some items were refused for their data and
//     nobody answered them (no invalid-item callback, or it returned
//     ErrNotAnswered); the valid items were delivered. The answer is then
//     the only place the sender learns which items, and which fields.
//
// Nothing of the body reaches a log or the answer. A Handler is safe for
// concurrent use; callbacks may run concurrently for concurrent requests.
type Handler struct {
	keyHash    [sha256.Size]byte
	header     string
	maxBody    int64
	onReferral func(context.Context, Delivery[*OutgoingReferral]) error
	onDecision func(context.Context, Delivery[*IncomingReferralDecision]) error
	// onInvalid[rt] answers the items of kind rt refused for their data.
	onInvalid map[RequestType]func(context.Context, InvalidDelivery) error
	logger    *slog.Logger
}

// HandlerOption configures a Handler.
type HandlerOption func(*Handler) error

// WithAPIKey sets the key every notification must carry in header (""
// means DefaultAPIKeyHeader). Required.
func WithAPIKey(header, key string) HandlerOption {
	return func(h *Handler) error {
		if header == "" {
			header = DefaultAPIKeyHeader
		}
		if !validHeaderName(header) {
			return transport.NewValidationError("WithAPIKey.header", "is not a valid header name")
		}
		if err := requireHeaderValue("WithAPIKey.key", key); err != nil {
			return err
		}
		if len(key) < 16 {
			return transport.NewValidationError("WithAPIKey.key", "must be at least 16 characters")
		}
		h.header = header
		h.keyHash = sha256.Sum256([]byte(key))
		return nil
	}
}

// OnReferral sets the callback for proGres referrals (PrimeroOutgoingReferral).
func OnReferral(fn func(context.Context, Delivery[*OutgoingReferral]) error) HandlerOption {
	return func(h *Handler) error {
		if fn == nil {
			return transport.NewValidationError("OnReferral.fn", "must not be nil")
		}
		h.onReferral = fn
		return nil
	}
}

// OnDecision sets the callback for proGres decisions (PrimeroIncomingReferralDecision).
func OnDecision(fn func(context.Context, Delivery[*IncomingReferralDecision]) error) HandlerOption {
	return func(h *Handler) error {
		if fn == nil {
			return transport.NewValidationError("OnDecision.fn", "must not be nil")
		}
		h.onDecision = fn
		return nil
	}
}

// WithMaxBodyBytes sets the body limit (default DefaultMaxBodyBytes).
func WithMaxBodyBytes(n int64) HandlerOption {
	return func(h *Handler) error {
		if n <= 0 {
			return transport.NewValidationError("WithMaxBodyBytes.n", "must be positive")
		}
		h.maxBody = n
		return nil
	}
}

// WithHandlerLogger logs one record per notification: request type, item
// counts and outcome, or the refused field paths. Without it the handler
// is silent.
func WithHandlerLogger(l *slog.Logger) HandlerOption {
	return func(h *Handler) error {
		if l == nil {
			return transport.NewValidationError("WithHandlerLogger.l", "must not be nil")
		}
		h.logger = l
		return nil
	}
}

// NewHandler returns a Handler. WithAPIKey and at least one of OnReferral
// and OnDecision are required; a notification of a kind without a callback
// is refused with 400.
func NewHandler(opts ...HandlerOption) (*Handler, error) {
	h := &Handler{maxBody: DefaultMaxBodyBytes, logger: slog.New(slog.DiscardHandler)}
	for i, o := range opts {
		if o == nil {
			return nil, transport.NewValidationError("opts["+itoa(i)+"]", "is nil")
		}
		if err := o(h); err != nil {
			return nil, err
		}
	}
	if h.header == "" {
		return nil, transport.NewValidationError("WithAPIKey", "is required")
	}
	if h.onReferral == nil && h.onDecision == nil {
		return nil, transport.NewValidationError("OnReferral", "OnReferral or OnDecision is required")
	}
	if h.onInvalid[RequestReferral] != nil && h.onReferral == nil {
		return nil, transport.NewValidationError("OnInvalidReferral", "needs OnReferral")
	}
	if h.onInvalid[RequestDecision] != nil && h.onDecision == nil {
		return nil, transport.NewValidationError("OnInvalidDecision", "needs OnDecision")
	}
	return h, nil
}

// The statuses of an ItemResult.
const (
	// ItemDelivered: the item's callback succeeded.
	ItemDelivered = "delivered"
	// ItemFailed: the callback failed (or panicked); delivering the item
	// again may succeed.
	ItemFailed = "failed"
	// ItemInvalid: the item was refused for its own data; delivering it
	// again can only fail again. ItemResult.Errors names the fields.
	ItemInvalid = "invalid"
)

// ItemResult is the outcome of one item in the handler's answer.
type ItemResult struct {
	Index       int         `json:"index"`
	DeliveryKey DeliveryKey `json:"delivery_key"`
	// Status is ItemDelivered, ItemFailed or ItemInvalid.
	Status string `json:"status"`
	// Answered is true for an invalid item the invalid-item callback
	// answered (e.g. with a "Delivery Fail" feedback to proGres).
	Answered bool `json:"answered,omitempty"`
	// Errors are the refused fields (paths and reasons, never values) of
	// an item refused for its data, also when answering it failed.
	Errors []AnswerError `json:"errors,omitempty"`
}

// Answer is the JSON body of the handler's answers.
type Answer struct {
	// Status is "ok" (200: every item handled), "failed" (500: some
	// callbacks failed), "invalid" (400: the envelope was refused, with
	// Errors; or 422: some items were refused for their data and not
	// answered, see Results) or "error" (any other refusal).
	Status  string        `json:"status"`
	Results []ItemResult  `json:"results,omitempty"`
	Errors  []AnswerError `json:"errors,omitempty"`
}

// AnswerError is one refused field of a 400 answer: its JSON path and the
// reason, never its value.
type AnswerError struct {
	Path   string `json:"path"`
	Reason string `json:"reason"`
}

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !h.authorized(r) {
		// No detail: neither whether the header was present nor which.
		writeAnswer(w, http.StatusUnauthorized, Answer{Status: "error"})
		return
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		writeAnswer(w, http.StatusMethodNotAllowed, Answer{Status: "error"})
		return
	}
	if ct := r.Header.Get("Content-Type"); ct != "" {
		if mt, _, err := mime.ParseMediaType(ct); err != nil || mt != "application/json" {
			writeAnswer(w, http.StatusUnsupportedMediaType, Answer{Status: "error"})
			return
		}
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, h.maxBody))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			writeAnswer(w, http.StatusRequestEntityTooLarge, Answer{Status: "error"})
			return
		}
		writeAnswer(w, http.StatusBadRequest, Answer{Status: "error"})
		return
	}
	b, err := DecodeItems(body)
	if err == nil {
		err = h.accepts(b.RequestType)
	}
	if err != nil {
		var ve *ValidationError
		if !errors.As(err, &ve) {
			ve = &ValidationError{Fields: []FieldError{{Path: "$", Reason: "is invalid"}}}
		}
		h.logger.LogAttrs(r.Context(), slog.LevelWarn, "progres inbound notification refused", slog.Int("fields", len(ve.Fields)), slog.Any("paths", paths(ve)))
		writeAnswer(w, http.StatusBadRequest, Answer{Status: "invalid", Errors: answerErrors(ve)})
		return
	}
	results := h.dispatch(r.Context(), b)
	o := tally(results)
	level := slog.LevelInfo
	if o.invalid > 0 {
		level = slog.LevelWarn
	}
	h.logger.LogAttrs(r.Context(), level, "progres inbound notification",
		slog.String("request_type", string(b.RequestType)), slog.Int("items", len(b.Items)), slog.Int("failed", o.failed),
		slog.Int("invalid", o.invalid), slog.Int("unanswered", o.unanswered), slog.Any("paths", o.paths))
	switch {
	case o.failed > 0:
		writeAnswer(w, http.StatusInternalServerError, Answer{Status: "failed", Results: results})
	case o.unanswered > 0:
		writeAnswer(w, http.StatusUnprocessableEntity, Answer{Status: "invalid", Results: results})
	default:
		writeAnswer(w, http.StatusOK, Answer{Status: "ok", Results: results})
	}
}

// authorized compares hashes of the presented and the configured key in
// constant time (hashing first hides the key's length too).
func (h *Handler) authorized(r *http.Request) bool {
	got := r.Header.Get(h.header)
	if got == "" {
		return false
	}
	sum := sha256.Sum256([]byte(got))
	return subtle.ConstantTimeCompare(sum[:], h.keyHash[:]) == 1
}

// accepts refuses a request type without a callback.
func (h *Handler) accepts(rt RequestType) error {
	if (rt == RequestReferral && h.onReferral == nil) || (rt == RequestDecision && h.onDecision == nil) {
		return newFieldError("request_type", "is not accepted by this endpoint")
	}
	return nil
}

// answerErrors copies the refused fields into the answer.
func answerErrors(ve *ValidationError) []AnswerError {
	if ve == nil {
		return nil
	}
	out := make([]AnswerError, len(ve.Fields))
	for i, f := range ve.Fields {
		out[i] = AnswerError{Path: f.Path, Reason: f.Reason}
	}
	return out
}

// paths lists a validation error's field paths for the log: the names
// this package knows; a key named by the sender is not logged.
func paths(ve *ValidationError) []string {
	if ve == nil {
		return nil
	}
	out := make([]string, len(ve.Fields))
	for i, f := range ve.Fields {
		out[i] = f.Path
		if f.Reason == reasonUnknownKey {
			out[i] = "[unknown key]"
		}
	}
	return out
}

// writeAnswer writes the handler's JSON answer.
func writeAnswer(w http.ResponseWriter, status int, a Answer) {
	b, _ := json.Marshal(a)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}
