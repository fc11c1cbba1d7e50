package sqlsink_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/casebridge/casebridge/consent"
	"github.com/casebridge/casebridge/sqlsink"
)

// A referral flow polled twice over the same referral: the link stored by
// the first run stops the second from creating a second case, and the
// cursor moves only with the work it covers.
func ExampleNewMemoryState() {
	ctx := context.Background()
	st := sqlsink.NewMemoryState()
	referral := consent.RecordRef{System: "progres", ID: "ref-0001"}

	for run := 1; run <= 2; run++ {
		err := st.Update(ctx, "progres-to-primero", func(tx sqlsink.StateTx) error {
			caseID, ok, err := tx.LinkTo(ctx, "case", referral, "primero")
			if err != nil {
				return err
			}
			if ok {
				fmt.Printf("run %d: %s is already case %s\n", run, referral.ID, caseID)
				return nil
			}
			caseID = "case-0001" // as returned by Primero when the case is created
			fmt.Printf("run %d: created case %s\n", run, caseID)
			link := sqlsink.Link{Kind: "case", From: referral, To: consent.RecordRef{System: "primero", ID: caseID}}
			if err := tx.PutLink(ctx, link); err != nil {
				return err
			}
			return tx.SetCursor(ctx, "2024-05-01T10:00:00.000Z")
		})
		if err != nil {
			fmt.Println(err)
		}
	}
	cursor, _, _ := st.Cursor(ctx, "progres-to-primero")
	fmt.Println("cursor:", cursor)
	// Output:
	// run 1: created case case-0001
	// run 2: ref-0001 is already case case-0001
	// cursor: 2024-05-01T10:00:00.000Z
}

// The state store in SQLite: a run lock that a second runner cannot take,
// and a consent audit trail that continues where the last run stopped.
func ExampleNewDBState() {
	ctx := context.Background()
	db, err := sqlsink.Open(ctx, ":memory:")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer db.Close()
	st, err := sqlsink.NewDBState(db)
	if err != nil {
		fmt.Println(err)
		return
	}

	lock, err := st.Lock(ctx, "progres-to-primero")
	if err != nil {
		fmt.Println(err)
		return
	}
	_, err = st.Lock(ctx, "progres-to-primero")
	var held *sqlsink.LockHeldError
	fmt.Println("second runner refused:", errors.Is(err, sqlsink.ErrLockHeld), errors.As(err, &held) && held.Flow == "progres-to-primero")

	// Two runs, each resuming the trail stored by the one before.
	at := func() time.Time { return time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC) }
	for _, id := range []string{"case-0001", "case-0002"} {
		trail, err := sqlsink.ResumeTrail(ctx, st.AuditLog("progres-to-primero"), consent.WithClock(at))
		if err != nil {
			fmt.Println(err)
			return
		}
		e, err := trail.Append(ctx, consent.Event{
			Kind: consent.KindDecision, Flow: "progres-to-primero",
			Record:   consent.RecordRef{System: "primero", ID: id},
			Decision: consent.DecisionAllow, Reasons: []string{"consent_given"},
		})
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println("audit event", e.Seq, "for", e.Record.ID)
	}
	s, err := sqlsink.VerifyAudit(ctx, st.AuditLog("progres-to-primero"))
	fmt.Println("trail verifies:", err == nil, s.Events, "events")
	fmt.Println("release:", lock.Release())
	// Output:
	// second runner refused: true true
	// audit event 1 for case-0001
	// audit event 2 for case-0002
	// trail verifies: true 2 events
	// release: <nil>
}
