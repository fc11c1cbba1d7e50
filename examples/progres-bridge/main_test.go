package main

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/casebridge/casebridge/consent/consenttest"
	"github.com/casebridge/casebridge/examples/internal/clitest"
	"github.com/casebridge/casebridge/mapping"
	"github.com/casebridge/casebridge/primero"
	"github.com/casebridge/casebridge/progres/progrestest"
	"github.com/casebridge/casebridge/sqlsink"
)

// demoConfig is the no-flag configuration with the state in dbPath.
func demoConfig(t *testing.T, dbPath string, args ...string) config {
	t.Helper()
	cfg, err := parseConfig(append([]string{"-db", dbPath}, args...), env{}.get)
	require.NoError(t, err)
	require.True(t, cfg.demo)
	return cfg
}

// startDemo starts the demo's fakes for a test.
func startDemo(t *testing.T) *demoSystems {
	t.Helper()
	d, err := newDemoSystems()
	require.NoError(t, err)
	t.Cleanup(d.close)
	return d
}

// fakesState is what the fakes hold after a run: every Primero case as
// stored, and every body DTP received.
type fakesState struct {
	cases     []map[string]any
	feedback  []map[string]any
	referrals []map[string]any
}

func snapshot(d *demoSystems) fakesState {
	s := fakesState{cases: d.primero.Cases()}
	if d.dtp != nil {
		s.feedback, s.referrals = d.dtp.Feedback(), d.dtp.Referrals()
	}
	return s
}

// casesOf returns the fake's cases with this UNHCR individual number.
func casesOf(d *demoSystems, child int) []map[string]any {
	var out []map[string]any
	for _, c := range d.primero.Cases() {
		if c["unhcr_individual_no"] == individualNumber(child) {
			out = append(out, c)
		}
	}
	return out
}

// TestDemoRunTwiceChangesNothing is the README's command run twice
// against the same fakes and state, with DTP delivering every referral
// again before the second run: the first run creates one case, updates
// the known child's, creates nothing for the child without consent nor
// for the one matching two cases; the second run leaves the fakes exactly
// as they were (no case, service or feedback added or changed).
func TestDemoRunTwiceChangesNothing(t *testing.T) {
	d := startDemo(t)
	dbPath := filepath.Join(t.TempDir(), "state.db")
	cfg := d.configure(demoConfig(t, dbPath))
	ctx := context.Background()

	var first bytes.Buffer
	require.NoError(t, runWith(ctx, cfg, d, slog.New(slog.DiscardHandler), &first))
	require.Len(t, casesOf(d, childNew), 1, "a case for the new child")
	require.Len(t, casesOf(d, childKnown), 1, "the known child's case is updated, not duplicated")
	assert.Empty(t, casesOf(d, childNoConsent), "nothing for the child without consent")
	assert.Len(t, casesOf(d, childTwice), 2, "the two matching cases are left alone")
	require.Len(t, servicesOf(casesOf(d, childNew)[0]), 1, "the re-delivered referral adds no second service")
	after := snapshot(d)
	byStatus := map[string][]string{}
	for _, fb := range after.feedback {
		byStatus[fb["status"].(string)] = append(byStatus[fb["status"].(string)], fb["progres_interventionnumber"].(string))
	}
	assert.Len(t, byStatus["Pending Acknowledgement"], 2, "children 1 and 2 delivered, answered once each despite the re-delivery")
	assert.Len(t, byStatus["Delivery Fail"], 2, "no consent, two matching cases")
	assert.Equal(t, []string{progrestest.InterventionNumber(childNew)}, byStatus["acknowledged"], "the caseworker's decision reached proGres once")
	require.Len(t, after.referrals, 1, "the referral to UNHCR reached proGres once")
	assert.Equal(t, demoOutboundCaseID+"#"+demoOutboundServiceID[len(demoOutboundServiceID)-12:], after.referrals[0]["id"], "under its composite key")
	refs := d.primero.Referrals(demoCaseID(childOutbound, "a"))
	require.Len(t, refs, 1)
	assert.Equal(t, "accepted", refs[0]["status"], "UNHCR's decision reached the Primero referral")
	assert.Contains(t, first.String(), "created 1, updated 1")

	seedDTP(d.dtp) // DTP delivers everything again
	var second bytes.Buffer
	require.NoError(t, runWith(ctx, cfg, d, slog.New(slog.DiscardHandler), &second))
	assert.Equal(t, after, snapshot(d), "the second run changed nothing in Primero or proGres")
	assert.Contains(t, second.String(), "created 0, updated 0, sent 0, decided 0")
	assert.Contains(t, second.String(), "Nothing was written or sent")
	assert.Contains(t, second.String(), "Audit trails verified:")
}

