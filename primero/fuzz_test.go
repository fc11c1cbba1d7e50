package primero_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/casebridge/casebridge/primero"
)

func fuzzClient(t testing.TB) *primero.Client {
	c, err := primero.New("http://127.0.0.1:1", primero.WithBasicAuth("u", "p"), primero.WithFilterableFields("x_custom"))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// FuzzFilterRendering checks that whatever the input, a filter either is
// refused with a *ValidationError or renders a query Primero reads as
// intended: only filterable names, no empty value, no "..b" range.
func FuzzFilterRendering(f *testing.F) {
	for _, s := range []struct {
		kind        uint8
		field, a, b string
		lo, hi      int
	}{
		{0, "sex", "male", "female", 0, 0}, {1, "age", "", "", 0, 17}, {2, "last_updated_at", "", "", 0, 0},
		{3, "location_current", "XX01", "", 0, 0}, {4, "status", "open", "closed", 0, 0},
		{5, "age", "..5", "", 0, 0}, {6, "sexx", "male", "", 0, 0}, {0, "case_id", "a,b", "", 0, 0},
		{7, "x_custom", "1..", "", 0, 0}, {0, "", "", "", 0, 0}, {5, "or", "x", "", 0, 0},
	} {
		f.Add(s.kind, s.field, s.a, s.b, s.lo, s.hi)
	}
	c := fuzzClient(f)
	f.Fuzz(func(t *testing.T, kind uint8, field, a, b string, lo, hi int) {
		var flt primero.Filter
		switch kind % 8 {
		case 0:
			flt = primero.Eq(field, a, b)
		case 1:
			flt = primero.IntRange(field, lo, hi)
		case 2:
			flt = primero.TimeSince(field, time.Unix(int64(lo), 0))
		case 3:
			flt = primero.Loc(field, a)
		case 4:
			flt = primero.Or(primero.Eq(field, a), primero.Eq(b, a))
		case 5:
			flt = primero.Raw(field, a)
		case 6:
			flt = primero.Not(primero.Eq(field, a))
		case 7:
			flt = primero.BoolFilter(field, lo%2 == 0)
		}
		qs, err := c.RenderFilters(flt)
		if err != nil {
			var ve *primero.ValidationError
			if !errors.As(err, &ve) || len(ve.Fields) == 0 {
				t.Fatalf("refusal is not a ValidationError naming fields: %v", err)
			}
			return
		}
		q, perr := url.ParseQuery(qs)
		if perr != nil {
			t.Fatalf("rendered query does not parse: %v", perr)
		}
		if len(q) == 0 {
			t.Fatal("accepted filter rendered nothing")
		}
		for k, vs := range q {
			name := strings.TrimPrefix(k, "loc:")
			if i := strings.IndexByte(name, '['); i >= 0 {
				if !strings.HasSuffix(name, "]") {
					t.Fatalf("malformed key %q", k)
				}
				prefix := name[:i]
				if prefix != "or" && prefix != "not" {
					t.Fatalf("unexpected group %q", k)
				}
				name = name[i+1 : len(name)-1]
			}
			if !c.IsFilterable(name) {
				t.Fatalf("rendered unknown filter %q", name)
			}
			for _, v := range vs {
				if v == "" || strings.HasPrefix(v, "..") {
					t.Fatalf("rendered empty or open-below value for %q", k)
				}
			}
		}
	})
}

// FuzzDecodeCase checks that any JSON object decodes into a Case that
// re-encodes to the same object (nothing lost, nothing invented).
func FuzzDecodeCase(f *testing.F) {
	for _, s := range []string{
		`{"id":"a","age":12,"sex":"male","consent_for_services":true,"created_at":"2025-09-27T12:27:09.520Z"}`,
		`{"age":12.0,"name_first":null,"services_section":[{"unique_id":"x","service_status_referred":false,"y":[1,2]}]}`,
		`{"assigned_user_names":["a",1],"last_updated_at":"2025-01-01","enabled":"true","age":-0}`,
		`{"services_section":[1,2],"x":{"nested":{"a":1e400}}}`,
		`{"age":99999999999999999999999,"status":"","record_state":false}`,
		// A malformed row must not cost the valid rows their fields.
		`{"services_section":[{"unique_id":"u1","service_type":"x"},null]}`,
		`{"services_section":[{"unique_id":"u1","service_status_referred":true},"row",{"service_type":"y"}]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		var orig map[string]any
		d := json.NewDecoder(bytes.NewReader(in))
		d.UseNumber()
		if d.Decode(&orig) != nil || orig == nil || d.More() {
			return
		}
		var c primero.Case
		if err := json.Unmarshal(in, &c); err != nil {
			return // e.g. trailing data the generic decoder stopped before
		}
		out, err := json.Marshal(c)
		if err != nil {
			t.Fatalf("re-encoding failed: %v", err)
		}
		var again map[string]any
		d = json.NewDecoder(bytes.NewReader(out))
		d.UseNumber()
		if err := d.Decode(&again); err != nil {
			t.Fatalf("re-encoded JSON invalid: %v", err)
		}
		o1, _ := json.Marshal(orig)
		o2, _ := json.Marshal(again)
		if !bytes.Equal(o1, o2) {
			t.Fatalf("round trip changed the case:\n%s\n%s", o1, o2)
		}
		// The mapping.Record path (what a dashboard sync writes) keeps it too.
		back, err := primero.FromRecord(c.ToRecord())
		if err != nil {
			t.Fatalf("FromRecord(ToRecord) failed: %v", err)
		}
		o3, err := json.Marshal(back)
		if err != nil {
			t.Fatalf("re-encoding after FromRecord failed: %v", err)
		}
		if !bytes.Equal(out, o3) {
			t.Fatalf("record round trip changed the case:\n%s\n%s", out, o3)
		}
	})
}

// FuzzDecodeErrorBody checks that any error body decodes without panic,
// keeps the status mapping, and never echoes a non-JSON body.
func FuzzDecodeErrorBody(f *testing.F) {
	for _, s := range []string{
		`{"errors":[{"status":422,"resource":"/api/v2/cases","message":["transition.errors.consent"],"detail":"consent"}]}`,
		`{"errors":[{"code":"404","message":"Not Found","detail":["/age"]}]}`,
		`{"error":"Invalid User name or password."}`, "Retry later\n", `{"errors":"x"}`, `[]`, ``,
		`{"errors":[{"status":{"a":1},"message":[1,{"b":2}],"detail":null}]}`,
		`{"errors":[{"status":422,"message":["Test Child 1 +000 0000 0001"],"detail":["/name_first","Test Child 1"]}]}`,
	} {
		f.Add(422, []byte(s))
	}
	f.Fuzz(func(t *testing.T, status int, body []byte) {
		if status < 400 || status > 599 {
			status = 400 + (status%200+200)%200
		}
		e := primero.DecodeErrorBody(status, body)
		msg := e.Error()
		if e.PlainText && len(body) > 8 && strings.Contains(msg, string(body)) {
			t.Fatal("plain-text body echoed in the error")
		}
		// A server text that is neither a code nor a field reference is
		// never printed (short ones could match the fixed text by chance).
		for _, d := range e.ServerErrors() {
			for _, m := range append(append([]string{}, d.Message...), d.Detail...) {
				if len(m) >= 8 && !slices.Contains(e.Codes, m) && !slices.Contains(e.Fields, m) && strings.Contains(msg, m) {
					t.Fatalf("server text %q echoed in %q", m, msg)
				}
			}
		}
		if status == 404 && !errors.Is(e, primero.ErrNotFound) {
			t.Fatal("404 does not map to ErrNotFound")
		}
	})
}
