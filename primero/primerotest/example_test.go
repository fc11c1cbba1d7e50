package primerotest_test

import (
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
