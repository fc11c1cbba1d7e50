package sqlsink

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"testing"

	"github.com/casebridge/casebridge/mapping"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A first load inserts every row, in batches, with exact stats, and the
// table holds exactly the records.
func TestUpsertInserts(t *testing.T) {
	forEachDialect(t, func(t *testing.T, db *DB) {
		tbl := casesTable()
		ensure(t, db, tbl)
		st := upsert(t, db, tbl, seq(0, 25), BatchSize(10))
		assert.Equal(t, Stats{Rows: 25, Inserted: 25, Batches: 3, Duration: st.Duration}, st)
		assert.Positive(t, st.Duration)

		rows := dump(t, db, tbl)
		require.Len(t, rows, 25)
		for i, row := range rows {
			assert.Equal(t, caseRecord(i), row)
		}
	})
}

// Reloading changed and unchanged rows: changed ones are updated, equal
// ones skipped (left untouched), new ones inserted.
func TestUpsertUpdatesSkipsAndInsertsMixed(t *testing.T) {
	forEachDialect(t, func(t *testing.T, db *DB) {
		tbl := casesTable()
		ensure(t, db, tbl)
		upsert(t, db, tbl, seq(0, 10))

		st := upsert(t, db, tbl, seq(0, 10))
		assert.Equal(t, Stats{Rows: 10, Skipped: 10, Batches: 1, Duration: st.Duration}, st, "identical reload")

		var batch []mapping.Record
		for i := range 15 {
			r := caseRecord(i)
			if i%2 == 0 && i < 10 {
				r["score"] = 100.5 // 0, 2, 4, 6, 8 change
			}
			batch = append(batch, r) // 10..14 are new
		}
		st = upsert(t, db, tbl, batch, BatchSize(4))
		assert.Equal(t, Stats{Rows: 15, Inserted: 5, Updated: 5, Skipped: 5, Batches: 4, Duration: st.Duration}, st)

		rows := dump(t, db, tbl)
		require.Len(t, rows, 15)
		for i, row := range rows {
			assert.Equal(t, batch[i], row)
		}
	})
}

// A first load into an empty table COPYs straight in (PostgreSQL) until a
// batch meets a key an earlier batch wrote; that batch and the rest are
// merged, so the counts and the last-wins values are as for any upsert.
func TestUpsertFirstLoadWithKeysRepeatedAcrossBatches(t *testing.T) {
	forEachDialect(t, func(t *testing.T, db *DB) {
		tbl := casesTable()
		ensure(t, db, tbl)
		recs := seq(0, 10) // batch 1: new keys, copied straight in
		for i := 5; i < 15; i++ {
			r := caseRecord(i)
			if i < 10 {
				r["score"] = 100.5 // batch 2 changes 5..9 and adds 10..14
			}
			recs = append(recs, r)
		}
		recs = append(recs, seq(20, 30)...) // batch 3: new keys again, merged
		st := upsert(t, db, tbl, recs, BatchSize(10))
		assert.Equal(t, Stats{Rows: 30, Inserted: 25, Updated: 5, Batches: 3, Duration: st.Duration}, st)

		rows := dump(t, db, tbl)
		require.Len(t, rows, 25)
		for _, row := range rows {
			var i int
			_, err := fmt.Sscanf(row["case_id"].(string), "child-%d", &i)
			require.NoError(t, err)
			want := caseRecord(i)
			if i >= 5 && i < 10 {
				want["score"] = 100.5
			}
			assert.Equal(t, want, row)
		}
	})
}

// Values go to the column their field names, whatever the record's key
// order or missing fields (pitfall 36).
func TestUpsertTakesColumnsByName(t *testing.T) {
	forEachDialect(t, func(t *testing.T, db *DB) {
		tbl := casesTable()
		ensure(t, db, tbl)
		upsert(t, db, tbl, []mapping.Record{
			{"score": 1.5, "case_id": "child-0001", "age": 4},
			{"age": 9, "name": "Test Name 2", "case_id": "child-0002"},
		})
		assert.Equal(t, []mapping.Record{
			{"case_id": "child-0001", "name": nil, "age": int64(4), "score": 1.5, "status": "open"},
			{"case_id": "child-0002", "name": "Test Name 2", "age": int64(9), "score": nil, "status": "open"},
		}, dump(t, db, tbl))
	})
}

