package main

import (
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/casebridge/casebridge/internal/pgtest"
	"github.com/casebridge/casebridge/primero/primerotest"
)

// TestServeForRSS is not a test but a helper for measuring the RSS of the
// dashboard process with the fake out of it: with CASEBRIDGE_RSS_CASES=N
// it seeds the benchmark's fake with N cases, creates an empty database,
// prints both addresses and serves for CASEBRIDGE_RSS_SECONDS (default
// 600). Then, in another shell:
//
//	PRIMERO_USER=... PRIMERO_PASSWORD=... /usr/bin/time -v ./cpims-dashboard -primero-url URL -db DSN
//
// (BENCHMARKS.md gives the full recipe.)
func TestServeForRSS(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("CASEBRIDGE_RSS_CASES"))
	if n <= 0 {
		t.Skip("set CASEBRIDGE_RSS_CASES to serve a fake for an RSS measurement")
	}
	secs, _ := strconv.Atoi(os.Getenv("CASEBRIDGE_RSS_SECONDS"))
	if secs <= 0 {
		secs = 600
	}
	fake, err := primerotest.Start(fakeOptions(primerotest.WithClock(benchClock()))...)
	require.NoError(t, err)
	defer fake.Close()
	seedLookups(fake)
	seedCases(fake, 0, n)
	dsn := pgtest.DSN(t)
	fmt.Printf("RSS-FAKE-URL %s\nRSS-DSN %s\n", fake.URL(), dsn)
	time.Sleep(time.Duration(secs) * time.Second)
}
