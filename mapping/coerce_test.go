package mapping

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestCoercions(t *testing.T) {
	cases := []struct {
		typ  string
		in   any
		want any
		code string
	}{
		{TypeString, "x", "x", ""},
		{TypeString, 2.5, "2.5", ""},
		{TypeString, json.Number("12"), "12", ""},
		{TypeString, int64(-3), "-3", ""},
		{TypeString, true, "true", ""},
		{TypeString, time.Date(2020, 1, 2, 3, 4, 5, 0, time.UTC), "2020-01-02T03:04:05Z", ""},
		{TypeString, map[string]any{}, nil, CodeInvalidType},
		{TypeInt, 3.0, 3, ""},
		{TypeInt, 3.5, nil, CodeInvalidType},
		{TypeInt, json.Number("7"), 7, ""},
		{TypeInt, json.Number("7.5"), nil, CodeInvalidType},
		{TypeInt, int64(9), 9, ""},
		{TypeInt, " 12 ", 12, ""},
		{TypeInt, true, nil, CodeInvalidType},
		{TypeFloat, 1, 1.0, ""},
		{TypeFloat, int64(2), 2.0, ""},
		{TypeFloat, json.Number("2.25"), 2.25, ""},
		{TypeFloat, "NaN", nil, CodeInvalidType},
		{TypeFloat, "x", nil, CodeInvalidType},
		{TypeFloat, false, nil, CodeInvalidType},
		{TypeBool, "True", true, ""},
		{TypeBool, " no ", false, ""},
		{TypeBool, 0, false, ""},
		{TypeBool, 1, true, ""},
		{TypeBool, 2.0, nil, CodeInvalidType},
		{TypeBool, json.Number("1"), true, ""},
		{TypeBool, "maybe", nil, CodeInvalidType},
		{TypeInt, []any{"1", 2.0}, []any{1, 2}, ""},
		{TypeInt, []any{"1", "x"}, nil, CodeInvalidType},
		{TypeList, []string{"a"}, []any{"a"}, ""},
		{TypeDate, time.Date(2020, 2, 29, 23, 0, 0, 0, time.UTC), "2020-02-29", ""},
		{TypeDate, "2020-02-30", nil, CodeInvalidDate},
		{TypeDate, 20200229.0, nil, CodeInvalidDate},
		{TypeDatetime, "2020-02-29T10:00:00+00:00", "2020-02-29T10:00:00Z", ""},
		{TypeDatetime, "2020-02-29T10:00:00.5Z", "2020-02-29T10:00:00Z", ""},
		{TypeDatetime, "2020-02-29T10:00:00+03:00", "2020-02-29T10:00:00+03:00", ""},
		{TypeDatetime, "2020-02-29", "2020-02-29T00:00:00Z", ""},
	}
	for _, tc := range cases {
		c := newCoercer(&Rule{Type: tc.typ})
		got, code := c.coerce(tc.in)
		assert.Equal(t, tc.code, code, "%s %#v", tc.typ, tc.in)
		if tc.code == "" {
			assert.Equal(t, tc.want, got, "%s %#v", tc.typ, tc.in)
		}
	}
}

func TestAppendTimeMatchesFormat(t *testing.T) {
	zones := []*time.Location{time.UTC, time.FixedZone("west", -11*3600), time.FixedZone("east", 14*3600)}
	for _, y := range []int{-10000, -1, 0, 7, 99, 999, 1000, 2024, 9999, 10000, 123456} {
		for _, m := range []time.Month{1, 2, 9, 10, 12} {
			for _, d := range []int{1, 9, 10, 28} {
				for _, loc := range zones {
					tm := time.Date(y, m, d, 23, 59, 59, 0, loc)
					for _, layout := range []string{"2006-01-02", time.RFC3339, "02/01/2006"} {
						assert.Equal(t, tm.Format(layout), string(appendTime(nil, tm, layout)), "%v %s", tm, layout)
					}
				}
			}
		}
	}
}

func TestPathParsing(t *testing.T) {
	good := map[string]string{
		"a":              "a",
		"a.b[0].c":       "a.b[*].c",
		"a[*]":           "a[*]",
		"a[1][2]":        "a[*][*]",
		"x.y z.w":        "x.y z.w",
		"rows[*].when.x": "rows[*].when.x",
	}
	for in, norm := range good {
		p, err := parsePath(in)
		if assert.NoError(t, err, in) {
			assert.Equal(t, norm, p.normalized(), in)
		}
	}
	for _, bad := range []string{"", " ", "a.", ".a", "a..b", "a[", "a[x]", "a[-1]", "a]", "a[0]b", "a[*]."} {
		_, err := parsePath(bad)
		assert.Error(t, err, "%q", bad)
	}
}

func TestPathPrefersLongestFlattenedKey(t *testing.T) {
	p, err := parsePath("a.b.c")
	assert.NoError(t, err)
	v, ok := p.get(Record{"a.b": map[string]any{"c": "flat"}, "a": map[string]any{"b": map[string]any{"c": "nested"}}})
	assert.True(t, ok)
	assert.Equal(t, "flat", v, "the longest run of segments naming a key wins")
	v, ok = p.get(Record{"a": map[string]any{"b.c": "inner flat"}})
	assert.True(t, ok)
	assert.Equal(t, "inner flat", v)
}
