package primero

import "testing"

// BenchmarkAsRecord converts a decoded case of the dashboard's shape (a
// dozen fields, two services) into a record.
func BenchmarkAsRecord(b *testing.B) {
	page := []byte(`{"data":[{"id":"0c2f7a3e-0000-4000-8000-000000000001","case_id":"0c2f7a3e-0000-4000-8000-000000000002",` +
		`"record_state":true,"enabled":true,"status":"open","age":12,"sex":"female","type_of_case":"t1","placement_type":"p1",` +
		`"location_current":"XX0101","consent_reporting":"yes","registration_date":"2025-01-02",` +
		`"last_updated_at":"2025-09-27T12:27:09.520Z","services_section":[` +
		`{"unique_id":"s1","service_type":"x","service_implemented":"implemented","service_implemented_day_time":"2025-02-03T00:00:00.000Z"},` +
		`{"unique_id":"s2","service_type":"y","service_implemented_day_time":"2025-02-04T00:00:00.000Z"}]}],"metadata":{"total":1,"per":1,"page":1}}`)
	cases, _, _, err := decodeCasePage(page)
	if err != nil {
		b.Fatal(err)
	}
	c := cases[0]
	b.ReportAllocs()
	for b.Loop() {
		_ = c.AsRecord()
	}
}

// BenchmarkDecodeCasePage decodes the same page, fast and generic.
func BenchmarkDecodeCasePage(b *testing.B) {
	for _, s := range casePageSeeds[1:2] {
		body := []byte(s)
		b.Run("fast", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, _, _, err := decodeCasePage(body); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run("generic", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, _, _, err := genericCasePage(body); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
