package mapping

import (
	"errors"
	"reflect"
	"strings"

	"github.com/go-playground/validator/v10"
)

var structValidator = func() *validator.Validate {
	v := validator.New(validator.WithRequiredStructEnabled())
	v.RegisterTagNameFunc(func(f reflect.StructField) string {
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		switch name {
		case "-":
			return ""
		case "":
			return f.Name
		}
		return name
	})
	return v
}()

// ValidateStruct validates a typed output (a struct with `validate` tags)
// with validator/v10 and converts its errors into the same field-path
// errors Apply returns: Path is the JSON path ("services_section[0].service_type"),
// Code is CodeValidate, Detail the failed tag. Values are never included.
// rule names the mapping or step the struct came from.
func ValidateStruct(rule string, v any) error {
	err := structValidator.Struct(v)
	if err == nil {
		return nil
	}
	var ves validator.ValidationErrors
	if !errors.As(err, &ves) {
		return &FieldError{Rule: rule, Path: "", Code: CodeValidate, Detail: "not a struct"}
	}
	out := make(Errors, 0, len(ves))
	for _, fe := range ves {
		p := fe.Namespace()
		if _, rest, ok := strings.Cut(p, "."); ok {
			p = rest
		}
		out = append(out, &FieldError{Rule: rule, Path: p, Code: CodeValidate, Detail: fe.Tag()})
	}
	return out
}
