package mapping

import (
	"context"
	"encoding/json"
	"os"
	"reflect"
	"testing"
	"testing/fstest"
)

func FuzzParseYAML(f *testing.F) {
	golden, err := os.ReadFile("testdata/progres_to_primero.yaml")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(golden)
	f.Add([]byte("rules:\n  - target: a\n    source: 'b[*].c'\n"))
	f.Add([]byte("tables:\n  t:\n    entries: [{key: a, value: b, inverse: yes}]\n"))
	f.Add([]byte("rules: [{target: '[0]', expr: 'age(x, 1)'}]"))
	f.Add([]byte("&a [*a]"))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := ParseYAML("fuzz.yaml", data)
		if err != nil {
			return
		}
		// Whatever parses must compile or be rejected cleanly, and encode.
		_, _ = Compile(s)
		_ = s.Hash()
		if _, err := s.EncodeYAML(); err != nil {
			t.Fatalf("encode: %v", err)
		}
	})
}

func FuzzParseCSV(f *testing.F) {
	main, err := os.ReadFile("testdata/progres_to_primero.csv")
	if err != nil {
		f.Fatal(err)
	}
	table, err := os.ReadFile("testdata/progres_to_primero.service_type.csv")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(main, table)
	f.Add([]byte("target,source,table\n#table,t.csv,t\na,b,t\n"), []byte("key,value\n#unknown,drop\nx,y\n"))
	f.Add([]byte("target,transform\na,\"join(\"\"|\"\") | trim\"\n"), []byte(""))
	f.Add([]byte("\"\n"), []byte("key\n"))
	f.Fuzz(func(t *testing.T, mainCSV, tableCSV []byte) {
		fsys := fstest.MapFS{"s.csv": {Data: mainCSV}, "t.csv": {Data: tableCSV}}
		s, err := ParseCSV(fsys, "s.csv")
		if err != nil {
			return
		}
		_, _ = Compile(s)
		_ = s.Hash()
		_, _ = s.EncodeCSV("s.csv")
	})
}

func FuzzApply(f *testing.F) {
	golden, err := os.ReadFile("testdata/intervention.json")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(golden)
	f.Add([]byte(`{"interventiontype.progres_description": 5, "individuals.progres_dateofbirth": {"a": 1}}`))
	f.Add([]byte(`{"individuals.progres_coalocationlevel1": [1, {"Name": null}], "rows": "x"}`))
	f.Add([]byte(`{"individuals": {"progres_dateofbirth": "0000-01-01", "progres_sex": 1e300}}`))
	f.Add([]byte(`{"rows": [null, 1, "a", {"type": ["a"]}], "in": [{"x": [1, 2]}]}`))
	spec := loadGoldenSpecs(f)["yaml"]
	extra := *spec
	extra.Rules = append(append([]Rule(nil), spec.Rules...),
		Rule{Target: "rows[*].t", Sources: []string{"rows[*].type"}, Type: TypeString},
		Rule{Target: "in_all", Sources: []string{"in[*].x[*]", "rows"}, Combine: CombineAll, Transform: []string{"upper", `join(",")`, `split(",")`}, Type: TypeInt},
		Rule{Target: "f", Sources: []string{"individuals.progres_sex"}, Type: TypeFloat, When: `len(string($env)) > 0`},
		Rule{Target: "b", Sources: []string{"individuals.progres_sex"}, Type: TypeBool},
		Rule{Target: "s", Expr: `substr(concat($env["progres_interventionnumber"]), 3, 4)`},
	)
	maps := []*Mapping{mustCompile(f, spec), mustCompile(f, &extra), mustCompile(f, reuseSpec())}
	var previous Record
	if err := json.Unmarshal(golden, &previous); err != nil {
		f.Fatal(err)
	}
	previous["rows"] = []any{map[string]any{"type": "a"}, map[string]any{"type": "b"}}
	previous["in"] = []any{map[string]any{"x": []any{1.0}}}
	f.Fuzz(func(t *testing.T, data []byte) {
		var src Record
		if json.Unmarshal(data, &src) != nil {
			return
		}
		ctx := context.Background()
		for _, m := range maps {
			want, wantErr := m.Apply(ctx, src)
			_, _ = m.ApplyAll(ctx, src)
			// ApplyInto into a record left by another source gives the
			// same record (or error) as Apply.
			dst, err := m.ApplyInto(ctx, nil, previous)
			if err != nil {
				dst = Record{}
			}
			got, err := m.ApplyInto(ctx, dst, src)
			if !reflect.DeepEqual(want, got) || !reflect.DeepEqual(wantErr, err) {
				t.Fatalf("ApplyInto gave %v, %v; Apply gave %v, %v", got, err, want, wantErr)
			}
		}
	})
}
