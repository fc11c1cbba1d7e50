package primero

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// genericCasePage is the generic decode of a cases page: encoding/json
// with UseNumber, then caseFromMap, as List did before the fast decoder.
func genericCasePage(b []byte) ([]*Case, bool, *pageMeta, error) {
	var env listEnvelope[map[string]any]
	if err := decodeBody(bytes.NewReader(b), &env); err != nil {
		return nil, false, nil, err
	}
	if env.Data == nil {
		return nil, false, env.Metadata, nil
	}
	out := make([]*Case, len(*env.Data))
	for i, m := range *env.Data {
		out[i] = caseFromMap(m)
	}
	return out, true, env.Metadata, nil
}

// checkFastDecode fails when the fast decoder accepts a page and gives
// anything but what the generic path gives.
func checkFastDecode(t *testing.T, body []byte) (accepted bool) {
	t.Helper()
	cases, hasData, meta, err := decodeCasePage(body)
	if err != nil {
		require.ErrorIs(t, err, errFastDecode)
		return false
	}
	gcases, ghas, gmeta, gerr := genericCasePage(body)
	require.NoError(t, gerr, "the fast decoder accepted what encoding/json refuses")
	require.Equal(t, ghas, hasData)
	require.Equal(t, gmeta, meta)
	require.Equal(t, gcases, cases)
	for i := range cases { // and they re-encode alike
		a, aerr := json.Marshal(cases[i])
		b, berr := json.Marshal(gcases[i])
		require.Equal(t, berr, aerr)
		require.Equal(t, string(b), string(a))
		require.Equal(t, gcases[i].AsRecord(), cases[i].AsRecord())
	}
	return true
}

var casePageSeeds = []string{
	`{"data":[],"metadata":{"total":0,"per":20,"page":1}}`,
	`{"data":[{"id":"a","case_id":"c1","age":12,"sex":"male","consent_for_services":true,"created_at":"2025-09-27T12:27:09.520Z",` +
		`"last_updated_at":"2025-09-27T12:27:09.52Z","registration_date":"2025-01-02","record_state":true,` +
		`"assigned_user_names":["u1","u2"],"type_of_case":"t1","services_section":[{"unique_id":"s1","service_type":"x",` +
		`"service_implemented_day_time":"2025-02-03T00:00:00.000Z","z":[1,2.5,-0,1e3]}]}],"metadata":{"total":"1","per":1000,"page":1}}`,
	`{"metadata":{"total":1},"data":[{"age":12.0,"name_first":null,"services_section":[{"unique_id":"x","service_status_referred":false}]}]}`,
	`{"data":[{"assigned_user_names":["a",1],"last_updated_at":"2025-01-01","enabled":"true","age":-0}]}`,
	`{"data":[{"services_section":[1,2],"x":{"nested":{"a":1e400}}}]}`,
	`{"data":[{"age":99999999999999999999999,"status":"","record_state":false}]}`,
	`{"data":[{"services_section":[{"unique_id":"u1","service_type":"x"},null]}]}`,
	`{"data":[{"name":"Test \u00e9 \"Child\" 1","k\u00e9y":"v","x":"a\\b"}],"metadata":null}`,
	"{\"data\":[{\"name\":\"\xff\xfe\",\"x\":\"\xc3\xa9\"}]}",
	`{"data":[{"x":1,"x":2,"id":"a"}],"metadata":{"total":1}}`,
	`{"data":[{"id":"a","id":"b"}]}`,
	`{"data":[],"data":[{"id":"a"}]}`,
	`{"DATA":[{"id":"a"}]}`,
	`{"data":null,"metadata":{"total":0}}`,
	`{"data":[null]}`,
	`{"data":{"id":"a"}}`,
	`{"data":[{"id":"a"}],"metadata":5}`,
	`{"data":[{"id":"a"}]} trailing`,
	` { "data" : [ { "id" : "a" , "t" : true , "f" : false , "n" : null } ] , "other" : {"a":[1,{}]} } `,
	`{"data":[{"last_updated_at":"2025-09-27T12:27:09Z","created_at":"2025-09-27T12:27:09.520000Z"}]}`,
	`{"data":[{"created_at":"2025-09-27T12:27:09.520+02:00","last_updated_at":"2025-09-27t12:27:09Z"}]}`,
	`{"data":[{"services_section":[]}, {"services_section":null}, {"services_section":"x"}]}`,
	`{"data":[{"services_section":[{"unique_id":"u1","unique_id":"u2"}]}]}`,
	`{"data":[{"services_section":[{"x":1,"x":2,"service_type":""},{}]}]}`,
	`{"data":[{"services_section":[{"unique\u005fid":"u1"}]}]}`,
	`{"data":[{"services_section":[{"unique_id":"u1"}],"services_section":[]}]}`,
	`{"data":[{"id":"a"}`, `{"data":[01]}`, `{"data":[{"a":tru}]}`, ``, `null`, `[]`, `{"data":[{"a":"\ud800"}]}`,
}

