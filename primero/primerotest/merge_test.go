package primerotest

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestMergeRecord(t *testing.T) {
	tests := []struct {
		name          string
		stored, patch string
		want          string
	}{
		{"scalar replaced", `{"a":1,"b":2}`, `{"a":3}`, `{"a":3,"b":2}`},
		{"null sets null", `{"a":1}`, `{"a":null}`, `{"a":null}`},
		{"multi-select replaced", `{"m":["x","y"]}`, `{"m":["z"]}`, `{"m":["z"]}`},
		{"multi-select cleared", `{"m":["x"]}`, `{"m":[]}`, `{"m":[]}`},
		{"nested object deep-merged", `{"o":{"a":1,"b":2}}`, `{"o":{"b":3}}`, `{"o":{"a":1,"b":3}}`},
		{"subform element merged by unique_id", `{"s":[{"unique_id":"u1","a":1,"b":1}]}`, `{"s":[{"unique_id":"u1","b":2}]}`, `{"s":[{"unique_id":"u1","a":1,"b":2}]}`},
		{"subform element destroyed", `{"s":[{"unique_id":"u1"},{"unique_id":"u2"}]}`, `{"s":[{"unique_id":"u1","_destroy":true}]}`, `{"s":[{"unique_id":"u2"}]}`},
		{"subform new unique_id appended", `{"s":[{"unique_id":"u1"}]}`, `{"s":[{"unique_id":"u2","a":1}]}`, `{"s":[{"unique_id":"u1"},{"unique_id":"u2","a":1}]}`},
		{"subform [] is a no-op", `{"s":[{"unique_id":"u1"}]}`, `{"s":[]}`, `{"s":[{"unique_id":"u1"}]}`},
		{"destroy unknown ignored", `{"s":[{"unique_id":"u1"}]}`, `{"s":[{"unique_id":"u9","_destroy":true}]}`, `{"s":[{"unique_id":"u1"}]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stored, patch, want map[string]any
			require.NoError(t, json.Unmarshal([]byte(tt.stored), &stored))
			require.NoError(t, json.Unmarshal([]byte(tt.patch), &patch))
			require.NoError(t, json.Unmarshal([]byte(tt.want), &want))
			mergeRecord(stored, patch, map[string]bool{"s": true})
			assert.Equal(t, want, stored)
		})
	}
}

func FuzzWriteBody(f *testing.F) {
	for _, seed := range []string{`{"data":{"age":3}}`, `{"data":{"services_section":[{"unique_id":"x","_destroy":1}]}}`,
		`{"data":{"o":{"a":[1,{"b":2}]}}}`, `{"data":[]}`, `{}`, `nope`, `{"data":{"services_section":[]}}`,
		`{"data":{"date_of_birth":"2015-02-30","status":null,"nationality":[1]}}`} {
		f.Add(seed)
	}
	s, err := Start()
	if err != nil {
		f.Fatal(err)
	}
	defer s.Close()
	f.Fuzz(func(t *testing.T, body string) {
		data, err := decodeData([]byte(body))
		if err != nil {
			return
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		v := s.viewFor(s.users[DefaultUser], "primeromodule-cp")
		permitted := v.permit(data, false)
		_ = v.validate(permitted)
		stored := map[string]any{"services_section": []any{map[string]any{"unique_id": "x"}}, "o": map[string]any{"a": 1.0}}
		mergeRecord(stored, permitted, s.schema().subforms)
		if _, err := appendJSON(nil, stored); err != nil {
			t.Fatalf("merged record does not encode: %v", err)
		}
	})
}

func TestAppendJSONMatchesEncodingJSON(t *testing.T) {
	v := map[string]any{"s": "plain", "esc": "quote\" <tag> & \n é", "n": 12.0, "f": 1.5, "big": 1e22,
		"b": true, "nil": nil, "arr": []any{"x", 2.0, map[string]any{"z": 1.0, "a": false}}}
	got, err := appendJSON(nil, v)
	require.NoError(t, err)
	want, err := json.Marshal(v)
	require.NoError(t, err)
	assert.Equal(t, string(want), string(got))
}
