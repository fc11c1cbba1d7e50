package referral

import (
	"context"
	"strings"
	"testing"

	"github.com/casebridge/casebridge/mapping"
)

// FuzzDecisionSpec feeds the decision spec what proGres may send as the
// rejection reason's label and comment (outside input): it never panics,
// an accepted decision carries no reason, a rejection always carries one,
// and an error never quotes the input.
func FuzzDecisionSpec(f *testing.F) {
	f.Add("rejected", "Individual Not Found", "Synthetic comment")
	f.Add("accepted", "", "")
	f.Add("rejected", "", "")
	f.Add("maybe", "x", "y")
	f.Add("rejected", "\x00\xff", strings.Repeat("é", 300))
	m, err := Spec(SpecDecisionIn)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, decision, reason, comment string) {
		out, err := m.Apply(context.Background(), mapping.Record{"decision": decision, "reason": nilIfEmpty(reason), "comment": nilIfEmpty(comment)})
		if err != nil {
			if decision == "accepted" || decision == "rejected" {
				t.Fatalf("a known decision was refused: %v", err)
			}
			if len(reason) > 3 && strings.Contains(err.Error(), reason) || len(comment) > 3 && strings.Contains(err.Error(), comment) {
				t.Fatal("the error quotes the input")
			}
			return
		}
		r, has := out["rejected_reason"].(string)
		switch out["status"] {
		case "accepted":
			if has {
				t.Fatal("an acceptance carries a rejection reason")
			}
		case "rejected":
			if !has || r == "" {
				t.Fatal("a rejection without a reason")
			}
		default:
			t.Fatalf("status %v", out["status"])
		}
	})
}
