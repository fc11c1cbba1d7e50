package sqlsink

import (
	"context"
	"errors"
	"testing"

	"github.com/casebridge/casebridge/mapping"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A missing table is created with the declared columns in order, the key
// and the indexes; a second call changes nothing.
func TestEnsureTableCreates(t *testing.T) {
	forEachDialect(t, func(t *testing.T, db *DB) {
		tbl := casesTable()
		tbl.Indexes = []Index{{Columns: []string{"status", "age"}}, {Name: "cases_name_uq", Columns: []string{"name"}, Unique: true}}
		m := ensure(t, db, tbl)
		assert.True(t, m.Created)

		cols, key := columnsOf(t, db, "cases")
		assert.Equal(t, []string{"case_id", "name", "age", "score", "status"}, columnNames(cols))
		assert.Equal(t, []string{"case_id"}, key)
		for i, c := range cols {
			assert.Equal(t, sqlType(db.Dialect(), tbl.Columns[i].Type), c.typ, c.name)
		}

		// The unique index exists: a second row with the same name fails.
		upsert(t, db, tbl, []mapping.Record{{"case_id": "child-0001", "name": "Test Name 1"}})
		_, err := db.Upsert(context.Background(), tbl, records(mapping.Record{"case_id": "child-0002", "name": "Test Name 1"}))
		assert.Error(t, err, "unique index on name must refuse a duplicate name")

		m = ensure(t, db, tbl)
		assert.Equal(t, Migration{}, m, "a second EnsureTable has nothing to do")
	})
}

// New declared columns are added; rows already there keep their values and
// get the new column's Default (or NULL).
func TestEnsureTableAddsColumnsKeepingData(t *testing.T) {
	forEachDialect(t, func(t *testing.T, db *DB) {
		tbl := casesTable()
		ensure(t, db, tbl)
		upsert(t, db, tbl, seq(1, 4))
		before := dump(t, db, tbl)

		tbl.Columns = append(tbl.Columns,
			Column{Name: "region", Type: Text},
			Column{Name: "priority", Type: Integer, NotNull: true, Default: 3},
		)
		m := ensure(t, db, tbl)
		assert.Equal(t, []string{"region", "priority"}, m.Added)
		assert.False(t, m.Created)

		after := dump(t, db, tbl)
		require.Len(t, after, 3)
		for i, row := range after {
			for k, v := range before[i] {
				assert.Equal(t, v, row[k], "existing column %s kept", k)
			}
			assert.Nil(t, row["region"])
			assert.Equal(t, int64(3), row["priority"])
		}
	})
}

// A column removed from the declaration is refused, naming table and
// column; nothing changes. AllowDropColumns drops it and keeps the rows.
func TestEnsureTableRefusesDroppedColumn(t *testing.T) {
	forEachDialect(t, func(t *testing.T, db *DB) {
		tbl := casesTable()
		ensure(t, db, tbl)
		upsert(t, db, tbl, seq(1, 3))

		smaller := casesTable()
		smaller.Columns = smaller.Columns[:3] // no score, no status
		_, err := db.EnsureTable(context.Background(), smaller)
		require.ErrorIs(t, err, ErrDestructiveChange)
		var sc *SchemaChangeError
		require.ErrorAs(t, err, &sc)
		assert.Equal(t, "cases", sc.Table)
		assert.Equal(t, "score", sc.Column)
		assert.Contains(t, err.Error(), `"cases"`)
		assert.Contains(t, err.Error(), `"score"`)
		assert.Contains(t, err.Error(), `"status"`, "every dropped column is reported")
		assert.Contains(t, err.Error(), "AllowDropColumns")
		cols, _ := columnsOf(t, db, "cases")
		assert.Len(t, cols, 5, "a refused change leaves the table as it was")

		m, err := db.EnsureTable(context.Background(), smaller, AllowDropColumns())
		require.NoError(t, err)
		assert.Equal(t, []string{"score", "status"}, m.Dropped)
		rows := dump(t, db, smaller)
		require.Len(t, rows, 2)
		assert.Equal(t, mapping.Record{"case_id": "child-0001", "name": "Test Name 1", "age": int64(1)}, rows[0])
	})
}

// A changed type or key is refused; AllowRecreate drops and recreates the
// table, empty.
func TestEnsureTableRefusesTypeAndKeyChange(t *testing.T) {
	forEachDialect(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		tbl := casesTable()
		ensure(t, db, tbl)
		upsert(t, db, tbl, seq(1, 3))

		retyped := casesTable()
		retyped.Columns[2].Type = Text // age: Integer -> Text
		_, err := db.EnsureTable(ctx, retyped)
		require.ErrorIs(t, err, ErrDestructiveChange)
		var sc *SchemaChangeError
		require.ErrorAs(t, err, &sc)
		assert.Equal(t, "age", sc.Column)
		assert.Equal(t, changeType, sc.Change)
		assert.Contains(t, err.Error(), `table "cases": column "age"`)
		assert.Contains(t, err.Error(), "AllowRecreate")

		rekeyed := casesTable()
		rekeyed.Key = []string{"case_id", "name"}
		_, err = db.EnsureTable(ctx, rekeyed)
		require.ErrorIs(t, err, ErrDestructiveChange)
		require.ErrorAs(t, err, &sc)
		assert.Equal(t, changeKey, sc.Change)
		assert.Contains(t, err.Error(), `("case_id")`)
		assert.Contains(t, err.Error(), `("case_id", "name")`)

		// AllowDropColumns is not enough for a type change.
		_, err = db.EnsureTable(ctx, retyped, AllowDropColumns())
		require.ErrorIs(t, err, ErrDestructiveChange)
		assert.Len(t, dump(t, db, tbl), 2, "refused changes keep the rows")

		m, err := db.EnsureTable(ctx, retyped, AllowRecreate())
		require.NoError(t, err)
		assert.True(t, m.Recreated)
		cols, _ := columnsOf(t, db, "cases")
		assert.Equal(t, sqlType(db.Dialect(), Text), cols[2].typ)
		assert.Empty(t, dump(t, db, retyped), "a recreated table is empty")
	})
}

