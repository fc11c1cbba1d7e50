package primero_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"time"

	"github.com/casebridge/casebridge/primero"
	"github.com/casebridge/casebridge/primero/primerotest"
)

// startFake starts the fake with synthetic cases for the examples.
func startFake(n int) *primerotest.Server {
	s, err := primerotest.Start()
	if err != nil {
		log.Fatal(err)
	}
	s.AddSyntheticCases(n)
	return s
}

// Connect with Basic auth (the default for service accounts) and read a page.
func Example() {
	s := startFake(30)
	defer s.Close()

	c, err := primero.New(s.URL(), primero.WithBasicAuth(primerotest.DefaultUser, primerotest.DefaultPassword))
	if err != nil {
		log.Fatal(err)
	}
	cases, resp, err := c.Cases.List(context.Background(), &primero.ListOptions{Per: 10})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(len(cases), "of", resp.Total)
	// Output: 10 of 30
}

// All pages lazily through every matching case; break stops the paging.
func ExampleCasesService_All() {
	s := startFake(100)
	defer s.Close()
	c, _ := primero.New(s.URL(), primero.WithBasicAuth(primerotest.DefaultUser, primerotest.DefaultPassword))

	opts := &primero.ListOptions{Filters: []primero.Filter{
		primero.Sex("female"),
		primero.AgeBetween(0, 17), // inclusive: children are 0..17 (pitfall 4)
		primero.LocatedIn("XX01"), // XX01 and its descendants
	}}
	n := 0
	for kase, err := range c.Cases.All(context.Background(), opts) {
		if err != nil {
			log.Fatal(err)
		}
		if kase.Sex != "female" {
			log.Fatal("filter not applied")
		}
		n++
	}
	fmt.Println(n > 0)
	// Output: true
}

// A misspelt filter is refused before anything is sent: Primero would
// ignore it and return every case in scope (pitfall 3).
func ExampleRaw() {
	c, _ := primero.New("http://127.0.0.1:1", primero.WithBasicAuth("u", "p"))
	_, err := c.RenderFilters(primero.Raw("stauts", "open"))
	fmt.Println(errors.Is(err, primero.ErrValidation))
	q, _ := c.RenderFilters(primero.Status("open"), primero.UpdatedSince(time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)))
	fmt.Println(q)
	// Output:
	// true
	// last_updated_at=2025-03-01T00%3A00%3A00Z..&status=open
}

// Upsert refuses to choose when several cases carry the external id.
func ExampleCasesService_Upsert() {
	s := startFake(0)
	defer s.Close()
	s.AddCase(map[string]any{"name_first": "Test", "unhcr_individual_no": "803-00000001"})
	s.AddCase(map[string]any{"name_first": "Test", "unhcr_individual_no": "803-00000001"})
	c, _ := primero.New(s.URL(), primero.WithBasicAuth(primerotest.DefaultUser, primerotest.DefaultPassword))

	_, _, err := c.Cases.Upsert(context.Background(), "unhcr_individual_no", "803-00000001", &primero.Case{NameLast: "Synthetic"})
	var amb *primero.AmbiguousMatchError
	if errors.As(err, &amb) {
		fmt.Println(len(amb.IDs), "matching cases; a person must decide")
	}
	// Output: 2 matching cases; a person must decide
}

// A referral is refused client-side when the case lacks consent; nothing
// is sent.
func ExampleReferralsService_Create() {
	s := startFake(0)
	defer s.Close()
	id := s.AddCase(map[string]any{"name_first": "Test", "module_id": "primeromodule-cp",
		"consent_for_services": true, "disclosure_other_orgs": false})["id"].(string)
	c, _ := primero.New(s.URL(), primero.WithBasicAuth(primerotest.DefaultUser, primerotest.DefaultPassword))

	_, err := c.Referrals.Create(context.Background(), id, &primero.ReferralRequest{
		TransitionedTo: primerotest.DefaultRecipient, Service: "alternative_care"})
	var ce *primero.ConsentError
	if errors.As(err, &ce) {
		fmt.Println("missing:", ce.Missing)
	}
	fmt.Println("referrals sent:", len(s.Referrals(id)))
	// Output:
	// missing: [disclosure_other_orgs]
	// referrals sent: 0
}

// PatchFrom turns a read-modify-write into a minimal PATCH; unknown and
// custom fields are kept untouched.
func ExamplePatchFrom() {
	before := &primero.Case{ID: "c1", NameLast: "Case", Fields: map[string]any{"x_custom_7f3a": "kept"}}
	after := before.Clone()
	after.NameLast = "Synthetic"
	fmt.Println(primero.PatchFrom(before, after))
	// Output: map[name_last:Synthetic]
}
