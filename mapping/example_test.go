package mapping_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing/fstest"

	"github.com/casebridge/casebridge/mapping"
)

const exampleSpec = `
name: example
version: "1"
tables:
  sex:
    unknown: error
    entries: {"125080000": female, "125080001": male}
rules:
  - target: name_first
    source: individuals.progres_givenname
    transform: [trim]
    required: true
  - target: sex
    source: individuals.progres_sex
    table: sex
  - target: date_of_birth
    source: individuals.progres_dateofbirth
    type: date
  - target: age
    expr: age($env["individuals.progres_dateofbirth"], "2026-01-01")
    type: int
  - target: services_section[*].service_type
    source: services[*].type
  - target: status
    constant: open
`

func Example() {
	spec, err := mapping.ParseYAML("example.yaml", []byte(exampleSpec))
	if err != nil {
		fmt.Println(err)
		return
	}
	m, err := mapping.Compile(spec)
	if err != nil {
		fmt.Println(err)
		return
	}
	out, err := m.Apply(context.Background(), mapping.Record{
		"individuals.progres_givenname":   " Test ",
		"individuals.progres_sex":         "125080000",
		"individuals.progres_dateofbirth": "2016-07-19T00:00:00",
		"services":                        []any{map[string]any{"type": "food"}},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(out["name_first"], out["sex"], out["date_of_birth"], out["age"], out["status"])
	fmt.Println(out["services_section"])
	// Output:
	// Test female 2016-07-19 9 open
	// [map[service_type:food]]
}

func ExampleMapping_ApplyAll() {
	spec, _ := mapping.ParseYAML("example.yaml", []byte(exampleSpec))
	m, _ := mapping.Compile(spec)
	_, err := m.ApplyAll(context.Background(), mapping.Record{
		"individuals.progres_sex":         "125080009",
		"individuals.progres_dateofbirth": "not a date",
	})
	var errs mapping.Errors
	if errors.As(err, &errs) {
		for _, e := range errs {
			fmt.Println(e.Path, e.Code)
		}
	}
	// Output:
	// name_first required
	// sex unknown_value
	// date_of_birth invalid_date
	// age expr_error
}

// ApplyInto maps many records through one reused output record: each
// result is used (here printed) before the next call overwrites it.
func ExampleMapping_ApplyInto() {
	spec, _ := mapping.ParseYAML("example.yaml", []byte(exampleSpec))
	m, _ := mapping.Compile(spec)
	sources := []mapping.Record{
		{"individuals.progres_givenname": "Test Child 1", "individuals.progres_sex": "125080000",
			"services": []any{map[string]any{"type": "food"}, map[string]any{"type": "health"}}},
		{"individuals.progres_givenname": "Test Child 2", "individuals.progres_sex": "125080001"},
	}
	var row mapping.Record // nil: the first call makes it
	for _, src := range sources {
		var err error
		row, err = m.ApplyInto(context.Background(), row, src)
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println(row["name_first"], row["sex"], row["services_section"])
	}
	// Output:
	// Test Child 1 female [map[service_type:food] map[service_type:health]]
	// Test Child 2 male <nil>
}

func ExampleCompile_errors() {
	spec, _ := mapping.ParseYAML("bad.yaml", []byte(`
tables:
  t:
    entries:
      a: x
      a: y
rules:
  - target: a
    source: a
    table: missing
  - target: b
    required: true
`))
	_, err := mapping.Compile(spec)
	fmt.Println(err)
	// Output:
	// mapping: bad.yaml:6: table "t": duplicate key "a" (first at bad.yaml:5)
	// mapping: bad.yaml:8: rule "a": unknown table "missing"
	// mapping: bad.yaml:11: rule "b": required target b has neither a source nor a default
}

func ExampleParseCSV() {
	fsys := fstest.MapFS{
		"spec.csv": {Data: []byte("target,source,table,required\n" +
			"#table,spec.sex.csv,sex,\n" +
			"sex,individuals.progres_sex,sex,yes\n")},
		"spec.sex.csv": {Data: []byte("key,value\n#unknown,error\n125080000,female\n125080001,male\n")},
	}
	spec, err := mapping.ParseCSV(fsys, "spec.csv")
	if err != nil {
		fmt.Println(err)
		return
	}
	m, _ := mapping.Compile(spec)
	out, _ := m.Apply(context.Background(), mapping.Record{"individuals.progres_sex": "125080001"})
	fmt.Println(out["sex"])
	// Output: male
}

func ExampleSpec_EncodeCSV() {
	spec, _ := mapping.ParseYAML("example.yaml", []byte(exampleSpec))
	files, _ := spec.EncodeCSV("example.csv")
	fmt.Print(string(files["example.sex.csv"]))
	back, _ := mapping.ParseCSV(mapFS(files), "example.csv")
	fmt.Println(back.Hash() == spec.Hash())
	// Output:
	// key,value,inverse
	// #unknown,error,
	// 125080000,female,
	// 125080001,male,
	// true
}

func mapFS(files map[string][]byte) fstest.MapFS {
	fsys := fstest.MapFS{}
	for n, d := range files {
		fsys[n] = &fstest.MapFile{Data: d}
	}
	return fsys
}

func ExampleSpec_Explain() {
	spec, _ := mapping.ParseYAML("example.yaml", []byte(`
name: tiny
rules:
  - target: sex
    source: individuals.progres_sex
    table: sex
    required: true
tables:
  sex:
    entries: {"125080000": female}
`))
	var b strings.Builder
	_ = spec.Explain(&b)
	// Skip the hash line, which changes with the spec, and blank lines.
	for _, line := range strings.Split(b.String(), "\n") {
		if line != "" && !strings.HasPrefix(line, "Content hash") {
			fmt.Println(line)
		}
	}
	// Output:
	// # Mapping tiny
	// | # | Target | Source | How | Default | Required | When | Notes |
	// |---|---|---|---|---|---|---|---|
	// | 1 | sex | individuals.progres_sex | copy; through table sex |  | yes |  |  |
	// ## Table sex
	// Unknown values: error
	// | Key | Value | Inverse |
	// |---|---|---|
	// | 125080000 | female |  |
}

func ExampleTable_Invert() {
	t := mapping.Table{Name: "service_type", TwoWay: true, Entries: []mapping.Entry{
		{Key: "BID", Value: "focuses_non_specialized_mhpss_care", Inverse: true},
		{Key: "BIA", Value: "focuses_non_specialized_mhpss_care"},
		{Key: "Alternative Care", Value: "alternative_care"},
	}}
	inv, _ := t.Invert()
	for _, e := range inv.Entries {
		fmt.Println(e.Key, "->", e.Value)
	}
	// Output:
	// focuses_non_specialized_mhpss_care -> BID
	// alternative_care -> Alternative Care
}

func ExampleMapping_Lineage() {
	spec, _ := mapping.ParseYAML("example.yaml", []byte(exampleSpec))
	m, _ := mapping.Compile(spec)
	for _, l := range m.Lineage()[:2] {
		fmt.Println(l.Target, "<-", strings.Join(l.Sources, ","), "|", l.How, "|", l.Pos)
	}
	// Output:
	// name_first <- individuals.progres_givenname | copy; then trim | example.yaml:9
	// sex <- individuals.progres_sex | copy; through table sex | example.yaml:13
}

func ExampleWithSchema() {
	schema := &mapping.Schema{Fields: map[string]mapping.Field{
		"sex":    {Required: true, Allowed: []string{"female", "male"}},
		"status": {Required: true},
	}}
	spec, _ := mapping.ParseYAML("s.yaml", []byte(`
tables:
  sex:
    entries: {"125080000": female, "125080002": other}
rules:
  - target: sex
    source: individuals.progres_sex
    table: sex
  - target: nickname
    source: individuals.progres_commonyusedname
`))
	_, err := mapping.Compile(spec, mapping.WithSchema(schema))
	fmt.Fprintln(os.Stdout, err)
	// Output:
	// mapping: s.yaml:4: rule "sex": table "sex": value "other" is not among the allowed values of sex
	// mapping: s.yaml:9: rule "nickname": target nickname is not in the schema
	// mapping: s.yaml: required schema field status is filled by no rule
}

// Clone gives a copy to change without touching the original, however
// deeply nested.
func ExampleRecord_Clone() {
	orig := mapping.Record{"services_section": []any{map[string]any{"service_type": "health"}}}
	cp := orig.Clone()
	cp["services_section"].([]any)[0].(map[string]any)["service_type"] = "psychosocial"
	fmt.Println(orig["services_section"], cp["services_section"])
	// Output: [map[service_type:health]] [map[service_type:psychosocial]]
}
