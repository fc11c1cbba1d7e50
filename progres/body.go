package progres

import (
	"bytes"
	"encoding/json"
	"strings"
	"unicode/utf8"

	"github.com/casebridge/casebridge/internal/transport"
)

// maxText bounds a single-line text field sent to a gateway.
const maxText = 1000

// maxMultiline bounds notes and addresses.
const maxMultiline = 20000

// body builds a JSON object in a fixed key order, so that request bodies
// are deterministic.
type body struct {
	buf   bytes.Buffer
	first bool
}

func newBody() *body {
	b := &body{first: true}
	b.buf.WriteByte('{')
	return b
}

// set writes key: value (value encoded with encoding/json).
func (b *body) set(key string, value any) {
	if !b.first {
		b.buf.WriteByte(',')
	}
	b.first = false
	k, _ := json.Marshal(key)
	b.buf.Write(k)
	b.buf.WriteByte(':')
	v, err := json.Marshal(value)
	if err != nil {
		v = []byte("null")
	}
	b.buf.Write(v)
}

// opt writes key: value unless value is empty.
func (b *body) opt(key, value string) {
	if value != "" {
		b.set(key, value)
	}
}

func (b *body) marshal() ([]byte, error) {
	b.buf.WriteByte('}')
	return b.buf.Bytes(), nil
}

// requireText refuses an empty or blank value, or an invalid one.
func requireText(v *ValidationError, path, s string) {
	if strings.TrimSpace(s) == "" {
		v.Add(path, "is required")
		return
	}
	optionalText(v, path, s)
}

// optionalText refuses control characters, invalid UTF-8 and overlong text.
func optionalText(v *ValidationError, path, s string) {
	switch {
	case !utf8.ValidString(s):
		v.Add(path, "is not valid UTF-8")
	case len(s) > maxText:
		v.Add(path, "is longer than 1000 bytes")
	case strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f }):
		v.Add(path, "contains control characters")
	}
}

// optionalMultiline is optionalText allowing newlines and tabs.
func optionalMultiline(v *ValidationError, path, s string) {
	switch {
	case !utf8.ValidString(s):
		v.Add(path, "is not valid UTF-8")
	case len(s) > maxMultiline:
		v.Add(path, "is longer than 20000 bytes")
	case strings.ContainsFunc(s, func(r rune) bool { return (r < 0x20 && r != '\n' && r != '\r' && r != '\t') || r == 0x7f }):
		v.Add(path, "contains control characters")
	}
}

// newFieldError is a ValidationError with one field.
func newFieldError(path, reason string) error { return transport.NewValidationError(path, reason) }

// isAlnum reports an ASCII letter or digit.
func isAlnum(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9'
}

// onlyRunes reports whether every rune of s satisfies ok.
func onlyRunes(s string, ok func(rune) bool) bool {
	for _, r := range s {
		if !ok(r) {
			return false
		}
	}
	return true
}
