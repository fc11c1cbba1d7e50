package primerotest_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/casebridge/casebridge/primero/primerotest"
)

// get sends an authenticated GET and returns the status and body.
func get(s *primerotest.Server, path string) (int, string) {
	req, _ := http.NewRequest(http.MethodGet, s.URL()+path, nil)
	req.SetBasicAuth(primerotest.DefaultUser, primerotest.DefaultPassword)
	res, err := (&http.Client{Timeout: 2 * time.Second}).Do(req)
	if err != nil {
		return 0, "error"
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, strings.TrimSpace(string(b))
}

// Seed a fake with cases, then list them through the API.
func Example_seeding() {
	s, err := primerotest.Start()
	if err != nil {
		panic(err)
	}
	defer s.Close()

	c := s.AddCase(map[string]any{"name_first": "Test", "sex": "female", "age": 9})
	s.AddSyntheticCases(3)

	status, _ := get(s, "/api/v2/cases?sex=female&per=1")
	fmt.Println(status, len(s.Cases()), c["status"], c["owned_by"])
	// Output: 200 4 open primero_api
}

// Inspect what a client sent: every request is recorded, secrets redacted.
func Example_inspection() {
	s, err := primerotest.Start()
	if err != nil {
		panic(err)
	}
	defer s.Close()

	get(s, "/api/v2/cases?sexx=male") // a typo: Primero ignores it
	r := s.Requests()[0]
	fmt.Println(r.Method, r.Path, r.Query.Get("sexx"), r.Header.Get("Authorization"))
	// Output: GET /api/v2/cases male [REDACTED]
}

// Fail the next requests with a status in Primero's error envelope.
func ExampleServer_FailNext() {
	s, _ := primerotest.Start()
	defer s.Close()

	s.FailNext(2, http.StatusServiceUnavailable)
	for range 3 {
		status, _ := get(s, "/api/v2/cases")
		fmt.Println(status)
	}
	// Output:
	// 503
	// 503
	// 200
}

// Answer a plain-text 429 with Retry-After.
func ExampleServer_RateLimitNext() {
	s, _ := primerotest.Start()
	defer s.Close()

	s.RateLimitNext(1, 30*time.Second)
	status, body := get(s, "/api/v2/cases")
	fmt.Println(status, body)
	// Output: 429 Retry later
}

// Close the connection without answering.
func ExampleServer_DropNext() {
	s, _ := primerotest.Start()
	defer s.Close()

	s.DropNext(1)
	status, _ := get(s, "/api/v2/cases")
	fmt.Println(status)
	// Output: 0
}

// Delay every response.
func ExampleServer_SetLatency() {
	s, _ := primerotest.Start()
	defer s.Close()

	s.SetLatency(20 * time.Millisecond)
	start := time.Now()
	get(s, "/api/v2/cases")
	fmt.Println(time.Since(start) >= 20*time.Millisecond)
	// Output: true
}

// Lock the system as during a configuration update: 503 with Retry-After.
func ExampleServer_LockSystem() {
	s, _ := primerotest.Start()
	defer s.Close()

	s.LockSystem(time.Minute)
	status, body := get(s, "/api/v2/cases")
	fmt.Println(status, body)
	s.UnlockSystem()
	status, _ = get(s, "/api/v2/cases")
	fmt.Println(status)
	// Output:
	// 503 {"errors":[{"status":503,"resource":"/api/v2/cases","message":"Service Unavailable","detail":"Retry-After: 60"}]}
	// 200
}

// Six failed logins lock the account for 30 minutes.
func ExampleServer_Locked() {
	s, _ := primerotest.Start()
	defer s.Close()

	for range 6 {
		req, _ := http.NewRequest(http.MethodGet, s.URL()+"/api/v2/cases", nil)
		req.SetBasicAuth(primerotest.DefaultUser, "wrong")
		if res, err := http.DefaultClient.Do(req); err == nil {
			res.Body.Close()
		}
	}
	status, _ := get(s, "/api/v2/cases") // right password, still refused
	fmt.Println(s.FailedLogins(primerotest.DefaultUser), s.Locked(primerotest.DefaultUser), status)
	// Output: 6 true 401
}

// Switch an unconfirmed behaviour to check a client copes either way.
func ExampleWithQuirks() {
	q := primerotest.DefaultQuirks()
	q.BasicFailuresCountTowardLockout = false
	s, _ := primerotest.Start(primerotest.WithQuirks(q))
	defer s.Close()

	req, _ := http.NewRequest(http.MethodGet, s.URL()+"/api/v2/cases", nil)
	req.SetBasicAuth(primerotest.DefaultUser, "wrong")
	if res, err := http.DefaultClient.Do(req); err == nil {
		res.Body.Close()
	}
	fmt.Println(s.FailedLogins(primerotest.DefaultUser))
	// Output: 0
}

// Give a user a narrower role: the fake then renders, filters and writes
// only what that role's forms allow, as Primero does.
func ExampleWithRole() {
	reader := primerotest.Role{UniqueID: "role-identity-reader",
		Forms: map[string]primerotest.FormAccess{"basic_identity": primerotest.Read}}
	s, _ := primerotest.Start(primerotest.WithRole(reader),
		primerotest.WithUser(primerotest.User{UserName: "reader", Password: "synthetic-pass-20", Role: reader.UniqueID}))
	defer s.Close()
	s.AddCase(map[string]any{"name_first": "Test", "consent_for_services": true})
	s.AddCase(map[string]any{"name_first": "Test", "consent_for_services": false})

	req, _ := http.NewRequest(http.MethodGet, s.URL()+"/api/v2/cases?protection_concerns=separated", nil)
	req.SetBasicAuth("reader", "synthetic-pass-20")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		panic(err)
	}
	defer res.Body.Close()
	var body struct {
		Data     []map[string]any `json:"data"`
		Metadata struct{ Total int }
	}
	_ = json.NewDecoder(res.Body).Decode(&body)
	_, hasConsent := body.Data[0]["consent_for_services"]
	// The filter names a field the role cannot read: it is dropped, and
	// every case comes back, without the unreadable consent field.
	fmt.Println(body.Metadata.Total, hasConsent)
	// Output: 2 false
}

