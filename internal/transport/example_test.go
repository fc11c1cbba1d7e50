package transport_test

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"

	"github.com/casebridge/casebridge/internal/transport"
)

// RedactURL keeps paging parameters and replaces credentials and filter
// values, which may be personal data.
func ExampleRedactURL() {
	fmt.Println(transport.RedactURLString("https://svc:pw@primero.example/api/v2/cases?page=2&per=100&name_first=Test&token=abc"))
	// Output: https://primero.example/api/v2/cases?name_first=REDACTED&page=2&per=100&token=REDACTED
}

// A ValidationError names fields by path and never quotes their values.
func ExampleValidationError() {
	v := &transport.ValidationError{}
	v.Add("data.date_of_birth", "must be a date (YYYY-MM-DD)")
	v.Add("services_section[0].unique_id", "must be a UUID")
	fmt.Println(v.Err())
	// Output: validation failed: data.date_of_birth: must be a date (YYYY-MM-DD); services_section[0].unique_id: must be a UUID
}

// With StopAfterUnauthorized, credentials the server refused are kept back
// until ResetUnauthorized: a second attempt could lock the account.
func ExampleClient_ResetUnauthorized() {
	var sent atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sent.Add(1)
		w.WriteHeader(http.StatusUnauthorized)
	}))
	defer srv.Close()
	c, _ := transport.New(transport.Config{StopAfterUnauthorized: true})
	get := func() error {
		req, _ := http.NewRequest(http.MethodGet, srv.URL, nil)
		req.SetBasicAuth("svc", "wrong")
		_, err := c.Do(req)
		return err
	}
	fmt.Println(errors.Is(get(), transport.ErrUnauthorized))
	fmt.Println(errors.Is(get(), transport.ErrCredentialsRejected), "sent:", sent.Load())
	c.ResetUnauthorized()
	_ = get()
	fmt.Println("sent:", sent.Load())
	// Output:
	// true
	// true sent: 1
	// sent: 2
}
