package transport

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"golang.org/x/oauth2"
)

func TestTokenErrorPrintsOnlyStandardErrorCodes(t *testing.T) {
	echoed := &TokenError{Err: &oauth2.RetrieveError{
		Response:         &http.Response{StatusCode: http.StatusBadRequest},
		Body:             []byte(`{"error":"Test Child 1"}`),
		ErrorCode:        "Test Child 1",
		ErrorDescription: "Test Child 1",
	}}
	assert.NotContains(t, echoed.Error(), "Test Child 1")
	assert.Contains(t, echoed.Error(), "400")

	standard := &TokenError{Err: &oauth2.RetrieveError{
		Response:  &http.Response{StatusCode: http.StatusBadRequest},
		ErrorCode: "invalid_grant",
	}}
	assert.Contains(t, standard.Error(), "invalid_grant")
}
