package primerotest

// mergeRecord applies a PATCH body to a stored record as Primero's
// RecordMergeDataHashService does (docs/systems/primero.md):
//   - absent keys are untouched;
//   - scalars and arrays of scalars are replaced ([] clears a multi-select);
//   - nested objects are deep-merged;
//   - arrays of objects (subforms) merge by unique_id: a matching element is
//     deep-merged, {"unique_id": x, "_destroy": true} deletes it, an element
//     with a new or no unique_id is appended, others are kept;
//   - [] for a subform is a no-op.
//
// subforms names the fields known to be subforms, so that [] is a no-op for
// them even when the stored value is empty.
func mergeRecord(dst, patch map[string]any, subforms map[string]bool) {
	for k, v := range patch {
		old, exists := dst[k]
		switch nv := v.(type) {
		case []any:
			oldArr, _ := old.([]any)
			isSub := subforms[k] || isObjectArray(nv) || (len(oldArr) > 0 && isObjectArray(oldArr))
			if !isSub {
				dst[k] = nv
				continue
			}
			if len(nv) == 0 {
				continue // [] cannot clear a subform
			}
			dst[k] = mergeSubform(oldArr, nv)
		case map[string]any:
			if om, ok := old.(map[string]any); ok && exists {
				mergeRecord(om, nv, nil)
				continue
			}
			dst[k] = nv
		default:
			dst[k] = v
		}
	}
}

// isObjectArray reports whether arr is a non-empty array of objects.
func isObjectArray(arr []any) bool {
	if len(arr) == 0 {
		return false
	}
	for _, e := range arr {
		if _, ok := e.(map[string]any); !ok {
			return false
		}
	}
	return true
}

// mergeSubform merges patch elements into a subform by unique_id.
func mergeSubform(old, patch []any) []any {
	out := make([]any, 0, len(old)+len(patch))
	out = append(out, old...)
	for _, pe := range patch {
		pm, ok := pe.(map[string]any)
		if !ok {
			continue
		}
		destroy, _ := pm["_destroy"].(bool)
		uid, _ := pm["unique_id"].(string)
		pos := -1
		if uid != "" {
			for i, e := range out {
				if m, ok := e.(map[string]any); ok && m["unique_id"] == uid {
					pos = i
					break
				}
			}
		}
		switch {
		case pos >= 0 && destroy:
			out = append(out[:pos], out[pos+1:]...)
		case pos >= 0:
			elem := out[pos].(map[string]any)
			clean := withoutDestroy(pm)
			mergeRecord(elem, clean, nil)
		case destroy:
			// deleting an unknown element does nothing
		default:
			elem := withoutDestroy(pm)
			if uid == "" {
				elem["unique_id"] = randomUUID()
			}
			out = append(out, elem)
		}
	}
	return out
}

func withoutDestroy(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		if k != "_destroy" {
			out[k] = v
		}
	}
	return out
}
