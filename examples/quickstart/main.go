// Command quickstart is the first program of the README: it starts the fake
// Primero server with synthetic cases, lists them with the primero client,
// maps each one to three fields with a mapping spec, and upserts the result
// into a SQLite table in quickstart.db (in the current directory). Running
// it again changes nothing: the upsert is keyed on case_id.
//
//	go run ./examples/quickstart
//
// The README shows this file from "package main" on; a test keeps the two
// identical.
package main

import (
	"context"
	"fmt"
	"log"

	"github.com/casebridge/casebridge/mapping"
	"github.com/casebridge/casebridge/primero"
	"github.com/casebridge/casebridge/primero/primerotest"
	"github.com/casebridge/casebridge/sqlsink"
)

// spec keeps three fields of each case: no name, no date of birth.
const spec = `
name: quickstart
version: "1"
rules:
  - {target: case_id, source: case_id, required: true}
  - {target: sex, source: sex}
  - {target: age, source: age, type: int}
`

var table = sqlsink.Table{Name: "cases", Key: []string{"case_id"}, Columns: []sqlsink.Column{
	{Name: "case_id", Type: sqlsink.Text}, {Name: "sex", Type: sqlsink.Text}, {Name: "age", Type: sqlsink.Integer}}}

func main() {
	ctx := context.Background()
	fake := must(primerotest.Start()) // a fake Primero v2 server on loopback
	defer fake.Close()
	fake.AddSyntheticCases(25)

	client := must(primero.New(fake.URL(), primero.WithBasicAuth(primerotest.DefaultUser, primerotest.DefaultPassword)))
	m := must(mapping.Compile(must(mapping.ParseYAML("quickstart.yaml", []byte(spec)))))
	db := must(sqlsink.Open(ctx, "quickstart.db")) // SQLite, embedded: no server
	defer db.Close()
	must(db.EnsureTable(ctx, table))

	// Every page, lazily: cases → records → mapped rows → upserted in batches.
	rows := m.Stream(ctx, primero.Records(client.Cases.All(ctx, nil)))
	st := must(db.Upsert(ctx, table, rows))
	fmt.Printf("%d cases: %d inserted, %d updated, %d unchanged\n", st.Rows, st.Inserted, st.Updated, st.Skipped)
}

// must stops the program on an error.
func must[T any](v T, err error) T {
	if err != nil {
		log.Fatal(err)
	}
	return v
}