// Records repeating a key within a batch collapse to the last one instead
// of failing the statement; across batches the later one updates.
func TestUpsertCollapsesDuplicateKeys(t *testing.T) {
	forEachDialect(t, func(t *testing.T, db *DB) {
		tbl := casesTable()
		ensure(t, db, tbl)
		a1, b1, a2, a3 := caseRecord(1), caseRecord(2), caseRecord(1), caseRecord(1)
		a2["name"] = "Test Name 1b"
		a3["name"] = "Test Name 1c"
		st := upsert(t, db, tbl, []mapping.Record{a1, b1, a2, a3})
		assert.Equal(t, Stats{Rows: 4, Inserted: 2, Duplicates: 2, Batches: 1, Duration: st.Duration}, st)
		rows := dump(t, db, tbl)
		assert.Equal(t, []mapping.Record{a3, b1}, rows, "last record for a key wins")

		a4 := caseRecord(1)
		a4["name"] = "Test Name 1d"
		st = upsert(t, db, tbl, []mapping.Record{a3, b1, a4}, BatchSize(2))
		assert.Equal(t, Stats{Rows: 3, Updated: 1, Skipped: 2, Batches: 2, Duration: st.Duration}, st)
		assert.Equal(t, "Test Name 1d", dump(t, db, tbl)[0]["name"])
	})
}

// Absent and nil fields become the column's Default, else NULL; a NotNull
// column with neither is refused naming key and column.
func TestUpsertNullsAndDefaults(t *testing.T) {
	forEachDialect(t, func(t *testing.T, db *DB) {
		tbl := casesTable()
		tbl.Columns = append(tbl.Columns, Column{Name: "consent", Type: Bool, Default: false}, Column{Name: "owner", Type: Text, NotNull: true})
		ensure(t, db, tbl)
		upsert(t, db, tbl, []mapping.Record{
			{"case_id": "child-0001", "owner": "worker-1"},
			{"case_id": "child-0002", "owner": "worker-1", "name": nil, "status": nil, "consent": true},
		})
		assert.Equal(t, []mapping.Record{
			{"case_id": "child-0001", "name": nil, "age": nil, "score": nil, "status": "open", "consent": false, "owner": "worker-1"},
			{"case_id": "child-0002", "name": nil, "age": nil, "score": nil, "status": "open", "consent": true, "owner": "worker-1"},
		}, dump(t, db, tbl))

		// Updating with a missing field sets it back to NULL / default.
		upsert(t, db, tbl, []mapping.Record{{"case_id": "child-0002", "owner": "worker-2", "name": "Test Name 2"}})
		assert.Equal(t, mapping.Record{"case_id": "child-0002", "name": "Test Name 2", "age": nil, "score": nil,
			"status": "open", "consent": false, "owner": "worker-2"}, dump(t, db, tbl)[1])

		_, err := db.Upsert(context.Background(), tbl, records(mapping.Record{"case_id": "child-0003"}))
		var re *RowError
		require.ErrorAs(t, err, &re)
		assert.Equal(t, "owner", re.Column)
		assert.Equal(t, "case_id=child-0003", re.Key)
		assert.Len(t, dump(t, db, tbl), 2)
	})
}

