package mapping

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"io/fs"
	pathpkg "path"
	"strings"
)

// csvColumns are the columns of the main spec CSV, in the order EncodeCSV
// writes them. ParseCSV accepts them in any order; target is required.
var csvColumns = []string{"target", "source", "combine", "table", "transform", "type", "layout",
	"format", "default", "required", "constant", "expr", "when", "name", "notes"}

// Directive rows of the main CSV have a target starting with "#":
//
//	#name, #version, #description   the value is in the source column
//	#table                          table name in the table column, file in the source column
//
// Table CSV files have the columns key, value, inverse; rows whose key is
// #unknown, #default, #two_way or #notes set the table's options (value in
// the value column). A literal key starting with "#" is written "##…".
// The marker is "#" because spreadsheets leave it alone, while a leading
// "@", "=", "+" or "-" is read as a formula.
const csvMulti = " | "

// ParseCSV reads a spec from a CSV file in fsys and the table files it
// names (relative to the main file's directory).
func ParseCSV(fsys fs.FS, name string) (*Spec, error) {
	data, err := fs.ReadFile(fsys, name)
	if err != nil {
		return nil, fmt.Errorf("mapping: %w", err)
	}
	s := &Spec{File: name}
	rows, lines, err := readCSV(name, data)
	if err != nil {
		return nil, err
	}
	if len(rows) == 0 {
		return nil, &CompileError{Pos: Pos{File: name}, Msg: "empty CSV: a header row is needed"}
	}
	col := map[string]int{}
	for i, h := range rows[0] {
		h = strings.ToLower(strings.TrimSpace(h))
		if !contains(csvColumns, h) {
			return nil, &CompileError{Pos: Pos{File: name, Line: lines[0]}, Msg: fmt.Sprintf("unknown column %q", h)}
		}
		if _, dup := col[h]; dup {
			return nil, &CompileError{Pos: Pos{File: name, Line: lines[0]}, Msg: fmt.Sprintf("duplicate column %q", h)}
		}
		col[h] = i
	}
	if _, ok := col["target"]; !ok {
		return nil, &CompileError{Pos: Pos{File: name, Line: lines[0]}, Msg: "missing column \"target\""}
	}
	dir := pathpkg.Dir(name)
	for n, row := range rows[1:] {
		pos := Pos{File: name, Line: lines[n+1]}
		get := func(c string) string {
			if i, ok := col[c]; ok && i < len(row) {
				return row[i]
			}
			return ""
		}
		target := strings.TrimSpace(get("target"))
		if target == "" && strings.TrimSpace(strings.Join(row, "")) == "" {
			continue
		}
		if strings.HasPrefix(target, "#") {
			if err := s.csvDirective(fsys, dir, target, get, pos); err != nil {
				return nil, err
			}
			continue
		}
		req, code := toBool(orDefault(strings.TrimSpace(get("required")), "false"))
		if code != "" {
			return nil, &CompileError{Pos: pos, Rule: target, Msg: "required must be yes or no"}
		}
		r := Rule{
			Name: get("name"), Target: get("target"), Sources: splitMulti(get("source")),
			Combine: get("combine"), Constant: get("constant"), Expr: get("expr"),
			Transform: splitMulti(get("transform")), Table: get("table"), Type: get("type"),
			Layout: get("layout"), Format: get("format"), Default: get("default"),
			Required: req.(bool), When: get("when"), Notes: get("notes"), Pos: pos,
		}
		s.Rules = append(s.Rules, r)
	}
	return s, nil
}

func (s *Spec) csvDirective(fsys fs.FS, dir, target string, get func(string) string, pos Pos) error {
	switch target {
	case "#name":
		s.Name = get("source")
	case "#version":
		s.Version = get("source")
	case "#description":
		s.Description = get("source")
	case "#table":
		name, file := get("table"), get("source")
		if name == "" || file == "" {
			return &CompileError{Pos: pos, Msg: "#table needs the table name in the table column and its file in the source column"}
		}
		t, err := parseTableCSV(fsys, pathpkg.Join(dir, file), name)
		if err != nil {
			return err
		}
		t.Pos = pos
		s.Tables = append(s.Tables, t)
	default:
		return &CompileError{Pos: pos, Msg: fmt.Sprintf("unknown directive %q", target)}
	}
	return nil
}

