package primerotest

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
)

func listNames(t *testing.T, s *Server, query string, opts ...reqOpt) []string {
	t.Helper()
	r := call(t, s, http.MethodGet, "/api/v2/cases?order_by=created_at&order=asc&"+query, nil, opts...)
	return names(r.list(t))
}

func TestRangeEdgeCases(t *testing.T) {
	s := filterFixture(t)
	all := []string{"A", "B", "C", "D", "E"}
	assert.Equal(t, all, listNames(t, s, "age=-1..10"), "a negative lower bound stays text: the range is dropped")
	assert.Equal(t, all, listNames(t, s, "age=1.5..10"), "a decimal lower bound is dropped too")
	assert.Equal(t, all, listNames(t, s, "age=..10"), "..b is dropped")
	assert.Empty(t, listNames(t, s, "age=12.."), "a..: compared with NULL on a srch_ integer column")
	assert.Equal(t, []string{"B", "D"}, listNames(t, s, "age=12..99"))
}

func TestBooleanFalseMatchesMissingField(t *testing.T) {
	s := filterFixture(t)
	// A has consent_for_services true, B false, C-E lack it.
	assert.Equal(t, []string{"B", "C", "D", "E"}, listNames(t, s, "consent_for_services=false"))
	// record_state has a srch_ column: false matches a stored false only.
	s.AddCase(map[string]any{"name_last": "F", "record_state": false, "created_at": "2024-05-01T00:00:00.000Z"})
	assert.Equal(t, []string{"F"}, listNames(t, s, "record_state=false"))
}

func TestDateOnlyUpperBoundOnTimestampColumnEndsAtMidnight(t *testing.T) {
	s := filterFixture(t)
	// B was created 2024-01-31T23:59:59.
	assert.Equal(t, []string{"A"}, listNames(t, s, "created_at=2024-01-01..2024-01-31"),
		"created_at has a timestamp column: the end date means 00:00")
	assert.Equal(t, []string{"A", "B"}, listNames(t, s, "created_at=2024-01-01..2024-01-31T23:59:59.500Z"))
	assert.Equal(t, []string{"A", "B"}, listNames(t, s, "last_updated_at=2024-01-01..2024-01-31"),
		"last_updated_at has none: dates compare as dates, the end day counts whole")
}

func TestLastUpdatedAtComparesWholeSeconds(t *testing.T) {
	s := NewServer(t)
	s.AddCase(map[string]any{"name_last": "A", "last_updated_at": "2025-03-01T10:00:00.200Z"})
	s.AddCase(map[string]any{"name_last": "B", "last_updated_at": "2025-03-01T09:59:59.900Z"})
	assert.Equal(t, []string{"A"}, listNames(t, s, "last_updated_at=2025-03-01T10:00:00.500Z.."),
		"10:00:00.200 matches a bound of 10:00:00.500: both are cut to the second")
}

func TestOrderDirectionAndMissingValues(t *testing.T) {
	s := filterFixture(t)
	get := func(q string) []string {
		return names(call(t, s, http.MethodGet, "/api/v2/cases?"+q, nil).list(t))
	}
	assert.Equal(t, []string{"E", "D", "C", "B", "A"}, get("order=DESC"), "DESC is accepted")
	assert.Equal(t, []string{"A", "B", "C", "D", "E"}, get("order=Desc"), "anything else is asc")
	// E has no age: last ascending, first descending.
	assert.Equal(t, []string{"A", "C", "D", "B", "E"}, get("order_by=age&order=asc"))
	assert.Equal(t, []string{"E", "B", "D", "C", "A"}, get("order_by=age&order=desc"))
}
