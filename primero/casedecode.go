package primero

import (
	"encoding/json"
	"errors"
	"strings"
	"unicode/utf8"
)

// The fast decoder of a cases list page. It reads the page's bytes once:
// the typed keys of each case go straight into its Case (through the same
// codecs as the generic path), only the other keys into Fields. It produces
// exactly what encoding/json (with UseNumber) followed by caseFromMap
// produces, or gives up (errFastDecode) on anything unusual (an escaped or
// duplicated typed key, an envelope key in other case, a non-object case,
// deep nesting, invalid JSON), and the caller decodes the same bytes with
// the generic path, so that every error and every odd answer is handled
// exactly as before.

// errFastDecode says the fast decoder gave up; it never reaches a caller.
var errFastDecode = errors.New("primero: fast decode gave up")

// maxFastDepth bounds the nesting the fast decoder follows (encoding/json
// allows 10000; deeper answers go to it).
const maxFastDepth = 512

type fastDecoder struct {
	b     []byte
	i     int
	depth int
}

// decodeCasePage decodes {"data":[cases…],"metadata":{…}}. hasData
// reports whether a data array was present (null counts as absent, as
// for the generic path); meta is nil when absent.
func decodeCasePage(b []byte) (cases []*Case, hasData bool, meta *pageMeta, err error) {
	d := &fastDecoder{b: b}
	if !d.consume('{') {
		return nil, false, nil, errFastDecode
	}
	var sawData, sawMeta bool
	if !d.consume('}') {
		for {
			key, ok := d.plainKey()
			if !ok {
				return nil, false, nil, errFastDecode
			}
			switch {
			case key == "data" && !sawData:
				sawData = true
				if d.literal("null") {
					break
				}
				if cases, err = d.cases(); err != nil {
					return nil, false, nil, err
				}
				hasData = true
			case key == "metadata" && !sawMeta:
				sawMeta = true
				start := d.skipSpace()
				if err := d.skipValue(); err != nil {
					return nil, false, nil, err
				}
				raw := d.b[start:d.i]
				if string(raw) != "null" {
					meta = &pageMeta{}
					if json.Unmarshal(raw, meta) != nil {
						return nil, false, nil, errFastDecode
					}
				}
			case strings.EqualFold(key, "data") || strings.EqualFold(key, "metadata"):
				// encoding/json matches struct fields case-insensitively
				// and lets a repeated key win: leave both to it.
				return nil, false, nil, errFastDecode
			default:
				if err := d.skipValue(); err != nil {
					return nil, false, nil, err
				}
			}
			if d.consume(',') {
				continue
			}
			if d.consume('}') {
				break
			}
			return nil, false, nil, errFastDecode
		}
	}
	return cases, hasData, meta, nil
}

// cases decodes the data array.
func (d *fastDecoder) cases() ([]*Case, error) {
	if !d.consume('[') {
		return nil, errFastDecode
	}
	out := []*Case{}
	if d.consume(']') {
		return out, nil
	}
	for {
		c, err := d.caseObject()
		if err != nil {
			return nil, err
		}
		out = append(out, c)
		if d.consume(',') {
			continue
		}
		if d.consume(']') {
			return out, nil
		}
		return nil, errFastDecode
	}
}

// caseObject decodes one case: typed keys through their codecs, the rest
// into Fields.
func (d *fastDecoder) caseObject() (*Case, error) {
	if !d.consume('{') {
		return nil, errFastDecode
	}
	c := &Case{}
	if d.consume('}') {
		return c, nil
	}
	var seen uint64 // typed codecs met, by index in caseCodecs
	for {
		raw, escaped, err := d.rawString()
		if err != nil {
			return nil, err
		}
		if !d.consume(':') {
			return nil, errFastDecode
		}
		if cd, ok := caseIndex[string(raw)]; ok || escaped {
			if escaped { // the key may unescape to a typed one
				return nil, errFastDecode
			}
			bit := uint64(1) << caseCodecPos[cd.key]
			if seen&bit != 0 {
				return nil, errFastDecode // a repeated typed key: the last wins there
			}
			seen |= bit
			v, err := d.value()
			if err != nil {
				return nil, err
			}
			if !cd.dec(c, v) {
				c.setField(cd.key, v)
			}
		} else {
			key := string(raw)
			v, err := d.value()
			if err != nil {
				return nil, err
			}
			c.setField(key, v) // a repeated key: the last wins, as there
		}
		if d.consume(',') {
			continue
		}
		if d.consume('}') {
			return c, nil
		}
		return nil, errFastDecode
	}
}

func (c *Case) setField(k string, v any) {
	if c.Fields == nil {
		c.Fields = map[string]any{}
	}
	c.Fields[k] = v
}

// caseCodecPos is each typed key's index in caseCodecs (fewer than 64).
var caseCodecPos = func() map[string]uint {
	m := make(map[string]uint, len(caseCodecs))
	for i, cd := range caseCodecs {
		m[cd.key] = uint(i)
	}
	if len(m) > 64 {
		panic("primero: more than 64 typed case keys")
	}
	return m
}()

