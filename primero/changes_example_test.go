package primero_test

import (
	"context"
	"fmt"
	"log"

	"github.com/casebridge/casebridge/primero"
	"github.com/casebridge/casebridge/primero/primerotest"
)

// Read what changed since the last run, and keep the watermark for the
// next one. A real program stores f.Watermark().String() as its cursor
// (sqlsink.State) only once the cases are committed.
func ExampleCasesService_Changes() {
	s := startFake(25)
	defer s.Close()
	c, err := primero.New(s.URL(), primero.WithBasicAuth(primerotest.DefaultUser, primerotest.DefaultPassword))
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()

	f := c.Cases.Changes(&primero.ChangesOptions{Per: 10}) // zero Since: every case
	n := 0
	for _, err := range f.All(ctx) {
		if err != nil {
			log.Fatal(err)
		}
		n++ // write the case somewhere idempotent
	}
	cursor := f.Watermark().String()
	fmt.Println(n, "cases, total", f.Total())

	// Next run: start from the stored cursor.
	since, err := primero.ParseWatermark(cursor)
	if err != nil {
		log.Fatal(err)
	}
	next := c.Cases.Changes(&primero.ChangesOptions{Since: since})
	_ = next // range over next.All(ctx) as above
	fmt.Println("resumes at the newest timestamp read:", since.At.Equal(f.Watermark().At))
	// Output:
	// 25 cases, total 25
	// resumes at the newest timestamp read: true
}
