package referral_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/casebridge/casebridge/referral"
	"github.com/casebridge/casebridge/sqlsink"
)

// greeter is a toy flow: it "receives" two items and creates one.
type greeter struct{}

func (greeter) Name() string { return "demo" }

func (greeter) RunOnce(ctx context.Context) (referral.Stats, error) {
	return referral.Stats{Received: 2, Created: 1, Unchanged: 1}, nil
}

// A Runner runs flows under their locks and reports what each run did.
func ExampleRunner() {
	r := &referral.Runner{
		State: sqlsink.NewMemoryState(),
		Flows: []referral.Flow{greeter{}},
		Report: func(s referral.Stats, err error) {
			fmt.Println(s)
		},
	}
	if err := r.Run(context.Background()); err != nil {
		fmt.Println(err)
	}
	// Output:
	// demo: received 2, created 1, updated 0, sent 0, decided 0, unchanged 1, denied 0, failed 0
}

// A decision that arrives twice is recognised by ErrUnchanged; one that
// contradicts the state machine is an error.
func ExampleStatus_Next() {
	s := referral.Accepted
	_, err := s.Next(referral.Accepted)
	fmt.Println(errors.Is(err, referral.ErrUnchanged))
	_, err = s.Next(referral.Rejected)
	fmt.Println(err)
	next, _ := s.Next(referral.Done)
	fmt.Println(next)
	// Output:
	// true
	// referral: cannot move from accepted to rejected
	// done
}