// servicesOf returns a stored case's services_section rows.
func servicesOf(c map[string]any) []any {
	rows, _ := c["services_section"].([]any)
	return rows
}

// TestNoFlagsRunsTheDemoTwice is the README's command: it runs the demo,
// then again as a restarted bridge to which DTP delivers everything once
// more, and the second run writes and sends nothing. Its state is a
// temporary file, gone at the end.
func TestNoFlagsRunsTheDemoTwice(t *testing.T) {
	var out, stderr bytes.Buffer
	require.Equal(t, exitOK, exitStatus(context.Background(), nil, env{}.get, &out, &stderr), stderr.String())
	text := out.String()
	first, second, found := strings.Cut(text, "Run 2:")
	require.True(t, found, text)
	assert.Contains(t, first, "created 1, updated 1")
	assert.Contains(t, first, "consent not recorded (consent_missing)")
	assert.Contains(t, first, "ambiguous_match")
	assert.Contains(t, second, "created 0, updated 0, sent 0, decided 0")
	assert.Contains(t, second, "Nothing was written or sent")
	assert.Equal(t, 2, strings.Count(text, "Audit trails verified:"))
	for _, goSyntax := range []string{"map[", "{", "}", "%!"} {
		assert.NotContains(t, text, goSyntax)
	}
	path := regexp.MustCompile(`State: SQLite file (\S+), a temporary one`).FindStringSubmatch(text)
	require.Len(t, path, 2, text)
	assert.NoFileExists(t, path[1], "the temporary state is removed")
}

// TestDemoOverPING: the same demo through PING, polled: every flow does
// its part in the first run (both decisions included) and the second run
// writes and sends nothing.
func TestDemoOverPING(t *testing.T) {
	var out, stderr bytes.Buffer
	require.Equal(t, exitOK, exitStatus(context.Background(), []string{"-gateway", "ping"}, env{}.get, &out, &stderr), stderr.String())
	first, second, found := strings.Cut(out.String(), "Run 2:")
	require.True(t, found, out.String())
	assert.Contains(t, first, "proGres: a fake PING gateway")
	assert.Contains(t, first, "progres-intake-ping: received 4, created 1, updated 1")
	assert.Regexp(t, `primero-decisions-ping: received \d+, created 0, updated 0, sent 0, decided 1,`, first)
	assert.Regexp(t, `primero-referrals-ping: received \d+, created 0, updated 0, sent 1,`, first)
	assert.Regexp(t, `progres-decisions-ping: received 1, created 0, updated 0, sent 0, decided 1,`, first)
	assert.Contains(t, second, "created 0, updated 0, sent 0, decided 0")
}

// TestDemoKeepsNothingPersonal: with -db the demo's state file is kept;
// nothing personal from the synthetic referrals reaches it, the report or
// the verbose log.
func TestDemoKeepsNothingPersonal(t *testing.T) {
	dbPath := filepath.Join(t.TempDir(), "kept.db")
	var out, log bytes.Buffer
	require.Equal(t, exitOK, exitStatus(context.Background(), []string{"-v", "-db", dbPath}, env{}.get, &out, &log), log.String())
	assert.Contains(t, out.String(), "State: SQLite file "+dbPath+".")
	assert.Contains(t, log.String(), "referral flow run", "the verbose log was written")
	stored := readState(t, dbPath)
	assert.Contains(t, stored, progrestest.InterventionNumber(childNew), "the state holds identifiers")
	rec, fields := demoPersonalData()
	consenttest.AssertNoPersonalData(t, rec, fields, out.String(), log.String(), stored)
}

// readState returns the SQLite state file's raw bytes with its
// write-ahead log.
func readState(t *testing.T, dbPath string) string {
	t.Helper()
	var b []byte
	for _, f := range []string{dbPath, dbPath + "-wal"} {
		data, err := os.ReadFile(f)
		if !os.IsNotExist(err) {
			require.NoError(t, err)
		}
		b = append(b, data...)
	}
	return string(b)
}

// demoPersonalData is a record of the personal values in the demo's
// synthetic data (family names, the referring officers' emails and
// phones, the date of birth), for consenttest's scan.
func demoPersonalData() (mapping.Record, []string) {
	rec := mapping.Record{"dob": "2016-07-19", "cw_phone": demoCaseworkerPhone, "cw_email": "cw1@example.org"}
	fields := []string{"dob", "cw_phone", "cw_email"}
	for i := childNew; i <= childOutbound; i++ {
		for k, v := range map[string]string{
			"family": fmt.Sprintf("Child %d", i), "email": fmt.Sprintf("officer%d@example.org", i), "phone": fmt.Sprintf("000-test-%d", i),
		} {
			key := fmt.Sprintf("%s%d", k, i)
			rec[key] = v
			fields = append(fields, key)
		}
	}
	return rec, fields
}

