package sqlsink_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/casebridge/casebridge/mapping"
	"github.com/casebridge/casebridge/sqlsink"
)

// caseRows is a synthetic record source, as a client's All would give.
func caseRows(recs ...mapping.Record) func(func(mapping.Record, error) bool) {
	return func(yield func(mapping.Record, error) bool) {
		for _, r := range recs {
			if !yield(r, nil) {
				return
			}
		}
	}
}

// Declare a table, create it, load records and load them again.
func Example() {
	ctx := context.Background()
	db, err := sqlsink.Open(ctx, ":memory:") // or a file path, or "postgres://…"
	if err != nil {
		panic(err)
	}
	defer func() { _ = db.Close() }()

	cases := sqlsink.Table{
		Name: "cases",
		Columns: []sqlsink.Column{
			{Name: "case_id", Type: sqlsink.Text},
			{Name: "age", Type: sqlsink.Integer},
			{Name: "registered", Type: sqlsink.Date},
			{Name: "status", Type: sqlsink.Text, NotNull: true, Default: "open"},
		},
		Key: []string{"case_id"},
	}
	if _, err := db.EnsureTable(ctx, cases); err != nil {
		panic(err)
	}

	first := caseRows(
		mapping.Record{"case_id": "child-0001", "age": 9.0, "registered": "2024-01-15"},
		mapping.Record{"case_id": "child-0002", "age": 12.0, "registered": "2024-02-01", "status": "closed"},
	)
	st, err := db.Upsert(ctx, cases, first)
	if err != nil {
		panic(err)
	}
	fmt.Printf("first load: inserted %d, updated %d, skipped %d\n", st.Inserted, st.Updated, st.Skipped)

	again := caseRows(
		mapping.Record{"case_id": "child-0001", "age": 10.0, "registered": "2024-01-15"},
		mapping.Record{"case_id": "child-0002", "age": 12.0, "registered": "2024-02-01", "status": "closed"},
		mapping.Record{"case_id": "child-0003", "age": 4.0, "registered": "2024-03-09"},
	)
	st, err = db.Upsert(ctx, cases, again)
	if err != nil {
		panic(err)
	}
	fmt.Printf("reload: inserted %d, updated %d, skipped %d\n", st.Inserted, st.Updated, st.Skipped)

	for row, err := range db.Query(ctx, `SELECT case_id, age, registered, status FROM cases ORDER BY case_id`) {
		if err != nil {
			panic(err)
		}
		fmt.Println(row["case_id"], row["age"], row["registered"].(time.Time).Format(time.DateOnly), row["status"])
	}
	// Output:
	// first load: inserted 2, updated 0, skipped 0
	// reload: inserted 1, updated 1, skipped 1
	// child-0001 10 2024-01-15 open
	// child-0002 12 2024-02-01 closed
	// child-0003 4 2024-03-09 open
}

// A destructive change is refused unless explicitly allowed.
func ExampleDB_EnsureTable() {
	ctx := context.Background()
	db, err := sqlsink.Open(ctx, ":memory:")
	if err != nil {
		panic(err)
	}
	defer func() { _ = db.Close() }()

	v1 := sqlsink.Table{
		Name: "links",
		Columns: []sqlsink.Column{
			{Name: "primero_id", Type: sqlsink.Text},
			{Name: "oscar_id", Type: sqlsink.Integer},
		},
		Key: []string{"primero_id"},
	}
	m, _ := db.EnsureTable(ctx, v1)
	fmt.Println("created:", m.Created)

	v2 := v1
	v2.Columns = append(v2.Columns[:1:1], sqlsink.Column{Name: "oscar_id", Type: sqlsink.Text}, sqlsink.Column{Name: "note", Type: sqlsink.Text})
	_, err = db.EnsureTable(ctx, v2)
	fmt.Println(errors.Is(err, sqlsink.ErrDestructiveChange))
	fmt.Println(err)

	v3 := v1
	v3.Columns = append(v3.Columns[:2:2], sqlsink.Column{Name: "note", Type: sqlsink.Text})
	m, _ = db.EnsureTable(ctx, v3)
	fmt.Println("added:", m.Added)
	// Output:
	// created: true
	// true
	// sqlsink: table "links": column "oscar_id" has type INTEGER in the database, which a column declared Text cannot use; declare a compatible type, or change the table, which would rewrite or lose data (EnsureTable with AllowRecreate drops and recreates the table, empty)
	// added: [note]
}

// Location tells a person where the data is, never with a password.
func ExampleDB_Location() {
	db, err := sqlsink.Open(context.Background(), ":memory:")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer db.Close()
	fmt.Println(db.Location())
	// Output: an in-memory SQLite database
}

// Gather rows a chunk at a time and write each chunk with a Batch, then
// commit something of your own (here a cursor) after it: what a sync
// resumable chunk by chunk does.
func ExampleBatch() {
	ctx := context.Background()
	db, err := sqlsink.Open(ctx, ":memory:")
	if err != nil {
		panic(err)
	}
	defer func() { _ = db.Close() }()
	cases := sqlsink.Table{
		Name:    "cases",
		Columns: []sqlsink.Column{{Name: "case_id", Type: sqlsink.Text}, {Name: "age", Type: sqlsink.Integer}},
		Key:     []string{"case_id"},
	}
	if _, err := db.EnsureTable(ctx, cases); err != nil {
		panic(err)
	}
	b, err := db.NewBatch(ctx, cases)
	if err != nil {
		panic(err)
	}
	chunks := [][]mapping.Record{
		{{"case_id": "child-0001", "age": 9}, {"case_id": "child-0002", "age": 12}},
		{{"case_id": "child-0001", "age": 10}, {"case_id": "child-0003", "age": 4}},
	}
	for i, chunk := range chunks {
		for _, rec := range chunk {
			if err := b.Add(rec); err != nil {
				panic(err) // a *sqlsink.RowError names the column
			}
		}
		st, err := b.Write(ctx)
		if err != nil {
			panic(err)
		}
		fmt.Printf("chunk %d: inserted %d, updated %d; now store the cursor after it\n", i+1, st.Inserted, st.Updated)
	}
	// Output:
	// chunk 1: inserted 2, updated 0; now store the cursor after it
	// chunk 2: inserted 1, updated 1; now store the cursor after it
}
