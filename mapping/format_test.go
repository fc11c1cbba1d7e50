package mapping

import (
	"os"
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// stripPos clears positions and the file name so that specs read from
// different files compare by meaning.
func stripPos(s *Spec) Spec {
	c := *s
	c.File = ""
	c.Rules = append([]Rule(nil), s.Rules...)
	for i := range c.Rules {
		c.Rules[i].Pos = Pos{}
	}
	c.Tables = append([]Table(nil), s.Tables...)
	for i := range c.Tables {
		c.Tables[i].Pos = Pos{}
		c.Tables[i].Entries = append([]Entry(nil), c.Tables[i].Entries...)
		for j := range c.Tables[i].Entries {
			c.Tables[i].Entries[j].Pos = Pos{}
		}
	}
	return c
}

func TestGoldenYAMLAndCSVAreTheSameSpec(t *testing.T) {
	specs := loadGoldenSpecs(t)
	y, c := specs["yaml"], specs["csv"]
	assert.Equal(t, stripPos(y), stripPos(c))
	assert.Equal(t, y.Hash(), c.Hash(), "both forms of the agreement have one hash")
	assert.Regexp(t, `^sha256:[0-9a-f]{64}$`, y.Hash())
}

func TestYAMLCSVRoundTripIsLossless(t *testing.T) {
	specs := map[string]*Spec{
		"golden": loadGoldenSpecs(t)["yaml"],
		"tricky": {Name: "tricky", Version: "2", Description: "quotes \" commas, and | pipes",
			Tables: []Table{{Name: "t", Unknown: UnknownDefault, Default: "true", TwoWay: true, Notes: "n, with comma",
				Entries: []Entry{{Key: "#hash", Value: "1"}, {Key: "##two", Value: "2"}, {Key: "@at", Value: "3"}, {Key: "yes", Value: "null", Inverse: true}, {Key: "no", Value: "null"}, {Key: "", Value: "empty key"}}}},
			Rules: []Rule{
				{Name: "n", Target: "a[*].b", Sources: []string{"x[*].y"}, Table: "t", Required: true, Notes: "line1\nline2"},
				{Target: "c", Sources: []string{"p", "q"}, Combine: CombineAll, Transform: []string{"trim", `join(" | ")`, `split("\"")`}},
				{Target: "d", Expr: `concat("a,b", "|")`, When: `x != "1"`, Type: TypeInt},
				{Target: "e", Constant: "0", Type: TypeBool},
				{Target: "f", Sources: []string{"g"}, Type: TypeDate, Layout: "02/01/2006", Format: "2006", Default: "2000"},
			}},
	}
	for name, s := range specs {
		t.Run(name, func(t *testing.T) {
			y, err := s.EncodeYAML()
			require.NoError(t, err)
			fromYAML, err := ParseYAML("x.yaml", y)
			require.NoError(t, err, string(y))
			assert.Equal(t, stripPos(s), stripPos(fromYAML), "YAML round trip")

			files, err := fromYAML.EncodeCSV("dir/x.csv")
			require.NoError(t, err)
			fsys := fstest.MapFS{}
			for n, d := range files {
				fsys[n] = &fstest.MapFile{Data: d}
			}
			fromCSV, err := ParseCSV(fsys, "dir/x.csv")
			require.NoError(t, err)
			assert.Equal(t, stripPos(s), stripPos(fromCSV), "CSV round trip")
			assert.Equal(t, s.Hash(), fromCSV.Hash())

			y2, err := fromCSV.EncodeYAML()
			require.NoError(t, err)
			assert.Equal(t, string(y), string(y2), "YAML → CSV → YAML is stable")
		})
	}
}

func TestHashChangesWithContent(t *testing.T) {
	s := loadGoldenSpecs(t)["yaml"]
	h := s.Hash()
	c := stripPos(s)
	c.Tables[1].Entries[0].Value = "education_formal"
	assert.NotEqual(t, h, c.Hash())
	d := stripPos(s)
	d.Tables[0], d.Tables[1] = d.Tables[1], d.Tables[0]
	assert.Equal(t, h, d.Hash(), "table order does not change the meaning")
}

func TestParseErrors(t *testing.T) {
	yamlCases := []struct{ name, src, msg string }{
		{"unknown top key", "nam: x\n", `spec.yaml:1: unknown key "nam"`},
		{"unknown rule key", "rules:\n  - target: a\n    sorce: b\n", `spec.yaml:3: unknown rule key "sorce"`},
		{"rules not a list", "rules: {a: b}\n", "spec.yaml:1: rules must be a list"},
		{"bad required", "rules:\n  - target: a\n    required: perhaps\n", "spec.yaml:3: expected true or false"},
		{"syntax", "rules: [\n", "spec.yaml"},
		{"empty", "", "empty spec"},
	}
	for _, tc := range yamlCases {
		t.Run("yaml "+tc.name, func(t *testing.T) {
			_, err := ParseYAML("spec.yaml", []byte(tc.src))
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.msg)
		})
	}
	csvCases := []struct {
		name  string
		files fstest.MapFS
		msg   string
	}{
		{"unknown column", fstest.MapFS{"s.csv": {Data: []byte("target,sauce\n")}}, `s.csv:1: unknown column "sauce"`},
		{"missing target column", fstest.MapFS{"s.csv": {Data: []byte("source\nx\n")}}, `missing column "target"`},
		{"bad required", fstest.MapFS{"s.csv": {Data: []byte("target,source,required\na,b,maybe\n")}}, "s.csv:2: rule \"a\": required must be yes or no"},
		{"missing table file", fstest.MapFS{"s.csv": {Data: []byte("target,source,table\n#table,t.csv,t\n")}}, "cannot read the table file"},
		{"bad directive", fstest.MapFS{"s.csv": {Data: []byte("target,source\n#nope,x\n")}}, `s.csv:2: unknown directive "#nope"`},
		{"bad table directive", fstest.MapFS{"s.csv": {Data: []byte("target,source,table\n#table,t.csv,t\n")}, "t.csv": {Data: []byte("key,value\n#what,x\n")}}, `t.csv:2: table "t": unknown directive "#what"`},
		{"malformed", fstest.MapFS{"s.csv": {Data: []byte("target,source\n\"a,b\n")}}, "malformed CSV"},
	}
	for _, tc := range csvCases {
		t.Run("csv "+tc.name, func(t *testing.T) {
			_, err := ParseCSV(tc.files, "s.csv")
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.msg)
		})
	}
}

func TestGoldenCSVFilesAreCommitted(t *testing.T) {
	// The committed CSV files are what business owners edit; they must be
	// exactly what EncodeCSV writes for the YAML spec, so neither drifts.
	y := loadGoldenSpecs(t)["yaml"]
	files, err := y.EncodeCSV("progres_to_primero.csv")
	require.NoError(t, err)
	for name, want := range files {
		got, err := os.ReadFile("testdata/" + name)
		require.NoError(t, err)
		assert.Equal(t, string(want), string(got), name)
	}
}
