package mapping

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSchemaTypeDrivesCoercion(t *testing.T) {
	schema := &Schema{Fields: map[string]Field{"age": {Type: TypeInt}, "ok": {Type: TypeBool}}}
	m := mustCompile(t, &Spec{Name: "s", Rules: []Rule{
		{Target: "age", Sources: []string{"age"}},
		{Target: "ok", Constant: "yes"},
	}}, WithSchema(schema))
	out, err := m.Apply(context.Background(), Record{"age": "12"})
	require.NoError(t, err)
	assert.Equal(t, Record{"age": 12, "ok": true}, out)
	_, err = m.Apply(context.Background(), Record{"age": "twelve"})
	var fe *FieldError
	require.ErrorAs(t, err, &fe)
	assert.Equal(t, CodeInvalidType, fe.Code)
}

func TestSchemaValidatesValuesAtApply(t *testing.T) {
	schema := &Schema{Fields: map[string]Field{
		"email":     {Validate: "email"},
		"sex":       {Allowed: []string{"female", "male"}},
		"rows[*].n": {Validate: "max=10"},
	}}
	m := mustCompile(t, &Spec{Name: "v", Tables: []Table{{Name: "pass", Unknown: UnknownPass}}, Rules: []Rule{
		{Target: "email", Sources: []string{"email"}},
		{Target: "sex", Sources: []string{"sex"}, Table: "pass"},
		{Target: "rows[*].n", Sources: []string{"in[*]"}, Type: TypeInt},
	}}, WithSchema(schema))
	out, err := m.Apply(context.Background(), Record{"email": "a@example.org", "sex": "female", "in": []any{1.0, 2.0}})
	require.NoError(t, err)
	assert.Equal(t, "female", out["sex"])

	_, err = m.ApplyAll(context.Background(), Record{"email": "SyntheticNotAnEmail", "sex": "other", "in": []any{1.0, 11.0}})
	var es Errors
	require.ErrorAs(t, err, &es)
	require.Len(t, es, 3)
	assert.Equal(t, FieldError{Rule: "email", Path: "email", Source: "email", Code: CodeValidate, Detail: "email"}, *es[0])
	assert.Equal(t, CodeNotAllowed, es[1].Code)
	assert.Equal(t, "rows[1].n", es[2].Path)
	assert.Equal(t, "max", es[2].Detail)
	assert.NotContains(t, err.Error(), "SyntheticNotAnEmail")
}

type typedService struct {
	ServiceType string `json:"service_type" validate:"required,oneof=alternative_care food"`
}

type typedCase struct {
	NameFirst string         `json:"name_first" validate:"required"`
	Email     string         `json:"email" validate:"omitempty,email"`
	Services  []typedService `json:"services_section" validate:"dive"`
}

func TestValidateStructGivesFieldPathErrors(t *testing.T) {
	require.NoError(t, ValidateStruct("case", typedCase{NameFirst: "Test", Services: []typedService{{ServiceType: "food"}}}))
	err := ValidateStruct("case", typedCase{Email: "SyntheticBad", Services: []typedService{{ServiceType: "food"}, {ServiceType: "medical"}}})
	var es Errors
	require.ErrorAs(t, err, &es)
	got := map[string]string{}
	for _, e := range es {
		assert.Equal(t, "case", e.Rule)
		assert.Equal(t, CodeValidate, e.Code)
		got[e.Path] = e.Detail
	}
	assert.Equal(t, map[string]string{"name_first": "required", "email": "email", "services_section[1].service_type": "oneof"}, got)
	assert.NotContains(t, err.Error(), "SyntheticBad")
	assert.NotContains(t, err.Error(), "medical")
}
