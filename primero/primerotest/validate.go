package primerotest

import (
	"fmt"
	"math"
	"slices"
	"time"
)

// validate checks a permitted write body against the JSON schema Primero
// builds from the writable fields (app/services/record_json_validator_service.rb)
// and returns the sorted JSON pointers of the invalid values.
func (v *view) validate(data map[string]any) []string {
	var bad []string
	for k, val := range data {
		if k == "id" {
			if str, ok := val.(string); !ok || !uuidRe.MatchString(str) {
				bad = append(bad, "/id")
			}
			continue
		}
		if fd, ok := v.write[k]; ok {
			bad = append(bad, validateValue("/"+k, fd, val)...)
		}
	}
	slices.Sort(bad)
	return bad
}

// validateValue checks one value of a field and returns the pointers of
// what is invalid in it.
func validateValue(ptr string, fd *fieldDef, v any) []string {
	if v == nil {
		return nil
	}
	if fd.typ == typeSubform {
		return validateRows(ptr, fd, v)
	}
	if !validScalar(fd, v) {
		return []string{ptr}
	}
	return nil
}

// validScalar checks a non-subform value.
func validScalar(fd *fieldDef, v any) bool {
	switch fd.typ {
	case typeDate:
		str, ok := v.(string)
		if !ok || !isDate(str) {
			return false
		}
		_, err := time.Parse("2006-01-02", str)
		return err == nil
	case typeDateTime:
		str, ok := v.(string)
		if !ok {
			return false
		}
		_, ok = parseTime(str)
		return ok
	case typeNumeric:
		f, ok := v.(float64)
		return ok && f == math.Trunc(f) && f >= math.MinInt32 && f <= math.MaxInt32
	case typeTickBox:
		_, ok := v.(bool)
		return ok
	case typeText:
		_, ok := v.(string)
		return ok
	case typeSelect, typeRadio:
		if fd.multi {
			arr, ok := v.([]any)
			if !ok {
				return false
			}
			for _, e := range arr {
				if !validOption(fd, e) {
					return false
				}
			}
			return true
		}
		return validOption(fd, v)
	}
	return true
}

// validOption checks one select or radio value against the field's options.
func validOption(fd *fieldDef, v any) bool {
	switch x := v.(type) {
	case string:
		return fd.options == nil || fd.options[x]
	case bool:
		return fd.boolOptions || (fd.options == nil && fd.typ == typeRadio)
	}
	return false
}

// validateRows checks a subform value: an array of objects with an
// optional lowercase UUID unique_id, a boolean _destroy and the nested
// form's field types.
func validateRows(ptr string, fd *fieldDef, v any) []string {
	arr, ok := v.([]any)
	if !ok {
		return []string{ptr}
	}
	var bad []string
	for i, e := range arr {
		p := fmt.Sprintf("%s/%d", ptr, i)
		m, ok := e.(map[string]any)
		if !ok {
			bad = append(bad, p)
			continue
		}
		for k, val := range m {
			switch k {
			case "unique_id":
				if str, ok := val.(string); val != nil && (!ok || !uuidRe.MatchString(str)) {
					bad = append(bad, p+"/unique_id")
				}
			case "_destroy":
				if _, ok := val.(bool); !ok {
					bad = append(bad, p+"/_destroy")
				}
			default:
				if fd.subform == nil {
					continue
				}
				if sub, ok := fd.subform.fields[k]; ok {
					bad = append(bad, validateValue(p+"/"+k, sub, val)...)
				}
			}
		}
	}
	return bad
}