// TestFastCaseDecodeMatchesGeneric checks that the fast decoder of cases
// pages gives the same cases, Fields, layouts and metadata as the generic
// encoding/json path, on typical and on odd pages, and that the odd pages
// it does not handle it leaves to the generic path.
func TestFastCaseDecodeMatchesGeneric(t *testing.T) {
	accepted := 0
	for i, s := range casePageSeeds {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			if checkFastDecode(t, []byte(s)) {
				accepted++
			}
		})
	}
	// The usual pages take the fast path (else it would measure nothing).
	require.GreaterOrEqual(t, accepted, 12)
	_, _, _, err := decodeCasePage([]byte(casePageSeeds[1]))
	require.NoError(t, err)
}

// TestFastCaseDecodeDeepNesting leaves deep nesting to encoding/json.
func TestFastCaseDecodeDeepNesting(t *testing.T) {
	deep := `{"data":[{"x":` + strings.Repeat("[", maxFastDepth+1) + strings.Repeat("]", maxFastDepth+1) + `}]}`
	_, _, _, err := decodeCasePage([]byte(deep))
	require.ErrorIs(t, err, errFastDecode)
	cases, _, _, err := genericCasePage([]byte(deep))
	require.NoError(t, err)
	require.Len(t, cases, 1)
}

// FuzzFastCaseDecode: whatever the fast decoder accepts, it decodes as the
// generic path does.
func FuzzFastCaseDecode(f *testing.F) {
	for _, s := range casePageSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) { checkFastDecode(t, body) })
}

// TestParseTimeExactMatchesEveryLayoutInOrder checks the guessed layout
// against trying each layout in order, as the time codec did before.
func TestParseTimeExactMatchesEveryLayoutInOrder(t *testing.T) {
	for _, s := range []string{"2025-09-27T12:27:09.520Z", "2025-09-27T12:27:09.52Z", "2025-09-27T12:27:09Z",
		"2025-09-27T12:27:09.520000Z", "2025-09-27T12:27:09.000Z", "2025-09-27T12:27:09.5+02:00",
		"2025-09-27T12:27:09.520+02:00", "2025-09-27T12:27:09.1234567890Z", "2025-09-27T12:27:09.50Z",
		"2025-09-27", "2025-09-27T12:27:09.Z", "2025-09-27t12:27:09Z", "2025-09-27T12:27:09.123456789Z", "x.1"} {
		want, wantOK := -1, false
		for i, layout := range timeLayouts {
			if tm, err := time.Parse(layout, s); err == nil && tm.Format(layout) == s {
				want, wantOK = i, true
				break
			}
		}
		got, ok := parseTimeExact(s)
		require.Equal(t, wantOK, ok, s)
		if ok {
			require.Equal(t, want, got, s)
		}
	}
}
