package sqlsink

import (
	"encoding/json"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestConvertValueAccepts(t *testing.T) {
	ts := time.Date(2024, 3, 1, 8, 11, 12, 123456000, time.UTC)
	day := time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC)
	cases := []struct {
		typ      Type
		in       any
		pg, lite any
	}{
		{Text, "Test Name 1", "Test Name 1", "Test Name 1"},
		{Text, json.Number("12"), "12", "12"},
		{Text, int64(12), "12", "12"},
		{Text, 2.5, "2.5", "2.5"},
		{Integer, 7, int64(7), int64(7)},
		{Integer, uint64(7), int64(7), int64(7)},
		{Integer, 7.0, int64(7), int64(7)},
		{Integer, "-7", int64(-7), int64(-7)},
		{Integer, json.Number("1e3"), int64(1000), int64(1000)},
		{Float, 3, 3.0, 3.0},
		{Float, "2.25", 2.25, 2.25},
		{Float, float32(0.5), 0.5, 0.5},
		{Numeric, "12.50", "12.50", "12.50"},
		{Numeric, json.Number("-1e-3"), "-1e-3", "-1e-3"},
		{Numeric, 0.1, "0.1", "0.1"},
		{Bool, true, true, int64(1)},
		{Bool, "F", false, int64(0)},
		{Bool, 1, true, int64(1)},
		{Date, "2024-02-29", day, "2024-02-29"},
		{Date, "2024-02-29T23:00:00-05:00", day, "2024-02-29"},
		{Timestamp, "2024-03-01T10:11:12.123456789+02:00", ts, "2024-03-01 08:11:12.123456Z"},
		{Timestamp, "2024-03-01 08:11:12.123456Z", ts, "2024-03-01 08:11:12.123456Z"},
		{Timestamp, ts.In(time.FixedZone("X", 3600)), ts, "2024-03-01 08:11:12.123456Z"},
		{Timestamp, "2024-02-29", day, "2024-02-29 00:00:00.000000Z"},
		{JSON, map[string]any{"b": 1, "a": []any{"x"}}, `{"a":["x"],"b":1}`, `{"a":["x"],"b":1}`},
		{JSON, "plain", `"plain"`, `"plain"`},
		{JSON, json.RawMessage(`{ "a" : 1 }`), `{"a":1}`, `{"a":1}`},
		{Timestamp, "2024-03-01 15:11:12.123456+07", ts, "2024-03-01 08:11:12.123456Z"},
		{Timestamp, "2024-03-01T08:11:12.1234564Z", ts, "2024-03-01 08:11:12.123456Z"},
		{Numeric, "1e131071", "1e131071", "1e131071"},
		{UUID, "0B7C5A4E-2F1D-4C3B-9A8E-1D2C3B4A5F60", "0b7c5a4e-2f1d-4c3b-9a8e-1d2c3b4a5f60", "0b7c5a4e-2f1d-4c3b-9a8e-1d2c3b4a5f60"},
		{UUID, "urn:uuid:0b7c5a4e-2f1d-4c3b-9a8e-1d2c3b4a5f60", "0b7c5a4e-2f1d-4c3b-9a8e-1d2c3b4a5f60", "0b7c5a4e-2f1d-4c3b-9a8e-1d2c3b4a5f60"},
		{UUID, [16]byte{0: 0xab}, "ab000000-0000-0000-0000-000000000000", "ab000000-0000-0000-0000-000000000000"},
		{TextArray, []string{"a", "b"}, []string{"a", "b"}, `["a","b"]`},
		{TextArray, []any{"a"}, []string{"a"}, `["a"]`},
		{TextArray, []string{}, []string{}, `[]`},
	}
	for _, c := range cases {
		got, err := convertValue(c.typ, c.in, Postgres)
		require.NoError(t, err, "%s %#v", c.typ, c.in)
		assert.Equal(t, c.pg, got, "%s %#v on postgres", c.typ, c.in)
		got, err = convertValue(c.typ, c.in, SQLite)
		require.NoError(t, err, "%s %#v", c.typ, c.in)
		assert.Equal(t, c.lite, got, "%s %#v on sqlite", c.typ, c.in)
	}
}

