package main

import (
	"fmt"

	"github.com/casebridge/casebridge/primero/primerotest"
)

// Synthetic option ids the seeded fake knows, in the shape of Cambodia's
// CPIMS+ (custom keys carry a hash suffix).
var (
	synthCaseTypes  = []string{"children_undergoing_reintegration_55427", "child_protection_2b1d1"}
	synthPlacements = []string{"kinship_care_8f2a1", "foster_care_4c9e0", "family_reunification_77d3b"}
	synthServices   = []string{"alternative_care", "health", "education_formal", "psychosocial"}
	synthLocations  = []string{"XX0101", "XX0102", "XX02"}
)

// fakeOptions declares the Cambodia deployment's own case fields, which a
// stock Primero (and its fake) does not have, so that the fake renders
// them to the sync's role.
func fakeOptions(more ...primerotest.Option) []primerotest.Option {
	return append([]primerotest.Option{primerotest.WithFields(map[string]string{
		"type_of_case":   "select_box",
		"placement_type": "select_box",
	})}, more...)
}

// seedLookups adds the lookups the dashboard's labels come from.
func seedLookups(s *primerotest.Server) {
	s.AddLookup("lookup-case-type", synthCaseTypes...)
	s.AddLookup("lookup-placement-type", synthPlacements...)
}

// seedCases adds n synthetic cases (names "Test Child N", no real data),
// each with 0 to 2 services; one in ten is disabled.
func seedCases(s *primerotest.Server, from, n int) { seedVariant(s, from, n, 0) }

// seedVariant is seedCases with the values shifted by variant: the same
// ids, other ages, sexes and service types (for re-syncs where every row
// changes).
func seedVariant(s *primerotest.Server, from, n, variant int) {
	for i := from; i < from+n; i++ {
		v := i + variant
		services := []any{}
		for k := 0; k < i%3; k++ {
			svc := map[string]any{
				"unique_id":             synthUUID(i, k+1),
				"service_type":          synthServices[(v+k)%len(synthServices)],
				"service_response_type": "service_provision",
			}
			if k == 0 {
				svc["service_implemented"] = "implemented"
				svc["service_implemented_day_time"] = fmt.Sprintf("2026-0%d-%02dT10:00:00.000Z", 1+i%9, 1+i%28)
			} else {
				svc["service_implemented"] = "not_implemented"
			}
			services = append(services, svc)
		}
		rec := map[string]any{
			"id": synthUUID(i, 0), "case_id": synthUUID(i, 99), "unique_identifier": synthUUID(i, 99),
			"module_id":  "primeromodule-cp",
			"name_first": "Test", "name_last": fmt.Sprintf("Child %d", i),
			"sex": []string{"female", "male"}[v%2], "age": v % 18,
			"date_of_birth":     fmt.Sprintf("%d-%02d-01", 2008+i%18, 1+i%12),
			"telephone_current": "000-000-0000", "address_current": "Synthetic address",
			"location_current":  synthLocations[i%len(synthLocations)],
			"type_of_case":      synthCaseTypes[i%len(synthCaseTypes)],
			"placement_type":    synthPlacements[i%len(synthPlacements)],
			"registration_date": fmt.Sprintf("2025-%02d-%02d", 1+i%12, 1+i%28),
			"consent_reporting": []string{"yes", "no", ""}[i%3],
			"services_section":  services,
			"record_state":      i%10 != 7,
		}
		if i%5 == 0 {
			rec["oscar_number"] = fmt.Sprintf("OSC-%06d", i)
		}
		s.AddCase(rec)
	}
}

// synthUUID is a deterministic, valid-looking UUID for case i, part k.
func synthUUID(i, k int) string {
	return fmt.Sprintf("%08x-0000-4000-8000-%012x", i, k)
}
