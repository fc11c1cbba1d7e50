package mapping

// Schema describes the destination: its fields, their types, whether they
// are required and which values they allow. Build one by hand, or derive one
// from Primero forms and lookups or DHIS2 metadata.
type Schema struct {
	// Fields is keyed by target path, with "[*]" for any list index, e.g.
	// "services_section[*].service_type".
	Fields map[string]Field
}

// Field is one destination field.
type Field struct {
	// Type is the expected output type (see the Type constants); empty
	// means any.
	Type string
	// Required means some rule must fill the field.
	Required bool
	// Allowed lists the allowed values (a lookup's option ids); empty means
	// any value.
	Allowed []string
	// Validate is a validator/v10 tag checked on every value, e.g. "email"
	// or "max=100".
	Validate string
}