// Refused values give a reason that never holds the value.
func TestConvertValueRefusesWithoutQuotingValue(t *testing.T) {
	const secret = "Secret Qx7"
	cases := []struct {
		typ Type
		in  any
	}{
		{Text, "\xff" + secret},
		{Text, secret + "\x00"},
		{Text, true},
		{Text, []any{secret}},
		{Integer, secret},
		{Integer, "4242.5"},
		{Integer, 4242.5},
		{Integer, uint64(math.MaxUint64)},
		{Integer, "42424242424242424242"},
		{Integer, 4.242e19},
		{Float, secret},
		{Float, math.NaN()},
		{Float, math.Inf(1)},
		{Float, "1e999"},
		{Numeric, secret},
		{Numeric, "4242,5"},
		{Bool, secret},
		{Bool, 2},
		{Date, secret},
		{Date, "2024-02-30"},
		{Date, time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)},
		{Timestamp, "2024-03-01T10:11:12"}, // no offset: ambiguous
		{Timestamp, 1709280000},
		{JSON, json.RawMessage(`{"a":` + secret)},
		{JSON, map[string]any{"n": math.NaN()}},
		{JSON, "a\x00b"},
		{Numeric, "1e131073"},
		{Numeric, "1e-16384"},
		{Numeric, "1e99999999999999999999"},
		{UUID, "Secret Qx7"},
		{UUID, "0b7c5a4e-2f1d-4c3b-9a8e-1d2c3b4a5fZZ"},
		{UUID, 4242},
		{TextArray, []any{"ok", nil}},
		{TextArray, []any{"ok", 4242}},
		{TextArray, []string{"\xff Secret Qx7"}},
		{TextArray, "Secret Qx7"},
		{Type(99), 1},
	}
	for _, c := range cases {
		for _, d := range []Dialect{Postgres, SQLite} {
			_, err := convertValue(c.typ, c.in, d)
			require.Error(t, err, "%s %#v", c.typ, c.in)
			assert.NotContains(t, err.Error(), "Qx7", "%s", c.typ)
			assert.NotContains(t, err.Error(), "4242", "%s", c.typ)
		}
	}
}

func TestTableValidate(t *testing.T) {
	bad := Table{
		Name: "",
		Columns: []Column{
			{Name: "id", Type: Text},
			{Name: "ID", Type: Text},
			{Name: "", Type: Integer},
			{Name: "n", Type: Type(0)},
			{Name: strings.Repeat("x", 64), Type: Text},
			{Name: "d", Type: Date, Default: "Qx7"},
		},
		Key:     []string{"missing", "id", "id"},
		Indexes: []Index{{Columns: nil}, {Columns: []string{"nope"}}},
	}
	err := bad.Validate()
	var de *DeclarationError
	require.ErrorAs(t, err, &de)
	for _, want := range []string{
		"Name: must not be empty",
		"Columns[1] (ID).Name: duplicate column name",
		"Columns[2].Name: must not be empty",
		"Columns[3] (n).Type: unknown type",
		"longer than 63 bytes",
		"Columns[5] (d).Default: does not convert to Date",
		"Key[0] (missing): is not a declared column",
		"Key[2] (id): is repeated",
		"Indexes[0].Columns: at least one column is required",
		"Indexes[1].Columns[0] (nope): is not a declared column",
	} {
		assert.Contains(t, err.Error(), want)
	}
	assert.NotContains(t, err.Error(), "Qx7", "the default's value is not quoted")

	require.NoError(t, casesTable().Validate())
	assert.ErrorContains(t, Table{Name: "t", Columns: []Column{{Name: "a", Type: Text}}}.Validate(), "Key: at least one key column")
}

func TestTypeString(t *testing.T) {
	assert.Equal(t, "Timestamp", Timestamp.String())
	assert.Equal(t, "Type(42)", Type(42).String())
}

func TestIndexNameFitsLimit(t *testing.T) {
	tbl := Table{Name: strings.Repeat("é", 30)}
	name := indexName(tbl, Index{Columns: []string{"a_long_column_name", "another"}})
	assert.LessOrEqual(t, len(name), maxIdentLen)
	assert.True(t, strings.HasSuffix(name, "_idx"))
	assert.Equal(t, name, indexName(tbl, Index{Columns: []string{"a_long_column_name", "another"}}), "stable")
	assert.Equal(t, "cases_status_idx", indexName(Table{Name: "cases"}, Index{Columns: []string{"status"}}))
	assert.Equal(t, "mine", indexName(Table{Name: "cases"}, Index{Name: "mine"}))
}