func parseTableCSV(fsys fs.FS, file, name string) (Table, error) {
	t := Table{Name: name}
	data, err := fs.ReadFile(fsys, file)
	if err != nil {
		return t, &CompileError{Pos: Pos{File: file}, Table: name, Msg: "cannot read the table file"}
	}
	rows, lines, err := readCSV(file, data)
	if err != nil {
		return t, err
	}
	if len(rows) == 0 {
		return t, &CompileError{Pos: Pos{File: file}, Table: name, Msg: "empty table CSV: a header row is needed"}
	}
	col := map[string]int{}
	for i, h := range rows[0] {
		h = strings.ToLower(strings.TrimSpace(h))
		if h != "key" && h != "value" && h != "inverse" {
			return t, &CompileError{Pos: Pos{File: file, Line: lines[0]}, Table: name, Msg: fmt.Sprintf("unknown column %q", h)}
		}
		col[h] = i
	}
	if _, ok := col["key"]; !ok {
		return t, &CompileError{Pos: Pos{File: file, Line: lines[0]}, Table: name, Msg: "missing column \"key\""}
	}
	if _, ok := col["value"]; !ok {
		return t, &CompileError{Pos: Pos{File: file, Line: lines[0]}, Table: name, Msg: "missing column \"value\""}
	}
	for n, row := range rows[1:] {
		pos := Pos{File: file, Line: lines[n+1]}
		get := func(c string) string {
			if i, ok := col[c]; ok && i < len(row) {
				return row[i]
			}
			return ""
		}
		key, value := get("key"), get("value")
		switch key {
		case "#unknown":
			t.Unknown = value
			continue
		case "#default":
			t.Default = value
			continue
		case "#notes":
			t.Notes = value
			continue
		case "#two_way":
			b, code := toBool(value)
			if code != "" {
				return t, &CompileError{Pos: pos, Table: name, Msg: "#two_way must be yes or no"}
			}
			t.TwoWay = b.(bool)
			continue
		}
		if strings.HasPrefix(key, "##") {
			key = key[1:]
		} else if strings.HasPrefix(key, "#") {
			return t, &CompileError{Pos: pos, Table: name, Msg: fmt.Sprintf("unknown directive %q (write ## for a key starting with #)", key)}
		}
		inv, code := toBool(orDefault(strings.TrimSpace(get("inverse")), "false"))
		if code != "" {
			return t, &CompileError{Pos: pos, Table: name, Msg: "inverse must be yes or no"}
		}
		t.Entries = append(t.Entries, Entry{Key: key, Value: value, Inverse: inv.(bool), Pos: pos})
	}
	return t, nil
}

// readCSV reads every record with its starting line.
func readCSV(name string, data []byte) ([][]string, []int, error) {
	r := csv.NewReader(bytes.NewReader(data))
	r.FieldsPerRecord = -1
	var rows [][]string
	var lines []int
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			line := 0
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				line = pe.Line
			}
			return nil, nil, &CompileError{Pos: Pos{File: name, Line: line}, Msg: "malformed CSV"}
		}
		line, _ := r.FieldPos(0)
		rows = append(rows, rec)
		lines = append(lines, line)
	}
	return rows, lines, nil
}

// splitMulti splits "a | b" lists, ignoring | inside double quotes.
func splitMulti(s string) []string {
	if strings.TrimSpace(s) == "" {
		return nil
	}
	var out []string
	inQuote, start := false, 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\':
			if inQuote {
				i++
			}
		case '"':
			inQuote = !inQuote
		case '|':
			if !inQuote {
				out = append(out, strings.TrimSpace(s[start:i]))
				start = i + 1
			}
		}
	}
	return append(out, strings.TrimSpace(s[start:]))
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

func contains(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}

// EncodeCSV renders the spec as CSV files: the main file under name and one
// file per table, "<base>.<table>.csv" beside it. ParseCSV reads them back
// to an equal spec.
func (s *Spec) EncodeCSV(name string) (map[string][]byte, error) {
	files := map[string][]byte{}
	base := strings.TrimSuffix(pathpkg.Base(name), ".csv")
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	write := func(rec []string) { _ = w.Write(rec) }
	write(csvColumns)
	row := func(set map[string]string) []string {
		rec := make([]string, len(csvColumns))
		for i, c := range csvColumns {
			rec[i] = set[c]
		}
		return rec
	}
	for _, d := range []struct{ k, v string }{{"#name", s.Name}, {"#version", s.Version}, {"#description", s.Description}} {
		if d.v != "" {
			write(row(map[string]string{"target": d.k, "source": d.v}))
		}
	}
	for _, t := range s.Tables {
		file := base + "." + t.Name + ".csv"
		write(row(map[string]string{"target": "#table", "table": t.Name, "source": file}))
		data, err := encodeTableCSV(&t)
		if err != nil {
			return nil, err
		}
		files[pathpkg.Join(pathpkg.Dir(name), file)] = data
	}
	for _, r := range s.Rules {
		for _, m := range r.Sources {
			if strings.Contains(m, "|") {
				return nil, fmt.Errorf("mapping: rule %q: a source path containing | cannot be written as CSV", r.RuleName())
			}
		}
		req := ""
		if r.Required {
			req = "yes"
		}
		write(row(map[string]string{
			"name": r.Name, "target": r.Target, "source": strings.Join(r.Sources, csvMulti),
			"combine": r.Combine, "constant": r.Constant, "expr": r.Expr,
			"transform": strings.Join(r.Transform, csvMulti), "table": r.Table, "type": r.Type,
			"layout": r.Layout, "format": r.Format, "default": r.Default, "required": req,
			"when": r.When, "notes": r.Notes,
		}))
	}
	w.Flush()
	if err := w.Error(); err != nil {
		return nil, err
	}
	files[name] = buf.Bytes()
	return files, nil
}

func encodeTableCSV(t *Table) ([]byte, error) {
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	_ = w.Write([]string{"key", "value", "inverse"})
	if t.Unknown != "" {
		_ = w.Write([]string{"#unknown", t.Unknown, ""})
	}
	if t.Default != "" {
		_ = w.Write([]string{"#default", t.Default, ""})
	}
	if t.TwoWay {
		_ = w.Write([]string{"#two_way", "yes", ""})
	}
	if t.Notes != "" {
		_ = w.Write([]string{"#notes", t.Notes, ""})
	}
	for _, e := range t.Entries {
		key := e.Key
		if strings.HasPrefix(key, "#") {
			key = "#" + key
		}
		inv := ""
		if e.Inverse {
			inv = "yes"
		}
		_ = w.Write([]string{key, e.Value, inv})
	}
	w.Flush()
	return buf.Bytes(), w.Error()
}
