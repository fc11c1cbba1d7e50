package main

import "github.com/casebridge/casebridge/sqlsink"

// The dashboard's tables. Every row carries its source (the Primero
// instance it came from), so that several instances share one database
// without their keys colliding. Keys are Primero's stable ones (case_id,
// the service's unique_id), or their keyed pseudonyms, never display ids
// (pitfall 7).

// casesTable holds one row per case, marked enabled = false once the case
// is disabled in Primero.
var casesTable = sqlsink.Table{
	Name: "cases",
	Columns: []sqlsink.Column{
		{Name: "source", Type: sqlsink.Text},
		{Name: "case_key", Type: sqlsink.Text}, // see keyType
		{Name: "enabled", Type: sqlsink.Bool, NotNull: true},
		{Name: "status", Type: sqlsink.Text},
		{Name: "age", Type: sqlsink.Integer},
		{Name: "sex", Type: sqlsink.Text},
		{Name: "sex_label", Type: sqlsink.Text},
		{Name: "case_type", Type: sqlsink.Text},
		{Name: "case_type_label", Type: sqlsink.Text},
		{Name: "placement_type", Type: sqlsink.Text},
		{Name: "placement_type_label", Type: sqlsink.Text},
		{Name: "location_code", Type: sqlsink.Text},
		{Name: "province_code", Type: sqlsink.Text},
		{Name: "province", Type: sqlsink.Text},
		{Name: "district_code", Type: sqlsink.Text},
		{Name: "district", Type: sqlsink.Text},
		{Name: "consent_for_reporting", Type: sqlsink.Bool},
		{Name: "case_source", Type: sqlsink.Text},
		{Name: "registration_date", Type: sqlsink.Date},
		{Name: "primero_updated_at", Type: sqlsink.Timestamp, NotNull: true},
	},
	Key: []string{"source", "case_key"},
}

// servicesTable holds one row per service of an enabled case. A re-sync of
// a case replaces its rows: rows of services removed from the case, and
// every row of a disabled case, are deleted.
var servicesTable = sqlsink.Table{
	Name: "services",
	Columns: []sqlsink.Column{
		{Name: "source", Type: sqlsink.Text},
		{Name: "service_key", Type: sqlsink.Text},
		{Name: "case_key", Type: sqlsink.Text, NotNull: true},
		{Name: "service_type", Type: sqlsink.Text},
		{Name: "service_type_label", Type: sqlsink.Text},
		{Name: "implemented", Type: sqlsink.Bool},
		{Name: "service_date", Type: sqlsink.Date},
		// case_updated_at is the case version the row was written from;
		// rows of an older version are the stale ones.
		{Name: "case_updated_at", Type: sqlsink.Timestamp, NotNull: true},
	},
	Key:     []string{"source", "service_key"},
	Indexes: []sqlsink.Index{{Columns: []string{"source", "case_key"}}},
}

// locationsTable is the location lookup the dashboard joins on: every
// Primero location with its province and district, from the location tree.
var locationsTable = sqlsink.Table{
	Name: "locations",
	Columns: []sqlsink.Column{
		{Name: "source", Type: sqlsink.Text},
		{Name: "code", Type: sqlsink.Text},
		{Name: "name", Type: sqlsink.Text},
		{Name: "type", Type: sqlsink.Text},
		{Name: "admin_level", Type: sqlsink.Integer},
		{Name: "province_code", Type: sqlsink.Text},
		{Name: "province", Type: sqlsink.Text},
		{Name: "district_code", Type: sqlsink.Text},
		{Name: "district", Type: sqlsink.Text},
		{Name: "disabled", Type: sqlsink.Bool, NotNull: true},
	},
	Key: []string{"source", "code"},
}

// keyType is the type of the key columns (case_key, service_key): Primero's
// ids are UUIDs (so a dashboard whose tables key on a uuid column, as the
// Ministry's do, is written as it is), pseudonyms are hex text.
func keyType(p *pseudonymizer) sqlsink.Type {
	if p == nil {
		return sqlsink.UUID
	}
	return sqlsink.Text
}

// withKeyType returns t with its case_key and service_key columns of type typ.
func withKeyType(t sqlsink.Table, typ sqlsink.Type) sqlsink.Table {
	t.Columns = append([]sqlsink.Column(nil), t.Columns...)
	for i, c := range t.Columns {
		if c.Name == "case_key" || c.Name == "service_key" {
			t.Columns[i].Type = typ
		}
	}
	return t
}
