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
//   - decodes the body strictly with DecodeNotification (400 naming the
//     refused fields, never their values; no callback is called);
//   - hands each item, in order, to the callback for its request_type,
//     with its delivery key;
//   - answers 200 only when every callback succeeded. Otherwise it answers
//     500 with a result per item, so that the sender keeps and delivers
//     again what failed; casebridge keeps no case data at rest, so the
//     sender is where an undelivered item lives.
//
// Nothing of the body reaches a log or the answer. A Handler is safe for
// concurrent use; callbacks may run concurrently for concurrent requests.
type Handler struct {
	keyHash    [sha256.Size]byte
	header     string
	maxBody    int64
	onReferral func(context.Context, Delivery[*OutgoingReferral]) error
	onDecision func(context.Context, Delivery[*IncomingReferralDecision]) error
	logger     *slog.Logger
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
	return h, nil
}

// ItemResult is the outcome of one item in the handler's answer.
type ItemResult struct {
	Index       int         `json:"index"`
	DeliveryKey DeliveryKey `json:"delivery_key"`
	Status      string      `json:"status"` // "delivered" or "failed"
}

// Answer is the JSON body of the handler's answers.
type Answer struct {
	// Status is "ok", "failed" (some items failed), "invalid" (400) or
	// "error" (any other refusal).
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
	n, err := DecodeNotification(body)
	if err == nil {
		err = h.accepts(n.RequestType)
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
	results, failed := h.dispatch(r.Context(), n)
	h.logger.LogAttrs(r.Context(), slog.LevelInfo, "progres inbound notification",
		slog.String("request_type", string(n.RequestType)), slog.Int("items", n.Len()), slog.Int("failed", failed))
	if failed > 0 {
		writeAnswer(w, http.StatusInternalServerError, Answer{Status: "failed", Results: results})
		return
	}
	writeAnswer(w, http.StatusOK, Answer{Status: "ok", Results: results})
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

// dispatch calls the callback for every item, in order, whatever earlier
// items gave; a panicking callback counts as failed.
func (h *Handler) dispatch(ctx context.Context, n *Notification) ([]ItemResult, int) {
	results := make([]ItemResult, n.Len())
	failed := 0
	for i, key := range n.Keys {
		var err error
		if n.RequestType == RequestReferral {
			err = call(ctx, h.onReferral, Delivery[*OutgoingReferral]{Key: key, Index: i, Item: n.Referrals[i]})
		} else {
			err = call(ctx, h.onDecision, Delivery[*IncomingReferralDecision]{Key: key, Index: i, Item: n.Decisions[i]})
		}
		results[i] = ItemResult{Index: i, DeliveryKey: key, Status: "delivered"}
		if err != nil {
			results[i].Status = "failed"
			failed++
		}
	}
	return results, failed
}

// errCallbackPanic stands for a callback that panicked.
var errCallbackPanic = errors.New("progres: callback panicked")

// call runs fn, turning a panic into an error.
func call[T any](ctx context.Context, fn func(context.Context, Delivery[T]) error, d Delivery[T]) (err error) {
	defer func() {
		if recover() != nil {
			err = errCallbackPanic
		}
	}()
	return fn(ctx, d)
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
