package transport_test

import (
	"fmt"

	"github.com/casebridge/casebridge/internal/transport"
)

// RedactURL keeps paging parameters and replaces credentials and filter
// values, which may be personal data.
func ExampleRedactURL() {
	fmt.Println(transport.RedactURLString("https://svc:pw@primero.example/api/v2/cases?page=2&per=100&name_first=Test&token=abc"))
	// Output: https://primero.example/api/v2/cases?name_first=REDACTED&page=2&per=100&token=REDACTED
}

// A ValidationError names fields by path and never quotes their values.
func ExampleValidationError() {
	v := &transport.ValidationError{}
	v.Add("data.date_of_birth", "must be a date (YYYY-MM-DD)")
	v.Add("services_section[0].unique_id", "must be a UUID")
	fmt.Println(v.Err())
	// Output: validation failed: data.date_of_birth: must be a date (YYYY-MM-DD); services_section[0].unique_id: must be a UUID
}
