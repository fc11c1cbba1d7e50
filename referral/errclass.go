package referral

import (
	"context"
	"errors"
	"net/http"
	"strconv"

	"github.com/casebridge/casebridge/mapping"
	"github.com/casebridge/casebridge/primero"
	"github.com/casebridge/casebridge/progres"
)

// errClass is a failed call's class as an audit reason code: "http_503",
// "invalid", "cancelled", "network" (never the error's text).
func errClass(err error) string {
	var pe *progres.APIError
	var me *primero.APIError
	var ve *progres.ValidationError
	var mes mapping.Errors
	var mfe *mapping.FieldError
	switch {
	case errors.As(err, &pe):
		return "http_" + strconv.Itoa(pe.StatusCode)
	case errors.As(err, &me):
		return "http_" + strconv.Itoa(me.StatusCode)
	case errors.As(err, &ve), errors.As(err, &mes), errors.As(err, &mfe):
		return "invalid"
	case errors.Is(err, progres.ErrGateway):
		return "gateway_error"
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return "cancelled"
	}
	return "network"
}

// mayHaveArrived reports whether a failed write may have been applied by
// the gateway all the same: the request may have reached it and only the
// answer was lost (a dropped connection, a timeout, a 5xx, an undecodable
// 2xx). A refusal before sending, a 4xx other than 408, or PING's own
// error report did not apply.
func mayHaveArrived(err error) bool {
	var pe *progres.APIError
	var ve *progres.ValidationError
	switch {
	case errors.As(err, &ve), errors.Is(err, progres.ErrGateway):
		return false
	case errors.As(err, &pe):
		return pe.StatusCode >= 500 || pe.StatusCode == http.StatusRequestTimeout
	}
	return true
}
