// Package mapping turns a declarative field mapping into running code.
//
// A mapping spec is the data-sharing agreement that business owners sign
// off, and the same file is what the program executes. A spec is written in
// YAML (ParseYAML) or as a spreadsheet exported to CSV (ParseCSV: one row per
// target field plus one CSV file per value table); both forms have the same
// meaning and convert into each other without loss (Spec.EncodeYAML,
// Spec.EncodeCSV), and Spec.Hash gives the same content hash for both.
//
// A rule fills one target field. Its value comes from a source path, the
// first non-empty of several paths, all non-empty values of several paths,
// a constant, or an expr-lang/expr expression over the source record. The
// value then passes through transforms (trim, upper, lower, split, join),
// an optional named value table with an explicit policy for unknown values
// (error, pass, default, drop), a type coercion (string, int, float, bool,
// date, datetime, list), a default for missing or empty values and a
// required check. Any rule may carry a `when` condition.
//
// Paths are dotted (`a.b.c`), with list indices (`a[0].b`) and `[*]` over
// lists and subforms (`services_section[*].service_type`). Flattened keys
// that contain dots, as proGres sends them (`individuals.progres_id`), are
// matched whole: at each level the longest run of segments that names an
// existing key wins.
//
// Compile checks the spec before any record is seen and reports every
// problem with its file, line (or CSV row) and rule. Apply maps one record
// (ApplyInto into a reused one); ApplyAll collects every error of a record
// for validation reports. Errors name the rule, the target field path and
// a reason code, and never quote the values of the record.
//
// # YAML form
//
//	name: progres_to_primero
//	version: "1"
//	tables:
//	  sex:
//	    unknown: error            # error | pass | default | drop
//	    entries: {"125080000": female, "125080001": male}
//	  service_type:
//	    two_way: true             # must invert; shared values need one inverse entry
//	    entries:
//	      - {key: BID, value: focuses_non_specialized_mhpss_care, inverse: true}
//	      - {key: BIA, value: focuses_non_specialized_mhpss_care}
//	rules:
//	  - target: sex
//	    source: individuals.progres_sex
//	    table: sex
//	  - target: address_current
//	    sources: [a.Name, b.Name, c]
//	    combine: all              # first (default) | all
//	    transform: [trim, join(" ")]
//	  - target: age
//	    expr: age($env["individuals.progres_dateofbirth"], "2026-01-01")
//	    type: int
//
// Rule keys: name, target, source or sources, combine, constant, expr,
// transform, table, type, layout, format, default, required, when, notes.
//
// # CSV form
//
// The main file has a header row with any of the columns target, source,
// combine, table, transform, type, layout, format, default, required,
// constant, expr, when, name, notes (target is required), then one row per
// rule. Several sources or transforms share a cell, separated by " | ".
// Rows whose target starts with "#" are directives: #name, #version and
// #description take their value from the source column; #table declares a
// table, named in the table column, whose file (relative to the main file)
// is in the source column. A table file has the columns key, value and
// inverse; rows keyed #unknown, #default, #two_way and #notes set its
// options, and a literal key starting with "#" is written "##…".
//
// # Expressions
//
// Expressions see the source record: fields by name, or $env["a.b"] for
// keys with dots. They may call age(dob, at), concat(a, …),
// coalesce(a, …), substr(s, start[, n]), formatDate(date, layout),
// joinNonEmpty(sep, a, …) and the expr builtins len, trim, upper, lower,
// split, join, replace, hasPrefix, hasSuffix, indexOf, string, int, float,
// abs, min, max, first, last, filter, map, all, any, none, one and count;
// nothing else (no now(), no methods of Go values). A nil result counts as
// missing.
//
// # Output
//
// Apply builds a fresh Record; maps and lists created by the mapping are
// new, but a map or list copied whole from the source is shared with it.
// The source record is never modified. ApplyInto gives the same record but
// builds it in the memory of the previous one (the record and the maps and
// lists of nested targets are cleared and reused), for loops that are done
// with each record before mapping the next.
//
// Invert derives the reverse mapping when every rule is invertible, Explain
// renders a spec as Markdown or CSV for sign-off, and Lineage reports which
// source path and rule produce each target field.
package mapping
