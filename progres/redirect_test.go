package progres_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/casebridge/casebridge/progres"
	"github.com/casebridge/casebridge/progres/progrestest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A gateway that redirects a write (to a login page, say) must not look
// like success: Go would follow a 302 with a GET and see a 200.
func TestRedirectIsNotSuccess(t *testing.T) {
	gets := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet {
			gets++
			_, _ = w.Write([]byte(`{}`))
			return
		}
		http.Redirect(w, r, "/login", http.StatusFound)
	}))
	defer srv.Close()
	c, err := progres.NewPING(srv.URL, progres.WithSubscriptionKey("k"), progres.WithDeployment("PNR-1", "INT-1"),
		progres.WithTokenSource(staticToken{}), progres.WithRetry(fastRetry))
	require.NoError(t, err)
	_, err = c.Ingest(context.Background(), progrestest.SHPTransferStatus, []progres.Record{{ExternalID: "e", Fields: []progres.Field{progres.F("a", "1")}}})
	var ae *progres.APIError
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, http.StatusFound, ae.StatusCode)
	assert.Zero(t, gets, "the redirect was not followed")
}
