package primero_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/casebridge/casebridge/primero"
	"github.com/casebridge/casebridge/primero/primerotest"
)

// After a 401 the client keeps its credentials back: Primero locks an
// account after 6 failed attempts. ResetAuth, once the cause is fixed on
// the server, lets it try again.
func ExampleClient_ResetAuth() {
	s := startFake(3)
	defer s.Close()
	c, _ := primero.New(s.URL(), primero.WithBasicAuth(primerotest.DefaultUser, "rotated-password"))
	ctx := context.Background()

	for range 6 {
		_, _, err := c.Cases.List(ctx, nil)
		if errors.Is(err, primero.ErrCredentialsRejected) {
			continue // not sent: failed at once
		}
		fmt.Println("sent, unauthorized:", errors.Is(err, primero.ErrUnauthorized))
	}
	fmt.Println("failed attempts on the server:", s.FailedLogins(primerotest.DefaultUser))

	// The operator sets the new password on the server, then:
	s.AddUser(primerotest.User{UserName: primerotest.DefaultUser, Password: "rotated-password"})
	c.ResetAuth()
	cases, _, err := c.Cases.List(ctx, nil)
	fmt.Println(len(cases), err)
	// Output:
	// sent, unauthorized: true
	// failed attempts on the server: 1
	// 3 <nil>
}

// OnPage reports each page's metadata, metadata.total included, while All
// yields the cases in the caller's order: here a sync that saves its
// cursor as it goes.
func ExampleCasesService_All_total() {
	s := startFake(25)
	defer s.Close()
	c, _ := primero.New(s.URL(), primero.WithBasicAuth(primerotest.DefaultUser, primerotest.DefaultPassword))

	total, n := 0, 0
	opts := &primero.ListOptions{
		Per: 10, OrderBy: "last_updated_at", Order: "asc",
		OnPage: func(r *primero.Response) { total = r.Total },
	}
	for kase, err := range c.Cases.All(context.Background(), opts) {
		if err != nil {
			fmt.Println(err)
			return
		}
		n++
		_ = kase.LastUpdatedAt // save as the cursor once the case is processed
	}
	fmt.Println(n, "of", total)
	// Output: 25 of 25
}

// Every answer's body is capped; a page larger than the cap is an error,
// not an out-of-memory.
func ExampleWithMaxResponseBytes() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"data":[],"metadata":{"total":0},"pad":"%s"}`, strings.Repeat("x", 4096))
	}))
	defer srv.Close()
	c, _ := primero.New(srv.URL, primero.WithBasicAuth("primero_api", "synthetic-password"), primero.WithMaxResponseBytes(1024))

	_, _, err := c.Cases.List(context.Background(), nil)
	fmt.Println(errors.Is(err, primero.ErrResponseTooLarge))
	// Output: true
}

// An APIError prints Primero's codes and the fields it named, never the
// server's text, which may echo a person's data; ServerErrors has it.
func ExampleAPIError() {
	body := `{"errors":[{"status":422,"resource":"/api/v2/cases","message":["Test Child 1 is not valid"],"detail":["/name_first"]},` +
		`{"status":422,"message":["transition.errors.consent"],"detail":"consent"}]}`
	e := primero.DecodeErrorBody(http.StatusUnprocessableEntity, []byte(body))
	fmt.Println(e.Error())
	fmt.Println(e.Codes, e.Fields, e.Withheld)
	fmt.Println(len(e.ServerErrors()), "entries as sent (may hold personal data: never log them)")
	// Output:
	// primero: 422 Unprocessable Entity: transition.errors.consent (fields: /name_first, consent) (1 server text(s) withheld: see ServerErrors)
	// [transition.errors.consent] [/name_first consent] 1
	// 2 entries as sent (may hold personal data: never log them)
}