// A new NotNull column without a Default cannot be added to existing rows.
func TestEnsureTableRefusesNotNullColumnWithoutDefault(t *testing.T) {
	forEachDialect(t, func(t *testing.T, db *DB) {
		tbl := casesTable()
		ensure(t, db, tbl)
		tbl.Columns = append(tbl.Columns, Column{Name: "consent", Type: Bool, NotNull: true})
		_, err := db.EnsureTable(context.Background(), tbl)
		require.Error(t, err)
		assert.Contains(t, err.Error(), `"consent"`)
		assert.Contains(t, err.Error(), "Default")
		cols, _ := columnsOf(t, db, "cases")
		assert.Len(t, cols, 5)
	})
}

// An invalid declaration is refused before touching the database.
func TestEnsureTableValidates(t *testing.T) {
	db := testSQLite(t)
	_, err := db.EnsureTable(context.Background(), Table{Name: "x", Columns: []Column{{Name: "a", Type: Text}}})
	var de *DeclarationError
	require.True(t, errors.As(err, &de))
	assert.Contains(t, err.Error(), "Key")
	cols, _ := columnsOf(t, db, "x")
	assert.Empty(t, cols)
}

// Names with quotes, spaces, reserved words and mixed case work as table,
// column, key and index names (pitfall 37).
func TestEnsureTableQuotesIdentifiers(t *testing.T) {
	forEachDialect(t, func(t *testing.T, db *DB) {
		tbl := Table{
			Name: `select "order"; drop`,
			Columns: []Column{
				{Name: "from", Type: Text},
				{Name: `it's "x"`, Type: Integer, Default: 7},
				{Name: "Mixed Case", Type: Text},
			},
			Key:     []string{"from"},
			Indexes: []Index{{Columns: []string{"Mixed Case"}}},
		}
		ensure(t, db, tbl)
		st := upsert(t, db, tbl, []mapping.Record{
			{"from": "a'b", `it's "x"`: 1, "Mixed Case": "M"},
			{"from": "c", "Mixed Case": "N"},
		})
		assert.Equal(t, int64(2), st.Inserted)
		st = upsert(t, db, tbl, []mapping.Record{{"from": "a'b", `it's "x"`: 2, "Mixed Case": "M"}})
		assert.Equal(t, int64(1), st.Updated)
		assert.Equal(t, []mapping.Record{
			{"from": "a'b", `it's "x"`: int64(2), "Mixed Case": "M"},
			{"from": "c", `it's "x"`: int64(7), "Mixed Case": "N"},
		}, dump(t, db, tbl))

		tbl.Columns = append(tbl.Columns, Column{Name: "where", Type: Bool})
		m := ensure(t, db, tbl)
		assert.Equal(t, []string{"where"}, m.Added)
	})
}