// Behave as an older Primero: before v2.12 a login does not end the user's
// other sessions, and the login answer has no group_permission.
func ExampleWithVersion() {
	s, err := primerotest.Start(primerotest.WithAuthMode(primerotest.AuthSession), primerotest.WithVersion("2.11"))
	if err != nil {
		panic(err)
	}
	defer s.Close()
	_, err = primerotest.Start(primerotest.WithVersion("3.0"))
	fmt.Println(err)
	// Output: primerotest: version "3.0" is not a Primero v2 version
}

// Fail 30% of the requests at random, seeded: the same sequence of
// requests gets the same faults on every run. A flow test turns chaos on,
// runs the flow repeatedly, turns it off, runs it to completion and then
// checks the fake's state.
func ExampleServer_SetChaos() {
	s, _ := primerotest.Start()
	defer s.Close()

	err := s.SetChaos(primerotest.Chaos{
		Rate: 0.3,
		Seed: 16,
		Hold: 100 * time.Millisecond, // a timeout fault holds at most this long
	})
	if err != nil {
		panic(err)
	}
	hc := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	for range 20 {
		req, _ := http.NewRequest(http.MethodGet, s.URL()+"/api/v2/cases", nil)
		req.SetBasicAuth(primerotest.DefaultUser, primerotest.DefaultPassword)
		if res, err := hc.Do(req); err == nil {
			res.Body.Close()
		}
	}
	s.StopChaos()

	fmt.Println(len(s.Requests()), "requests:", s.FaultCounts())
	// Output: 20 requests: 5 faults injected, 3 after acting (status 0, rate-limit 1, timeout 1, drop-before 0, drop-after 3)
}