// value decodes any JSON value as encoding/json does into an any with
// UseNumber.
func (d *fastDecoder) value() (any, error) {
	d.skipSpace()
	if d.i >= len(d.b) {
		return nil, errFastDecode
	}
	switch c := d.b[d.i]; {
	case c == '"':
		return d.str()
	case c == '{':
		return d.object()
	case c == '[':
		return d.array()
	case c == 't':
		if d.literal("true") {
			return true, nil
		}
	case c == 'f':
		if d.literal("false") {
			return false, nil
		}
	case c == 'n':
		if d.literal("null") {
			return nil, nil
		}
	case c == '-' || (c >= '0' && c <= '9'):
		return d.number()
	}
	return nil, errFastDecode
}

func (d *fastDecoder) object() (any, error) {
	if d.depth++; d.depth > maxFastDepth {
		return nil, errFastDecode
	}
	defer func() { d.depth-- }()
	d.i++ // '{'
	m := map[string]any{}
	if d.consume('}') {
		return m, nil
	}
	for {
		k, err := d.str()
		if err != nil {
			return nil, err
		}
		if !d.consume(':') {
			return nil, errFastDecode
		}
		v, err := d.value()
		if err != nil {
			return nil, err
		}
		m[k] = v
		if d.consume(',') {
			continue
		}
		if d.consume('}') {
			return m, nil
		}
		return nil, errFastDecode
	}
}

func (d *fastDecoder) array() (any, error) {
	if d.depth++; d.depth > maxFastDepth {
		return nil, errFastDecode
	}
	defer func() { d.depth-- }()
	d.i++ // '['
	a := []any{}
	if d.consume(']') {
		return a, nil
	}
	for {
		v, err := d.value()
		if err != nil {
			return nil, err
		}
		a = append(a, v)
		if d.consume(',') {
			continue
		}
		if d.consume(']') {
			return a, nil
		}
		return nil, errFastDecode
	}
}

// str decodes a string; escapes and invalid UTF-8 go through
// encoding/json, so that they unquote exactly as there.
func (d *fastDecoder) str() (string, error) {
	start := d.skipSpace()
	raw, escaped, err := d.rawString()
	if err != nil {
		return "", err
	}
	if !escaped {
		return string(raw), nil
	}
	var s string
	if json.Unmarshal(d.b[start:d.i], &s) != nil {
		return "", errFastDecode
	}
	return s, nil
}

// rawString reads a string token and returns its bytes between the
// quotes; escaped reports a backslash or bytes that are not valid UTF-8
// (the bytes then need unquoting).
func (d *fastDecoder) rawString() (raw []byte, escaped bool, err error) {
	d.skipSpace()
	if d.i >= len(d.b) || d.b[d.i] != '"' {
		return nil, false, errFastDecode
	}
	start := d.i + 1
	ascii := true
	for j := start; j < len(d.b); j++ {
		switch c := d.b[j]; {
		case c == '"':
			d.i = j + 1
			raw = d.b[start:j]
			if !ascii && !utf8.Valid(raw) {
				escaped = true
			}
			return raw, escaped, nil
		case c == '\\':
			escaped = true
			j++ // the escaped byte (checked by encoding/json later)
		case c < 0x20:
			return nil, false, errFastDecode
		case c >= 0x80:
			ascii = false
		}
	}
	return nil, false, errFastDecode
}

// plainKey reads an object key that needs no unquoting.
func (d *fastDecoder) plainKey() (string, bool) {
	raw, escaped, err := d.rawString()
	if err != nil || escaped || !d.consume(':') {
		return "", false
	}
	return string(raw), true
}

// number reads a number with JSON's grammar, as a json.Number.
func (d *fastDecoder) number() (any, error) {
	start := d.i
	j := d.i
	if j < len(d.b) && d.b[j] == '-' {
		j++
	}
	switch {
	case j < len(d.b) && d.b[j] == '0':
		j++
	case j < len(d.b) && d.b[j] >= '1' && d.b[j] <= '9':
		for j < len(d.b) && isDigit(d.b[j]) {
			j++
		}
	default:
		return nil, errFastDecode
	}
	if j < len(d.b) && d.b[j] == '.' {
		j++
		if j >= len(d.b) || !isDigit(d.b[j]) {
			return nil, errFastDecode
		}
		for j < len(d.b) && isDigit(d.b[j]) {
			j++
		}
	}
	if j < len(d.b) && (d.b[j] == 'e' || d.b[j] == 'E') {
		j++
		if j < len(d.b) && (d.b[j] == '+' || d.b[j] == '-') {
			j++
		}
		if j >= len(d.b) || !isDigit(d.b[j]) {
			return nil, errFastDecode
		}
		for j < len(d.b) && isDigit(d.b[j]) {
			j++
		}
	}
	d.i = j
	return json.Number(d.b[start:j]), nil
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// skipValue checks and skips one value.
func (d *fastDecoder) skipValue() error {
	_, err := d.value()
	return err
}

// literal consumes lit (after white space) when it comes next.
func (d *fastDecoder) literal(lit string) bool {
	d.skipSpace()
	if len(d.b)-d.i < len(lit) || string(d.b[d.i:d.i+len(lit)]) != lit {
		return false
	}
	d.i += len(lit)
	return true
}

// consume skips white space and then c when it comes next.
func (d *fastDecoder) consume(c byte) bool {
	d.skipSpace()
	if d.i < len(d.b) && d.b[d.i] == c {
		d.i++
		return true
	}
	return false
}

// skipSpace skips JSON white space and returns the new position.
func (d *fastDecoder) skipSpace() int {
	for d.i < len(d.b) {
		switch d.b[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return d.i
		}
	}
	return d.i
}
