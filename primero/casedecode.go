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
	err = d.each('}', func() error {
		key, ok := d.plainKey()
		switch {
		case !ok:
			return errFastDecode
		case key == "data" && !sawData:
			sawData = true
			if d.literal("null") {
				return nil
			}
			var err error
			cases, err = d.cases()
			hasData = err == nil
			return err
		case key == "metadata" && !sawMeta:
			sawMeta = true
			start := d.skipSpace()
			if err := d.skipValue(); err != nil {
				return err
			}
			if raw := d.b[start:d.i]; string(raw) != "null" {
				meta = &pageMeta{}
				if json.Unmarshal(raw, meta) != nil {
					return errFastDecode
				}
			}
			return nil
		case strings.EqualFold(key, "data") || strings.EqualFold(key, "metadata"):
			// encoding/json matches struct fields case-insensitively
			// and lets a repeated key win: leave both to it.
			return errFastDecode
		}
		return d.skipValue()
	})
	if err != nil {
		return nil, false, nil, err
	}
	return cases, hasData, meta, nil
}

// cases decodes the data array.
func (d *fastDecoder) cases() ([]*Case, error) {
	if !d.consume('[') {
		return nil, errFastDecode
	}
	out := []*Case{}
	err := d.each(']', func() error {
		c, err := d.caseObject()
		out = append(out, c)
		return err
	})
	return out, err
}

// nested is each for a nested array or object, its opening bracket next;
// deeper nesting than maxFastDepth is left to encoding/json.
func (d *fastDecoder) nested(end byte, item func() error) error {
	if d.depth++; d.depth > maxFastDepth {
		return errFastDecode
	}
	defer func() { d.depth-- }()
	d.i++ // the opening bracket
	return d.each(end, item)
}

// each calls item for each element of an array or object whose opening
// bracket is consumed, up to end.
func (d *fastDecoder) each(end byte, item func() error) error {
	if d.consume(end) {
		return nil
	}
	for {
		if err := item(); err != nil {
			return err
		}
		if d.consume(',') {
			continue
		}
		if d.consume(end) {
			return nil
		}
		return errFastDecode
	}
}

// caseObject decodes one case: typed keys through their codecs, the rest
// into Fields.
func (d *fastDecoder) caseObject() (*Case, error) {
	c := &Case{}
	err := typedObject(d, c, caseIndex, caseCodecPos, &c.Fields, func(key string) (bool, error) {
		if key != "services_section" || !d.peek('[') {
			return false, nil
		}
		svcs, err := d.services()
		c.Services = svcs
		return true, err
	})
	if err != nil {
		return nil, err
	}
	return c, nil
}

// services decodes a services_section array of objects straight into
// Services (a row that is not an object leaves the list to the generic
// path, which keeps the whole list in Fields).
func (d *fastDecoder) services() ([]Service, error) {
	d.i++ // '['
	svcs := []Service{}
	err := d.each(']', func() error {
		svcs = append(svcs, Service{})
		s := &svcs[len(svcs)-1]
		return typedObject(d, s, serviceIndex, serviceCodecPos, &s.Fields, nil)
	})
	return svcs, err
}

// typedObject decodes an object into t: typed keys through their codecs,
// the rest into *fields (made when needed). special, when non-nil, may
// decode a typed key's value itself and report true.
func typedObject[T any](d *fastDecoder, t *T, idx map[string]*codec[T], pos map[string]uint, fields *map[string]any,
	special func(key string) (bool, error)) error {
	if !d.consume('{') {
		return errFastDecode
	}
	var seen uint64 // typed codecs met, by index in their list
	set := func(k string, v any) {
		if *fields == nil {
			*fields = map[string]any{}
		}
		(*fields)[k] = v // a repeated key: the last wins, as there
	}
	return d.each('}', func() error {
		raw, escaped, err := d.rawString()
		if err != nil {
			return err
		}
		if escaped || !d.consume(':') { // an escaped key may unescape to a typed one
			return errFastDecode
		}
		cd, typed := idx[string(raw)]
		if !typed {
			key := string(raw)
			v, err := d.value()
			set(key, v)
			return err
		}
		bit := uint64(1) << pos[cd.key]
		if seen&bit != 0 {
			return errFastDecode // a repeated typed key: the last wins there
		}
		seen |= bit
		if special != nil {
			if done, err := special(cd.key); done || err != nil {
				return err
			}
		}
		v, err := d.value()
		if err == nil && !cd.dec(t, v) {
			set(cd.key, v)
		}
		return err
	})
}

// caseCodecPos and serviceCodecPos are each typed key's index in its
// codec list (fewer than 64).
var (
	caseCodecPos    = codecPos(caseCodecs)
	serviceCodecPos = codecPos(serviceCodecs)
)

func codecPos[T any](cs []codec[T]) map[string]uint {
	m := make(map[string]uint, len(cs))
	for i, cd := range cs {
		m[cd.key] = uint(i)
	}
	if len(m) > 64 {
		panic("primero: more than 64 typed keys")
	}
	return m
}

// peek reports whether c comes next, after white space.
func (d *fastDecoder) peek(c byte) bool {
	d.skipSpace()
	return d.i < len(d.b) && d.b[d.i] == c
}

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
	m := map[string]any{}
	err := d.nested('}', func() error {
		k, err := d.str()
		if err != nil {
			return err
		}
		if !d.consume(':') {
			return errFastDecode
		}
		v, err := d.value()
		m[k] = v
		return err
	})
	return m, err
}

func (d *fastDecoder) array() (any, error) {
	a := []any{}
	err := d.nested(']', func() error {
		v, err := d.value()
		a = append(a, v)
		return err
	})
	return a, err
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
