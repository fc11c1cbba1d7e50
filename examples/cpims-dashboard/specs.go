package main

import (
	_ "embed"

	"github.com/casebridge/casebridge/mapping"
	"github.com/casebridge/casebridge/sqlsink"
)

//go:embed cases.yaml
var casesSpecYAML []byte

//go:embed services.yaml
var servicesSpecYAML []byte

// caseFields are the fields the sync asks Primero for (fields=): what the
// mappings read and nothing else, so that names, dates of birth and contact
// details never leave Primero. id, enabled and last_updated_at always come
// back. TestRequestedFieldsFeedTheWholeMapping keeps the list in step with
// cases.yaml and services.yaml.
var caseFields = []string{"case_id", "record_state", "status", "age", "sex", "type_of_case",
	"placement_type", "location_current", "consent_reporting", "oscar_number", "registration_date",
	"services_section"}

// compileSpecs parses the embedded specs, fills their run-time tables from
// Primero's configuration and compiles them against the tables' columns.
func compileSpecs(ref *reference) (cases, services *mapping.Mapping, err error) {
	compile := func(name string, data []byte, t sqlsink.Table) (*mapping.Mapping, error) {
		spec, err := mapping.ParseYAML(name, data)
		if err != nil {
			return nil, err
		}
		ref.fill(spec)
		schema := &mapping.Schema{Fields: map[string]mapping.Field{}}
		for _, c := range t.Columns {
			schema.Fields[c.Name] = mapping.Field{}
		}
		return mapping.Compile(spec, mapping.WithSchema(schema))
	}
	if cases, err = compile("cases.yaml", casesSpecYAML, casesTable); err != nil {
		return nil, nil, err
	}
	if services, err = compile("services.yaml", servicesSpecYAML, servicesTable); err != nil {
		return nil, nil, err
	}
	return cases, services, nil
}
