package primero

import (
	"reflect"

	"github.com/casebridge/casebridge/internal/transport"
)

// Patch is the data of a PATCH /api/v2/cases/:id: top-level keys to set.
// Primero deep-merges it (docs/systems/primero.md): absent keys are untouched,
// scalars and multi-selects replaced, subform rows merged by unique_id,
// rows without a known unique_id appended, {"unique_id", "_destroy": true}
// removes a row.
type Patch map[string]any

// Set sets a top-level field (nil clears it).
func (p Patch) Set(field string, v any) Patch {
	p[field] = v
	return p
}

// UpdateRow merges fields into the subform row with uniqueID.
func (p Patch) UpdateRow(subform, uniqueID string, fields map[string]any) Patch {
	row := make(map[string]any, len(fields)+1)
	for k, v := range fields {
		row[k] = v
	}
	row["unique_id"] = uniqueID
	return p.addRow(subform, row)
}

// DestroyRow removes the subform row with uniqueID ("_destroy": true).
func (p Patch) DestroyRow(subform, uniqueID string) Patch {
	return p.addRow(subform, map[string]any{"unique_id": uniqueID, "_destroy": true})
}

// AppendRow appends a row. Give it a client-made "unique_id" (a UUID
// derived from an external key) so that a re-sent patch updates the row
// instead of appending a duplicate (pitfall 1).
func (p Patch) AppendRow(subform string, fields map[string]any) Patch {
	row := make(map[string]any, len(fields))
	for k, v := range fields {
		row[k] = v
	}
	return p.addRow(subform, row)
}

func (p Patch) addRow(subform string, row map[string]any) Patch {
	rows, _ := p[subform].([]any)
	p[subform] = append(rows, row)
	return p
}

// Validate checks the patch: field names are valid keys, subform arrays are
// not empty (Primero ignores "[]" for a subform, so it cannot clear one),
// a _destroy row carries a unique_id, and no unique_id appears twice.
func (p Patch) Validate() error {
	v := &transport.ValidationError{}
	if len(p) == 0 {
		v.Add("data", "patch is empty")
	}
	for k, val := range p {
		if k == "" {
			v.Add("data", "has an empty key")
			continue
		}
		rows, ok := val.([]any)
		if !ok {
			continue
		}
		if len(rows) == 0 {
			if _, isRows := subformKeys[k]; isRows {
				v.Add("data."+k, "an empty array does not clear a subform in Primero; use DestroyRow")
			}
			continue
		}
		seen := map[string]bool{}
		for i, r := range rows {
			m, ok := r.(map[string]any)
			if !ok {
				continue // a multi-select of scalars
			}
			uid, _ := m["unique_id"].(string)
			path := "data." + k + "[" + itoa(i) + "]"
			if d, _ := m["_destroy"].(bool); d && uid == "" {
				v.Add(path+".unique_id", "_destroy needs the row's unique_id")
			}
			if _, has := m["unique_id"]; has && !isUUID(uid) {
				v.Add(path+".unique_id", "must be a UUID (Primero refuses other row keys)")
			}
			if uid != "" {
				if seen[uid] {
					v.Add(path+".unique_id", "appears twice in the patch")
				}
				seen[uid] = true
			}
		}
	}
	return v.Err()
}

// subformKeys are the CPIMS+ subforms (docs/systems/primero.md).
var subformKeys = map[string]struct{}{
	"services_section": {}, "family_details_section": {}, "followup_subform_section": {},
	"notes_section": {}, "protection_concern_detail_subform_section": {},
	"care_arrangements_section": {}, "tracing_actions_section": {},
}

// PatchFrom computes the patch turning before into after, for a
// read-modify-write: changed top-level fields are set, a removed field is
// set to nil, and subform arrays of rows with unique_id are diffed by row
// (changed fields of kept rows, _destroy for removed rows, new rows
// appended). Unchanged fields are not sent.
func PatchFrom(before, after *Case) Patch {
	b, a := before.toMap(), after.toMap()
	p := Patch{}
	for k, av := range a {
		bv, ok := b[k]
		if ok && reflect.DeepEqual(normalize(bv), normalize(av)) {
			continue
		}
		if !ok {
			p[k] = av
			continue
		}
		if rows, ok := diffRows(bv, av); ok {
			if len(rows) > 0 {
				p[k] = rows
			}
			continue
		}
		p[k] = av
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			p[k] = nil
		}
	}
	delete(p, "id")
	return p
}

// diffRows diffs two subform arrays of rows. Every row of before must
// have a unique_id; a row of after without one is new and appended.
func diffRows(before, after any) ([]any, bool) {
	br, ok1 := rowsByID(before, false)
	ar, ok2 := rowsByID(after, true)
	if !ok1 || !ok2 {
		return nil, false
	}
	var out []any
	for _, id := range ar.order {
		arow := ar.rows[id]
		brow, existed := br.rows[id]
		if !existed {
			out = append(out, arow)
			continue
		}
		ch := map[string]any{}
		for k, v := range arow {
			if bv, ok := brow[k]; !ok || !reflect.DeepEqual(normalize(bv), normalize(v)) {
				ch[k] = v
			}
		}
		for k := range brow {
			if _, ok := arow[k]; !ok {
				ch[k] = nil
			}
		}
		if len(ch) > 0 {
			ch["unique_id"] = id
			out = append(out, ch)
		}
	}
	out = append(out, ar.fresh...)
	for _, id := range br.order {
		if _, kept := ar.rows[id]; !kept {
			out = append(out, map[string]any{"unique_id": id, "_destroy": true})
		}
	}
	return out, true
}

type rowSet struct {
	order []string
	rows  map[string]map[string]any
	fresh []any // rows without unique_id (after side only)
}

// rowsByID indexes an array of objects by unique_id. It reports false when
// v is not such an array (a multi-select, a scalar) or, unless allowFresh,
// when a row lacks a unique_id.
func rowsByID(v any, allowFresh bool) (rowSet, bool) {
	rs := rowSet{rows: map[string]map[string]any{}}
	list, ok := v.([]any)
	if !ok || len(list) == 0 {
		return rs, ok
	}
	for _, r := range list {
		m, ok := r.(map[string]any)
		if !ok {
			return rs, false
		}
		id, _ := m["unique_id"].(string)
		if id == "" {
			if !allowFresh {
				return rs, false
			}
			rs.fresh = append(rs.fresh, m)
			continue
		}
		rs.order = append(rs.order, id)
		rs.rows[id] = m
	}
	return rs, true
}

// normalize makes []string and []any comparable.
func normalize(v any) any {
	if ss, ok := v.([]string); ok {
		out := make([]any, len(ss))
		for i, s := range ss {
			out[i] = s
		}
		return out
	}
	return v
}

// isUUID reports whether s is a canonical 8-4-4-4-12 hex UUID.
func isUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i, r := range s {
		switch i {
		case 8, 13, 18, 23:
			if r != '-' {
				return false
			}
		default:
			if (r < '0' || r > '9') && (r < 'a' || r > 'f') && (r < 'A' || r > 'F') {
				return false
			}
		}
	}
	return true
}