// A value that does not convert fails with the row's key and the column,
// never the value; nothing of its batch is written.
func TestUpsertConversionErrorNamesKeyAndColumnNotValue(t *testing.T) {
	const secret = "Test Secret Value 42x"
	cases := []struct {
		name   string
		field  string
		value  any
		column string
	}{
		{"text into integer", "age", secret, "age"},
		{"fraction into integer", "age", 4.5, "age"},
		{"text into float", "score", secret, "score"},
		{"map into text", "name", map[string]any{"n": secret}, "name"},
		{"invalid utf8", "name", "\xff" + secret, "name"},
		{"NUL in text", "name", "a\x00" + secret, "name"},
	}
	forEachDialect(t, func(t *testing.T, db *DB) {
		tbl := casesTable()
		ensure(t, db, tbl)
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				bad := caseRecord(7)
				bad[tc.field] = tc.value
				_, err := db.Upsert(context.Background(), tbl, records(caseRecord(5), caseRecord(6), bad, caseRecord(8)))
				require.ErrorIs(t, err, ErrInvalidValue)
				var re *RowError
				require.ErrorAs(t, err, &re)
				assert.Equal(t, int64(3), re.Row)
				assert.Equal(t, "case_id=child-0007", re.Key)
				assert.Equal(t, tc.column, re.Column)
				msg := err.Error()
				assert.Contains(t, msg, "child-0007")
				assert.Contains(t, msg, `"`+tc.column+`"`)
				assert.NotContains(t, msg, secret, "the value must never appear in an error")
				assert.NotContains(t, msg, "42x")
				assert.Empty(t, dump(t, db, tbl), "rows before the bad one in its batch are not written")
			})
		}
	})
}

// A field the table does not declare is an error naming it, unless
// IgnoreUnknownFields drops it.
func TestUpsertUnknownFields(t *testing.T) {
	forEachDialect(t, func(t *testing.T, db *DB) {
		tbl := casesTable()
		ensure(t, db, tbl)
		rec := caseRecord(1)
		rec["nickname"] = "Test Nick"
		_, err := db.Upsert(context.Background(), tbl, records(rec))
		var re *RowError
		require.ErrorAs(t, err, &re)
		assert.Equal(t, "nickname", re.Column)
		assert.Equal(t, "case_id=child-0001", re.Key)
		assert.NotContains(t, err.Error(), "Test Nick")

		st, err := db.Upsert(context.Background(), tbl, records(rec), IgnoreUnknownFields())
		require.NoError(t, err)
		assert.Equal(t, int64(1), st.Inserted)
		assert.Equal(t, caseRecord(1), dump(t, db, tbl)[0])
	})
}

// A key column without a value is refused.
func TestUpsertRequiresKey(t *testing.T) {
	forEachDialect(t, func(t *testing.T, db *DB) {
		tbl := casesTable()
		ensure(t, db, tbl)
		_, err := db.Upsert(context.Background(), tbl, records(mapping.Record{"name": "Test Name 1"}))
		var re *RowError
		require.ErrorAs(t, err, &re)
		assert.Equal(t, "case_id", re.Column)
		assert.Equal(t, int64(1), re.Row)
	})
}

// failOn installs a trigger that makes the database itself refuse the row
// with the given case_id, as a constraint or a disk error would.
func failOn(t *testing.T, db *DB, caseID string) {
	t.Helper()
	ctx := context.Background()
	var stmts []string
	if db.Dialect() == Postgres {
		stmts = []string{
			`CREATE FUNCTION refuse_row() RETURNS trigger LANGUAGE plpgsql AS $$
			 BEGIN IF NEW.case_id = '` + caseID + `' THEN RAISE EXCEPTION 'refused by test trigger'; END IF; RETURN NEW; END $$`,
			`CREATE TRIGGER refuse BEFORE INSERT OR UPDATE ON cases FOR EACH ROW EXECUTE FUNCTION refuse_row()`,
		}
	} else {
		stmts = []string{
			`CREATE TRIGGER refuse_ins BEFORE INSERT ON cases WHEN NEW.case_id = '` + caseID + `'
			 BEGIN SELECT RAISE(ABORT, 'refused by test trigger'); END`,
			`CREATE TRIGGER refuse_upd BEFORE UPDATE ON cases WHEN NEW.case_id = '` + caseID + `'
			 BEGIN SELECT RAISE(ABORT, 'refused by test trigger'); END`,
		}
	}
	for _, s := range stmts {
		_, err := db.SQL().ExecContext(ctx, s)
		require.NoError(t, err)
	}
}

