package mapping

// Record is one record as a field map: the common currency between the
// clients, the mapping layer, the consent gate and the SQL sink. Values are
// what encoding/json produces (string, float64 or json.Number, bool, nil,
// []any, map[string]any) plus the Go types a client or source chooses to
// put in (time.Time, int64, …).
type Record map[string]any

// Clone returns a deep copy of r: nested maps and lists are copied, so the
// copy can be changed without touching r.
func (r Record) Clone() Record {
	if r == nil {
		return nil
	}
	return cloneMap(r)
}

// CloneValue returns a deep copy of a JSON-shaped value, keeping its type:
// maps and lists (map[string]any, Record, []any, []map[string]any) are
// copied all the way down, slices of scalars are copied, and other values
// (strings, numbers, time.Time) are immutable or copied by value and
// returned as they are.
func CloneValue(v any) any {
	switch x := v.(type) {
	case map[string]any:
		if x == nil {
			return x
		}
		return cloneMap(x)
	case Record:
		return x.Clone()
	case []any:
		if x == nil {
			return x
		}
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = CloneValue(e)
		}
		return out
	case []map[string]any:
		if x == nil {
			return x
		}
		out := make([]map[string]any, len(x))
		for i, m := range x {
			if m != nil {
				out[i] = cloneMap(m)
			}
		}
		return out
	case []string:
		return cloneSlice(x)
	case []float64:
		return cloneSlice(x)
	case []int:
		return cloneSlice(x)
	case []int64:
		return cloneSlice(x)
	case []bool:
		return cloneSlice(x)
	}
	return v
}

func cloneMap(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, e := range m {
		out[k] = CloneValue(e)
	}
	return out
}

func cloneSlice[T any](s []T) []T {
	if s == nil {
		return nil
	}
	out := make([]T, len(s))
	copy(out, s)
	return out
}