func TestDefaultLiteral(t *testing.T) {
	assert.Equal(t, `'it''s'`, defaultLiteral(Postgres, Column{Type: Text, Default: "it's"}))
	assert.Equal(t, `3`, defaultLiteral(SQLite, Column{Type: Integer, Default: 3}))
	assert.Equal(t, `TRUE`, defaultLiteral(Postgres, Column{Type: Bool, Default: true}))
	assert.Equal(t, `1`, defaultLiteral(SQLite, Column{Type: Bool, Default: true}))
	assert.Equal(t, `'2024-01-02'`, defaultLiteral(SQLite, Column{Type: Date, Default: "2024-01-02"}))
}

// Invalid UTF-8 inside a JSON value is refused, not replaced by U+FFFD.
func TestConvertJSONRefusesInvalidUTF8(t *testing.T) {
	for _, in := range []any{
		map[string]any{"a": "ok\xff"},
		[]any{"\xfe"},
		json.RawMessage("\"ok\xff\""),
		[]byte("{\"k\xff\":1}"),
		"x\xff",
	} {
		for _, d := range []Dialect{Postgres, SQLite} {
			_, err := convertValue(JSON, in, d)
			assert.ErrorContains(t, err, "UTF-8", "%#v", in)
		}
	}
}

// Decimals equal as numbers have one canonical text.
func TestCanonicalDecimal(t *testing.T) {
	for _, group := range [][]string{
		{"1", "1.0", "01.00", "1e0", "+1", "0.1e1", "10e-1"},
		{"0", "-0", "0.000", "0e5", ".0"},
		{"-12.5", "-12.50", "-1.25e1", "-125e-1"},
		{"1200", "1.2e3", "1200.0"},
	} {
		for _, s := range group {
			assert.Equal(t, canonicalDecimal(group[0]), canonicalDecimal(s), "%s vs %s", group[0], s)
		}
	}
	assert.NotEqual(t, canonicalDecimal("1"), canonicalDecimal("-1"))
	assert.NotEqual(t, canonicalDecimal("12"), canonicalDecimal("1.2"))
}

// JSON and TextArray columns cannot be keys; TextArray takes no Default.
func TestTableValidateKeyAndDefaultTypes(t *testing.T) {
	err := Table{Name: "t", Columns: []Column{{Name: "j", Type: JSON}, {Name: "a", Type: TextArray, Default: []string{}}}, Key: []string{"j"}}.Validate()
	assert.ErrorContains(t, err, "Key[0] (j): a JSON column cannot be a key column")
	assert.ErrorContains(t, err, "Columns[1] (a).Default: a TextArray column takes no Default")
}

// TestToUUIDKeepsCanonicalTextAndNormalizesTheRest checks the fast path
// that returns canonical text as it is: upper case, braces and urn:uuid:
// still normalize, and a canonical-looking string with a non-hex digit is
// still refused.
func TestToUUIDKeepsCanonicalTextAndNormalizesTheRest(t *testing.T) {
	const want = "0c2f7a3e-1b2c-4d5e-8f90-a1b2c3d4e5f6"
	for _, in := range []string{want, strings.ToUpper(want), "{" + want + "}", "urn:uuid:" + want, "URN:UUID:" + strings.ToUpper(want)} {
		got, err := toUUID(in)
		require.NoError(t, err, in)
		require.Equal(t, want, got, in)
	}
	for _, bad := range []string{"0c2f7a3e-1b2c-4d5e-8f90-a1b2c3d4e5fg", "0c2f7a3e-1b2c-4d5e-8f90_a1b2c3d4e5f6",
		"0c2f7a3e1b2c-4d5e-8f90-a1b2c3d4e5f6a", "", "0c2f7a3e-1b2c-4d5e-8f90-a1b2c3d4e5f"} {
		_, err := toUUID(bad)
		require.Error(t, err, bad)
	}
	b, ok := parseUUID(want)
	require.True(t, ok)
	require.Equal(t, want, formatUUID(b))
	_, ok = parseUUID(strings.ToUpper(want))
	require.False(t, ok, "parseUUID reads the lower-case form only")
}