// TestSignalStopsContinuousRunAndReleasesLocks runs the demo with
// -interval and sends this process SIGINT, then SIGTERM, once the first
// cycle is reported: the bridge stops gracefully (exit 0, says so) and
// every flow's run lock is free. (Without the handler the test binary
// itself would die.)
func TestSignalStopsContinuousRunAndReleasesLocks(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		t.Run(sig.String(), func(t *testing.T) {
			dbPath := filepath.Join(t.TempDir(), "state.db")
			out := clitest.NewOnText("In all:", func() { _ = syscall.Kill(syscall.Getpid(), sig) })
			var stderr bytes.Buffer
			code := mainWithSignals([]string{"-db", dbPath, "-interval", "1h"}, env{}.get, out, &stderr)
			assert.Equal(t, exitOK, code, stderr.String())
			assert.Contains(t, out.String(), "Running every 1h0m0s until SIGINT or SIGTERM.")
			assert.Contains(t, out.String(), "Stopped on request.")
			assert.Contains(t, out.String(), "Audit trails verified:")
			requireLocksFree(t, dbPath, out.String())
		})
	}
}

// TestCancelledSingleCycleExits130: a one-cycle run stopped before it
// finishes exits 130, says that the locks are released, and they are.
func TestCancelledSingleCycleExits130(t *testing.T) {
	dbPath := filepath.Join(t.TempDir(), "state.db")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out := clitest.NewOnText("Flows:", cancel)
	var stderr bytes.Buffer
	assert.Equal(t, exitInterrupted, exitStatus(ctx, []string{"-db", dbPath}, env{}.get, out, &stderr))
	assert.Contains(t, stderr.String(), "run locks are released")
	requireLocksFree(t, dbPath, out.String())
}

// requireLocksFree takes and releases the run lock of every flow the
// report names: it fails if a run left one held.
func requireLocksFree(t *testing.T, dbPath, report string) {
	t.Helper()
	db, err := sqlsink.Open(context.Background(), dbPath)
	require.NoError(t, err)
	defer db.Close()
	st, err := sqlsink.NewDBState(db)
	require.NoError(t, err)
	names := flowNames(report)
	require.NotEmpty(t, names)
	for _, name := range names {
		lock, err := st.Lock(context.Background(), name)
		require.NoError(t, err, "the lock of %s must have been released", name)
		require.NoError(t, lock.Release())
	}
}

// flowNames reads the flow names from the report's "Flows:" line.
func flowNames(report string) []string {
	for _, line := range strings.Split(report, "\n") {
		if rest, ok := strings.CutPrefix(line, "Flows: "); ok {
			return strings.Split(strings.TrimSuffix(rest, "."), ", ")
		}
	}
	return nil
}

// TestConsentWithdrawnIsReported: when the caseworker records that consent
// was withdrawn on a case already referred to UNHCR, the next run blocks
// it, revokes its Primero referral and says in the report, by case id
// only, that UNHCR must be told by the manual procedure (proGres has no
// interface for it).
func TestConsentWithdrawnIsReported(t *testing.T) {
	d := startDemo(t)
	cfg := d.configure(demoConfig(t, filepath.Join(t.TempDir(), "state.db")))
	ctx := context.Background()
	require.NoError(t, runWith(ctx, cfg, d, slog.New(slog.DiscardHandler), &bytes.Buffer{}))
	require.Len(t, snapshot(d).referrals, 1)

	cw, err := primero.New(d.primero.URL(), primero.WithBasicAuth(demoCaseworker, demoCaseworkerPass))
	require.NoError(t, err)
	_, err = cw.Cases.Update(ctx, demoCaseID(childOutbound, "a"), map[string]any{"consent_for_services": false, "disclosure_other_orgs": false})
	require.NoError(t, err)

	var out bytes.Buffer
	require.NoError(t, runWith(ctx, cfg, d, slog.New(slog.DiscardHandler), &out))
	assert.Contains(t, out.String(), "Consent withdrawn on Primero case "+demoCaseID(childOutbound, "a")+", shared with progres/unhcr")
	assert.Len(t, snapshot(d).referrals, 1, "nothing more went to proGres")
	rec, fields := demoPersonalData()
	consenttest.AssertNoPersonalData(t, rec, fields, out.String())
}