// A batch the database refuses is rolled back whole: the table is exactly
// as the earlier batches left it, and Stats count only those.
func TestUpsertRollsBackFailingBatch(t *testing.T) {
	forEachDialect(t, func(t *testing.T, db *DB) {
		tbl := casesTable()
		ensure(t, db, tbl)
		upsert(t, db, tbl, seq(0, 30)) // rows present before
		failOn(t, db, "child-0045")

		// Batch 1: updates 20..29 and inserts 30..39; batch 2: 40..49, fails
		// at 45 after 40..44 were written in its transaction.
		var recs []mapping.Record
		for i := 20; i < 60; i++ {
			r := caseRecord(i)
			r["status"] = "closed"
			recs = append(recs, r)
		}
		before := dump(t, db, tbl)
		st, err := db.Upsert(context.Background(), tbl, records(recs...), BatchSize(20))
		require.Error(t, err)
		assert.Contains(t, err.Error(), "batch 2")
		assert.Equal(t, Stats{Rows: 20, Inserted: 10, Updated: 10, Batches: 1, Duration: st.Duration}, st)

		after := dump(t, db, tbl)
		want := append([]mapping.Record{}, before...)
		for i := 20; i < 30; i++ {
			want[i] = recs[i-20]
		}
		want = append(want, recs[10:20]...) // 30..39 inserted by batch 1
		assert.Equal(t, want, after, "batch 2 left nothing behind")
	})
}

// An error from the record sequence stops the upsert: committed batches
// stay, the pending one is not written, and the error comes back as is.
func TestUpsertStopsOnSourceError(t *testing.T) {
	errSource := errors.New("source failed")
	forEachDialect(t, func(t *testing.T, db *DB) {
		tbl := casesTable()
		ensure(t, db, tbl)
		src := func(yield func(mapping.Record, error) bool) {
			for i := range 25 {
				if !yield(caseRecord(i), nil) {
					return
				}
			}
			if yield(nil, errSource) {
				t.Error("Upsert must stop reading at the error")
			}
		}
		st, err := db.Upsert(context.Background(), tbl, iter.Seq2[mapping.Record, error](src), BatchSize(10))
		require.ErrorIs(t, err, errSource)
		assert.Equal(t, Stats{Rows: 20, Inserted: 20, Batches: 2, Duration: st.Duration}, st)
		assert.Len(t, dump(t, db, tbl), 20)
	})
}

// A panic in the source reaches the caller only after the batch being
// written has finished: the connection goes back unused and the database
// stays usable.
func TestUpsertSourcePanicLeavesDatabaseUsable(t *testing.T) {
	forEachDialect(t, func(t *testing.T, db *DB) {
		tbl := casesTable()
		ensure(t, db, tbl)
		src := func(yield func(mapping.Record, error) bool) {
			for i := range 25 {
				if !yield(caseRecord(i), nil) {
					return
				}
			}
			panic("source broke")
		}
		require.PanicsWithValue(t, "source broke", func() {
			_, _ = db.Upsert(context.Background(), tbl, src, BatchSize(10))
		})
		if db.pool != nil {
			assert.Zero(t, db.pool.Stat().AcquiredConns(), "the upsert's connection was released")
		}
		assert.Len(t, dump(t, db, tbl), 20, "the two full batches committed")
		st := upsert(t, db, tbl, seq(20, 30))
		assert.Equal(t, int64(10), st.Inserted)
	})
}

// A cancelled context stops the upsert with the context's error. Whether
// the batch already handed to the database when the context ends commits
// is a race; either way Stats count exactly what the table holds, and the
// rows read after the cancellation are never written.
func TestUpsertHonoursContext(t *testing.T) {
	forEachDialect(t, func(t *testing.T, db *DB) {
		tbl := casesTable()
		ensure(t, db, tbl)
		ctx, cancel := context.WithCancel(context.Background())
		src := func(yield func(mapping.Record, error) bool) {
			for i := range 100 {
				if i == 15 {
					cancel()
				}
				if !yield(caseRecord(i), nil) {
					return
				}
			}
		}
		st, err := db.Upsert(ctx, tbl, src, BatchSize(10))
		require.ErrorIs(t, err, context.Canceled)
		assert.LessOrEqual(t, st.Batches, 1, "nothing after the cancellation is written")
		assert.Len(t, dump(t, db, tbl), int(st.Rows), "Stats count exactly the committed rows")
		assert.Equal(t, int64(10*st.Batches), st.Rows)
	})
}

