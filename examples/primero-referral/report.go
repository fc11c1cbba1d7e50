package main

import (
	"fmt"
	"io"

	"github.com/casebridge/casebridge/consent"
	"github.com/casebridge/casebridge/examples/internal/cliutil"
	"github.com/casebridge/casebridge/primero"
	"github.com/casebridge/casebridge/sqlsink"
)

// The bridge reports in sentences a caseworker's manager can read:
// where its state is, which cases it looks at, what each pass did, and
// why cases were not referred, in words with the reason code beside them.
// It names cases by id only, never by anything personal.

// caseSelection returns the filters that choose the cases and the same
// choice in words.
func caseSelection(location string) ([]primero.Filter, string) {
	filters := []primero.Filter{primero.Status("open"), primero.AgeBetween(0, 17), primero.LocatedIn(location)}
	words := fmt.Sprintf("open cases of children aged 0 to 17, in location %s or any location inside it", location)
	return filters, words
}

// describeState says where the state database is, without a password.
func describeState(db *sqlsink.DB, temporary bool) string {
	if temporary {
		return db.Location() + ", a temporary one removed when the program ends (give -db to keep it)"
	}
	return db.Location()
}

// printPass reports one pass.
func printPass(w io.Writer, pass int, st passStats) {
	fmt.Fprintf(w, "Pass %d: %d cases checked: %d referred now, %d already referred, %d not allowed by the agreement, %d failed.\n",
		pass, st.seen, st.referred, st.already, st.denied, st.failed)
	if st.recovered > 0 {
		fmt.Fprintf(w, "  %d referrals were found in Primero with no record of their delivery (an earlier run stopped, or a caseworker referred by hand): recorded now, not sent again.\n", st.recovered)
	}
	if st.stale > 0 {
		fmt.Fprintf(w, "  %d stored links pointed at referrals this Primero does not have (it was reset or restored): dropped, and the cases checked again.\n", st.stale)
	}
	if st.denied > 0 {
		fmt.Fprintln(w, "  Not referred, by reason (a case can have several):")
		for _, r := range cliutil.ByCount(st.reasons) {
			fmt.Fprintf(w, "    %d  %s (%s)\n", st.reasons[r], r.Describe(), r)
		}
	}
	if st.failed > 0 {
		fmt.Fprintln(w, "  Failed, by error (Primero refused these cases; they are tried again next run):")
		for _, code := range cliutil.ByCount(st.failures) {
			fmt.Fprintf(w, "    %d  %s\n", st.failures[code], code)
		}
	}
}

// describeAgreement names the policy and what it is used for. Account
// names stay out of the report: they name staff.
func describeAgreement(p *consent.Policy) string {
	return fmt.Sprintf("Each case is checked against the sharing agreement %s (version %s) before it is referred, for %s, to the provider's account given by -recipient.",
		p.ID(), p.Version(), service)
}
