package primerotest

import (
	"encoding/json"
	"math"
	"net/http"
	"slices"
	"strconv"
	"unicode/utf8"
)

// appendJSON appends the JSON encoding of a JSON-shaped value (what
// encoding/json decodes into any) to b. Map keys are sorted, as
// encoding/json sorts them; other types fall back to encoding/json. It
// exists because listing pages of 1000 cases is the fake's hot path.
func appendJSON(b []byte, v any) ([]byte, error) {
	switch x := v.(type) {
	case nil:
		return append(b, "null"...), nil
	case bool:
		return strconv.AppendBool(b, x), nil
	case string:
		return appendString(b, x), nil
	case float64:
		if x == math.Trunc(x) && math.Abs(x) < 1e21 {
			return strconv.AppendFloat(b, x, 'f', -1, 64), nil
		}
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		return appendObject(b, keys, func(k string) any { return x[k] })
	case []any:
		b = append(b, '[')
		for i, e := range x {
			if i > 0 {
				b = append(b, ',')
			}
			var err error
			if b, err = appendJSON(b, e); err != nil {
				return nil, err
			}
		}
		return append(b, ']'), nil
	}
	enc, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return append(b, enc...), nil
}

// appendObject appends a JSON object of keys, sorted in place as
// encoding/json sorts them, with the values val gives.
func appendObject(b []byte, keys []string, val func(string) any) ([]byte, error) {
	slices.Sort(keys)
	b = append(b, '{')
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, k)
		b = append(b, ':')
		var err error
		if b, err = appendJSON(b, val(k)); err != nil {
			return nil, err
		}
	}
	return append(b, '}'), nil
}

// appendString appends a JSON string; strings needing escapes go through
// encoding/json.
func appendString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' || c >= utf8.RuneSelf {
			enc, _ := json.Marshal(s)
			return append(b, enc...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// hiddenName is how Primero renders name when hidden_name is set.
const hiddenName = "*******"

// appendRecord appends the record JSON of rec as view v renders it: only
// readable fields, or of those only id, enabled, last_updated_at and the
// selected fields when fields is non-nil; name masked when hidden_name is
// set (app/views/api/v2/records/_record.json.jbuilder).
func appendRecord(b []byte, rec map[string]any, v *view, fields map[string]bool) ([]byte, error) {
	keys := make([]string, 0, len(rec))
	for k := range rec {
		if !v.readable(k) {
			continue
		}
		if fields != nil && !fields[k] && k != "id" && k != "enabled" && k != "last_updated_at" {
			continue
		}
		keys = append(keys, k)
	}
	hidden, _ := rec["hidden_name"].(bool)
	return appendObject(b, keys, func(k string) any {
		if k == "name" && hidden {
			return hiddenName
		}
		return rec[k]
	})
}

// writeRecord writes {"data": <record JSON>} with status.
func writeRecord(w http.ResponseWriter, status int, rec map[string]any, v *view, fields map[string]bool) {
	b, err := appendRecord(append(make([]byte, 0, 1600), `{"data":`...), rec, v, fields)
	if err != nil {
		http.Error(w, "encode: "+err.Error(), http.StatusInternalServerError)
		return
	}
	writeRawJSON(w, status, append(b, '}'))
}

// renderRecord returns the record JSON of rec as v renders it, as a map
// (for answers that embed a record, such as a transition's).
func renderRecord(rec map[string]any, v *view) map[string]any {
	out := make(map[string]any, len(rec))
	hidden, _ := rec["hidden_name"].(bool)
	for k, val := range rec {
		if v.readable(k) {
			out[k] = val
		}
	}
	if _, ok := out["name"]; ok && hidden {
		out["name"] = hiddenName
	}
	return out
}
