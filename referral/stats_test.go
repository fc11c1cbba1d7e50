package referral

import (
	"errors"
	"fmt"
	"testing"

	"github.com/casebridge/casebridge/consent"
	"github.com/stretchr/testify/assert"
)

func TestStatsDenyFailAdd(t *testing.T) {
	var a Stats
	a.Flow = "intake"
	a.Received = 3
	a.Deny([]consent.Reason{consent.ReasonConsentMissing, "other"})
	a.Deny(nil)
	a.Fail("803-23-PRTITV-0000001", "no_case", errors.New("boom"))

	b := Stats{Created: 2, Sent: 1}
	b.Deny([]consent.Reason{consent.ReasonConsentMissing})

	s := a.Add(b)
	assert.Equal(t, "intake", s.Flow)
	assert.Equal(t, 3, s.Received)
	assert.Equal(t, 2, s.Created)
	assert.Equal(t, 1, s.Sent)
	assert.Equal(t, map[consent.Reason]int{consent.ReasonConsentMissing: 2, "denied": 1}, s.Denied)
	assert.Equal(t, 3, s.DeniedTotal())
	assert.Equal(t, 1, s.Failed)
	assert.Len(t, s.Errors, 1)
	assert.Equal(t, 1, a.Denied[consent.ReasonConsentMissing], "Add does not change its operands")
	assert.Equal(t,
		"intake: received 3, created 2, updated 0, sent 1, decided 0, unchanged 0, denied 3 (consent_missing 2, denied 1), failed 1",
		s.String())
}

func TestStatsErrorsBounded(t *testing.T) {
	var s Stats
	for i := range MaxItemErrors + 10 {
		s.Fail(fmt.Sprint("k", i), "delivery", nil)
	}
	assert.Equal(t, MaxItemErrors+10, s.Failed)
	assert.Len(t, s.Errors, MaxItemErrors)
	s = s.Add(s)
	assert.Len(t, s.Errors, MaxItemErrors, "Add keeps the bound")
	assert.Equal(t, 2*(MaxItemErrors+10), s.Failed)
}
