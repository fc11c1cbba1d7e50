package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/casebridge/casebridge/consent/consenttest"
	"github.com/casebridge/casebridge/mapping"
	"github.com/casebridge/casebridge/primero/primerotest"
)

// TestRunRefersOnlyConsentedCasesOnce runs the job twice over the same fake
// and checks the fake's state: every consented child in the location has
// exactly one accepted referral, no other case has any, and nothing personal
// reached the output or the state database.
func TestRunRefersOnlyConsentedCasesOnce(t *testing.T) {
	fake := primerotest.NewServer(t)
	fake.AddSyntheticCases(60)
	dbPath := filepath.Join(t.TempDir(), "state.db")

	var out bytes.Buffer
	args := []string{"-url", fake.URL(), "-db", "sqlite:" + dbPath}
	require.NoError(t, run(context.Background(), &out, args))
	require.NoError(t, run(context.Background(), &out, args), "a second run must find every referral already made")

	consented, referred, lastReferred := 0, 0, ""
	for _, c := range fake.Cases() {
		refs := fake.Referrals(c["id"].(string))
		inScope := c["location_current"] != "XX02" && c["status"] == "open"
		ok := c["consent_for_services"] == true && c["disclosure_other_orgs"] == true
		if inScope && ok {
			consented++
			require.Len(t, refs, 1, "case %s", c["id"])
			assert.Equal(t, "accepted", refs[0]["status"])
			assert.Equal(t, primerotest.DefaultRecipient, refs[0]["transitioned_to"])
			referred++
			lastReferred = c["id"].(string)
			continue
		}
		assert.Empty(t, refs, "case %s must not be referred", c["id"])
	}
	require.Positive(t, consented)
	assert.Equal(t, consented, referred)
	assert.Contains(t, out.String(), "0 referred now, "+strconv.Itoa(consented)+" already referred")

	// The state database (links, lock, audit trail), read as raw bytes
	// with its write-ahead log, holds nothing personal.
	var stored []byte
	for _, f := range []string{dbPath, dbPath + "-wal"} {
		b, err := os.ReadFile(f)
		if !os.IsNotExist(err) {
			require.NoError(t, err)
		}
		stored = append(stored, b...)
	}
	assert.True(t, bytes.Contains(stored, []byte(lastReferred)), "the state holds the referred case ids")
	for _, c := range fake.Cases() {
		rec := mapping.Record(c)
		personal := []string{"name_first", "name_last", "date_of_birth", "other_agency_id", "telephone_current"}
		consenttest.AssertNoPersonalData(t, rec, personal, out.String(), string(stored))
	}
}
