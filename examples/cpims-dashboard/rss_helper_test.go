package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/casebridge/casebridge/internal/pgtest"
	"github.com/casebridge/casebridge/primero/primerotest"
)

// TestServeForRSS is not a test but a helper for measuring the dashboard
// with the fake out of its process: with CASEBRIDGE_RSS_CASES=N it seeds
// the benchmark's fake with N cases (the values shifted by
// CASEBRIDGE_RSS_VARIANT, as seedVariant does), creates an empty database
// unless CASEBRIDGE_RSS_NODB=1, prints both addresses and serves for
// CASEBRIDGE_RSS_SECONDS (default 600), or until its standard input closes
// when CASEBRIDGE_RSS_UNTIL_EOF=1 (how BenchmarkSync runs it, see
// fakeProcess). Then, in another shell:
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
	variant, _ := strconv.Atoi(os.Getenv("CASEBRIDGE_RSS_VARIANT"))
	if os.Getenv("CASEBRIDGE_RSS_UNTIL_EOF") == "1" {
		// The parent is gone or done, even while this is still seeding.
		go func() {
			_, _ = io.Copy(io.Discard, os.Stdin)
			os.Exit(0)
		}()
	}
	fake, err := primerotest.Start(fakeOptions(primerotest.WithClock(benchClock()))...)
	require.NoError(t, err)
	defer fake.Close()
	seedLookups(fake)
	seedVariant(fake, 0, n, variant)
	dsn := "none"
	if os.Getenv("CASEBRIDGE_RSS_NODB") != "1" {
		dsn = pgtest.DSN(t)
	}
	fmt.Printf("RSS-FAKE-URL %s\nRSS-DSN %s\n", fake.URL(), dsn)
	if os.Getenv("CASEBRIDGE_RSS_UNTIL_EOF") == "1" {
		select {} // until the goroutine above exits
	}
	time.Sleep(time.Duration(secs) * time.Second)
}

// fakeProcess runs TestServeForRSS in a child process of this test binary:
// a fake holding n cases of variant, and no database. It returns the
// fake's URL; the child ends when this process does (its standard input
// closes) or on stop. Its memory is not this process's, so what
// BenchmarkSync reports is the flow's and the floor's own. The child
// collects garbage at 25% heap growth (GOGC=25): a fake holds about 4.5 KB
// per case, 4.5 GB at a million, and the default would let it grow to
// twice that.
func fakeProcess(n, variant int) (url string, stop func(), err error) {
	cmd := exec.Command(os.Args[0], "-test.run=^TestServeForRSS$", "-test.v", "-test.timeout=0")
	cmd.Env = append(os.Environ(), "CASEBRIDGE_RSS_CASES="+strconv.Itoa(n), "GOGC=25",
		"CASEBRIDGE_RSS_VARIANT="+strconv.Itoa(variant), "CASEBRIDGE_RSS_NODB=1", "CASEBRIDGE_RSS_UNTIL_EOF=1")
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return "", nil, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return "", nil, err
	}
	if err := cmd.Start(); err != nil {
		return "", nil, err
	}
	stop = func() {
		_ = stdin.Close()
		_ = cmd.Wait()
	}
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		if u, ok := strings.CutPrefix(sc.Text(), "RSS-FAKE-URL "); ok {
			go func() { _, _ = io.Copy(io.Discard, out) }() // the rest of its output
			return u, stop, nil
		}
	}
	stop()
	return "", nil, fmt.Errorf("fake process ended before serving (%v)", sc.Err())
}