func TestUpsertRejectsBadOptionsAndDeclarations(t *testing.T) {
	db := testSQLite(t)
	_, err := db.Upsert(context.Background(), casesTable(), records(), BatchSize(0))
	assert.ErrorContains(t, err, "BatchSize")
	_, err = db.Upsert(context.Background(), Table{Name: "x"}, records())
	var de *DeclarationError
	assert.ErrorAs(t, err, &de)
}

// A table whose columns are all key columns: existing keys are skipped.
func TestUpsertKeyOnlyTable(t *testing.T) {
	forEachDialect(t, func(t *testing.T, db *DB) {
		tbl := Table{Name: "seen", Columns: []Column{{Name: "system", Type: Text}, {Name: "id", Type: Integer}}, Key: []string{"system", "id"}}
		ensure(t, db, tbl)
		var recs []mapping.Record
		for i := range 5 {
			recs = append(recs, mapping.Record{"system": "primero", "id": i})
		}
		st := upsert(t, db, tbl, recs[:3])
		assert.Equal(t, int64(3), st.Inserted)
		st = upsert(t, db, tbl, recs)
		assert.Equal(t, Stats{Rows: 5, Inserted: 2, Skipped: 3, Batches: 1, Duration: st.Duration}, st)
	})
}

// Every portable type round-trips through Upsert and Query, and a reload
// of the same values is skipped on both dialects (their stored forms
// compare equal).
func TestUpsertAllTypesRoundTrip(t *testing.T) {
	forEachDialect(t, func(t *testing.T, db *DB) {
		tbl := typesTable()
		ensure(t, db, tbl)
		recs := typesRecords()
		st := upsert(t, db, tbl, recs)
		assert.Equal(t, int64(len(recs)), st.Inserted)
		st = upsert(t, db, tbl, recs)
		assert.Equal(t, int64(len(recs)), st.Skipped, "reloading the same values changes nothing")
		assert.Equal(t, typesWant(), dump(t, db, tbl))
	})
}

func ExampleDB_Upsert_errors() {
	ctx := context.Background()
	db, _ := Open(ctx, ":memory:")
	defer func() { _ = db.Close() }()
	tbl := Table{
		Name: "children",
		// case_id holds record ids, never personal data: errors may show it.
		Columns: []Column{{Name: "case_id", Type: Text, Identifier: true}, {Name: "age", Type: Integer}},
		Key:     []string{"case_id"},
	}
	_, _ = db.EnsureTable(ctx, tbl)
	_, err := db.Upsert(ctx, tbl, records(mapping.Record{"case_id": "child-0001", "age": "not a number"}))
	fmt.Println(err)
	// Output:
	// sqlsink: table "children": row 1 (case_id=child-0001): column "age" (Integer): text is not an integer
}

// Upsert reads each record before asking for the next one, so a producer
// may hand over one map refilled for every row (as a streaming producer
// that keeps no map per row does): every row is written as it was yielded.
func TestUpsertReadsEachRecordBeforeTheNext(t *testing.T) {
	forEachDialect(t, func(t *testing.T, db *DB) {
		tbl := casesTable()
		ensure(t, db, tbl)
		reused := mapping.Record{}
		rows := func(yield func(mapping.Record, error) bool) {
			for i := range 25 {
				clear(reused)
				for k, v := range caseRecord(i) {
					reused[k] = v
				}
				if !yield(reused, nil) {
					return
				}
			}
		}
		st, err := db.Upsert(context.Background(), tbl, rows, BatchSize(10))
		require.NoError(t, err)
		assert.Equal(t, int64(25), st.Inserted)
		got := dump(t, db, tbl)
		require.Len(t, got, 25)
		for i, row := range got {
			assert.Equal(t, caseRecord(i), row)
		}
	})
}
