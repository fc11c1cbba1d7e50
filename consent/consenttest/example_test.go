package consenttest_test

import (
	"fmt"

	"github.com/casebridge/casebridge/consent/consenttest"
	"github.com/casebridge/casebridge/mapping"
)

func ExampleScan() {
	rec := mapping.Record{
		"case_id":       "803-00000001",
		"name_first":    "Testname",
		"date_of_birth": "2014-03-07",
	}
	logLine := `level=INFO msg="sent case 803-00000001" dob=07/03/2014`
	for _, l := range consenttest.Scan(rec, []string{"name_first", "date_of_birth"}, logLine) {
		fmt.Println(l)
	}
	// Output:
	// field date_of_birth leaked in text 0 at offset 44 (form 02/01/2006)
}
