package progres

import (
	"context"
	"errors"

	"github.com/casebridge/casebridge/internal/transport"
)

// ErrNotAnswered is what an invalid-item callback returns (or wraps) when
// it could not answer the item to its sender, e.g. a referral without a
// readable intervention number, which no "Delivery Fail" can address. The
// item is reported invalid and unanswered, and the notification is
// answered 422 so that the sender learns of it from the answer itself.
var ErrNotAnswered = errors.New("progres: invalid item not answered")

// OnInvalidReferral sets the callback for referral items refused for
// their own data (see InvalidDelivery). It is how a flow answers such an
// item, typically with DeliveryFailed(d.InterventionNumber,
// ReasonInvalidData), and records it. Its result decides the item's:
//
//   - nil: the item was answered and is durably handled (result
//     "invalid", answered; on its own it does not fail the notification);
//   - an error matching ErrNotAnswered: the item could not be answered
//     (result "invalid", not answered; the notification gets 422);
//   - any other error, or a panic: answering failed and may succeed later
//     (result "failed"; the notification gets 500 and should come again).
//
// Without it, refused referral items are reported invalid and not
// answered. It needs OnReferral; it is never called for a valid item.
func OnInvalidReferral(fn func(context.Context, InvalidDelivery) error) HandlerOption {
	return onInvalid(RequestReferral, "OnInvalidReferral.fn", fn)
}

// OnInvalidDecision is OnInvalidReferral for decision items
// (PrimeroIncomingReferralDecision); it needs OnDecision. The
// InvalidDelivery carries the decision's ReferralID and OrgReferralID
// when they are valid.
func OnInvalidDecision(fn func(context.Context, InvalidDelivery) error) HandlerOption {
	return onInvalid(RequestDecision, "OnInvalidDecision.fn", fn)
}

func onInvalid(rt RequestType, path string, fn func(context.Context, InvalidDelivery) error) HandlerOption {
	return func(h *Handler) error {
		if fn == nil {
			return transport.NewValidationError(path, "must not be nil")
		}
		if h.onInvalid == nil {
			h.onInvalid = map[RequestType]func(context.Context, InvalidDelivery) error{}
		}
		h.onInvalid[rt] = fn
		return nil
	}
}

// dispatch hands every item, in order, to its callback, whatever earlier
// items gave; a panicking callback counts as failed.
func (h *Handler) dispatch(ctx context.Context, b *Batch) []ItemResult {
	results := make([]ItemResult, len(b.Items))
	for i, it := range b.Items {
		res := ItemResult{Index: i, DeliveryKey: it.Key, Status: ItemDelivered}
		var err error
		switch {
		case it.Invalid != nil:
			res = h.invalid(ctx, b.RequestType, res, *it.Invalid)
		case it.Referral != nil:
			err = safely(func() error {
				return h.onReferral(ctx, Delivery[*OutgoingReferral]{Key: it.Key, Index: i, Item: it.Referral})
			})
		default:
			err = safely(func() error {
				return h.onDecision(ctx, Delivery[*IncomingReferralDecision]{Key: it.Key, Index: i, Item: it.Decision})
			})
		}
		if err != nil {
			res.Status = ItemFailed
		}
		results[i] = res
	}
	return results
}

// invalid reports a refused item and lets its callback, if any, answer it.
func (h *Handler) invalid(ctx context.Context, rt RequestType, res ItemResult, d InvalidDelivery) ItemResult {
	res.Status = ItemInvalid
	res.Errors = answerErrors(d.Err)
	fn := h.onInvalid[rt]
	if fn == nil {
		return res
	}
	switch err := safely(func() error { return fn(ctx, d) }); {
	case err == nil:
		res.Answered = true
	case !errors.Is(err, ErrNotAnswered):
		res.Status = ItemFailed
	}
	return res
}

// errCallbackPanic stands for a callback that panicked.
var errCallbackPanic = errors.New("progres: callback panicked")

// safely runs a callback, turning a panic into an error.
func safely(fn func() error) (err error) {
	defer func() {
		if recover() != nil {
			err = errCallbackPanic
		}
	}()
	return fn()
}

// maxLoggedPaths bounds the refused paths one log record lists.
const maxLoggedPaths = 50

// outcome counts a notification's results for the log and the status.
type outcome struct {
	failed, invalid, unanswered int
	paths                       []string // refused paths, at most maxLoggedPaths
}

func tally(results []ItemResult) outcome {
	var o outcome
	for _, r := range results {
		switch {
		case r.Status == ItemFailed:
			o.failed++
		case r.Status == ItemInvalid && !r.Answered:
			o.invalid++
			o.unanswered++
		case r.Status == ItemInvalid:
			o.invalid++
		}
		for _, e := range r.Errors { // paths this package names, no sender key
			if len(o.paths) < maxLoggedPaths {
				o.paths = append(o.paths, e.Path)
			}
		}
	}
	return o
}
