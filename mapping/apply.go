package mapping

import (
	"context"
	"errors"
	"reflect"
	"strconv"
	"strings"

	"github.com/expr-lang/expr/vm"
	"github.com/go-playground/validator/v10"
)

// Apply maps one source record. It stops at the first error, which is a
// *FieldError naming the rule and the target path. No partial record is
// returned with an error.
func (m *Mapping) Apply(ctx context.Context, src Record) (Record, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	a := applier{m: m, src: src, out: make(Record, m.topKeys)}
	a.run()
	if len(a.errs) > 0 {
		return nil, a.errs[0]
	}
	return a.out, nil
}

// ApplyInto maps one source record into dst and returns dst: the same
// record as Apply, built in dst's memory instead of new maps. Whatever dst
// held is discarded. The maps and lists the mapping made in it (the record
// itself, and the objects and lists on the way to nested targets such as
// services[*].type) are cleared and reused; values copied whole from a
// source record are never reused or modified. With dst nil it makes a new
// record, for the next call to reuse.
//
// It is for loops that are done with each record before mapping the next:
// the next call overwrites everything read from dst, nested objects and
// lists included (Clone what must be kept). dst must be nil or a record
// returned by Apply or ApplyInto of this Mapping, and not src; goroutines
// mapping at the same time need a dst each. Keys added to dst since are
// dropped, but a map or list put in it where a nested target goes would be
// cleared and reused, wherever else it is held. On error dst is left empty and
// nil is returned with the error, as Apply does.
func (m *Mapping) ApplyInto(ctx context.Context, dst, src Record) (Record, error) {
	if dst == nil {
		return m.Apply(ctx, src)
	}
	if sameMap(dst, src) {
		return nil, errDstIsSource
	}
	sc := m.scratch.Get().(*scratch)
	sc.recycleFields(dst, m.shape)
	clear(dst)
	err := ctx.Err()
	if err == nil {
		a := applier{m: m, src: src, out: dst, sc: sc}
		a.run()
		if len(a.errs) > 0 {
			clear(dst)
			err = a.errs[0]
		}
	}
	sc.reset()
	m.scratch.Put(sc)
	if err != nil {
		return nil, err
	}
	return dst, nil
}

// ApplyAll maps one source record and collects every error (collect-all
// mode, for validation reports). With errors it returns the partial record
// for inspection together with an Errors value; callers must not send it.
func (m *Mapping) ApplyAll(ctx context.Context, src Record) (Record, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	a := applier{m: m, src: src, out: make(Record, m.topKeys), all: true}
	a.run()
	if len(a.errs) > 0 {
		return a.out, a.errs
	}
	return a.out, nil
}

// errDstIsSource refuses ApplyInto into its own source record, which
// clearing dst would wipe.
var errDstIsSource = errors.New("mapping: ApplyInto: dst is the source record")

// sameMap reports whether a and b are the same map.
func sameMap(a, b Record) bool {
	return a != nil && b != nil && reflect.ValueOf(a).UnsafePointer() == reflect.ValueOf(b).UnsafePointer()
}

type applier struct {
	m     *Mapping
	src   Record
	out   Record
	all   bool
	errs  Errors
	vm    *vm.VM
	trace *[]Trace
	// sc holds the containers ApplyInto recycled from its dst; nil for
	// Apply, which makes new ones.
	sc *scratch
}

func (a *applier) run() {
	defer func() {
		if a.vm != nil {
			a.m.vms.Put(a.vm)
		}
	}()
	for i := range a.m.rules {
		a.rule(&a.m.rules[i])
		if len(a.errs) > 0 && !a.all {
			return
		}
	}
}

func (a *applier) fail(r *compiledRule, star int, source, code, detail string) {
	p := r.target.raw
	if star >= 0 {
		p = strings.Replace(p, "[*]", "["+strconv.Itoa(star)+"]", 1)
	}
	a.errs = append(a.errs, &FieldError{Rule: r.rule.RuleName(), Path: p, Source: source, Code: code, Detail: detail})
}

func (a *applier) runProgram(p *vm.Program) (any, error) {
	if a.vm == nil {
		a.vm = a.m.vms.Get().(*vm.VM)
	}
	return a.vm.Run(p, map[string]any(a.src))
}

func (a *applier) rule(r *compiledRule) {
	if r.when != nil {
		ok, err := a.runProgram(r.when)
		if err != nil {
			a.fail(r, -1, "", CodeExpr, "when")
			return
		}
		if b, _ := ok.(bool); !b {
			return
		}
	}
	var v any
	source := ""
	switch r.kind {
	case kindConst:
		a.write(r, cloneList(r.constVal), -1, "", false, false)
		return
	case kindDefaultOnly:
	case kindExpr:
		x, err := a.runProgram(r.program)
		if err != nil {
			a.fail(r, -1, "", CodeExpr, "expr")
			return
		}
		v = x
	}
	if r.target.stars == 1 && r.kind == kindCopy && len(r.sources) == 1 && r.sources[0].stars == 1 {
		// One list source to one list target: walk the source list in
		// place instead of collecting it first.
		p := &r.sources[0]
		head, ok := getSegs(a.src, p.segs[:p.starAt])
		if !ok {
			return
		}
		l, ok := head.([]any)
		if !ok {
			l, ok = asList(head)
		}
		if !ok {
			if !isEmpty(head) {
				a.fail(r, -1, p.raw, CodeInvalidType, "list expected")
			}
			return
		}
		a.sc.presize(map[string]any(a.out), r.target.segs, len(l))
		for i, e := range l {
			x, _ := getSegs(e, p.segs[p.starAt+1:])
			a.finish(r, x, i, p.raw)
		}
		return
	}
	if r.kind == kindCopy {
		v, source = a.read(r)
	}
	if r.target.stars == 1 {
		l, ok := asList(v)
		if !ok {
			if !isEmpty(v) {
				a.fail(r, -1, source, CodeInvalidType, "list expected")
			}
			return
		}
		a.sc.presize(map[string]any(a.out), r.target.segs, len(l))
		for i, e := range l {
			a.finish(r, e, i, source)
		}
		return
	}
	a.finish(r, v, -1, source)
}

// read gets the rule's source value: the single source, the first
// non-empty one, or all non-empty ones as a list.
func (a *applier) read(r *compiledRule) (any, string) {
	if len(r.sources) == 1 {
		v, _ := r.sources[0].get(a.src)
		return v, r.sources[0].raw
	}
	if !r.all {
		for i := range r.sources {
			if v, ok := r.sources[i].get(a.src); ok && !isEmpty(v) {
				return v, r.sources[i].raw
			}
		}
		return nil, ""
	}
	var out []any
	for i := range r.sources {
		v, ok := r.sources[i].get(a.src)
		if !ok || isEmpty(v) {
			continue
		}
		if l, ok := v.([]any); ok {
			for _, e := range l {
				if !isEmpty(e) {
					out = append(out, e)
				}
			}
			continue
		}
		if out == nil {
			out = make([]any, 0, len(r.sources))
		}
		out = append(out, v)
	}
	if out == nil {
		return nil, ""
	}
	return out, ""
}

// finish runs the value pipeline and writes the result.
func (a *applier) finish(r *compiledRule, v any, star int, source string) {
	for _, st := range r.steps {
		v = st.apply(v)
	}
	empty := isEmpty(v)
	tableDefault := false
	if r.table != nil && !empty {
		x, code, usedDef := r.table.lookup(v)
		tableDefault = usedDef
		if code != "" {
			a.fail(r, star, source, code, "table "+r.table.name)
			return
		}
		v, empty = x, isEmpty(x)
	}
	if r.co.typ != "" && !empty {
		x, code := r.co.coerce(v)
		if code != "" {
			a.fail(r, star, source, code, "type "+r.co.typ)
			return
		}
		v, empty = x, isEmpty(x)
	}
	defaulted := false
	if empty {
		if !r.hasDef {
			if r.required {
				a.fail(r, star, source, CodeRequired, "")
			}
			return
		}
		v, defaulted = cloneList(r.def), true
	}
	if r.allowed != nil && !allowedValue(r.allowed, v) {
		a.fail(r, star, source, CodeNotAllowed, "")
		return
	}
	if r.validate != "" {
		if err := a.m.validate.Var(v, r.validate); err != nil {
			var ves validator.ValidationErrors
			tag := r.validate
			if errors.As(err, &ves) && len(ves) > 0 {
				tag = ves[0].Tag()
			}
			a.fail(r, star, source, CodeValidate, tag)
			return
		}
	}
	a.write(r, v, star, source, defaulted, tableDefault)
}

// cloneList copies a compiled list constant so that records never share
// (and never mutate each other's) lists.
func cloneList(v any) any {
	if l, ok := v.([]any); ok {
		return append([]any(nil), l...)
	}
	return v
}

// write sets the value in the output and records its trace when asked.
func (a *applier) write(r *compiledRule, v any, star int, source string, defaulted, tableDefault bool) {
	if len(r.target.segs) == 1 {
		a.out[r.target.segs[0].key] = v // the common case: a top-level field
	} else {
		idx := star
		if idx < 0 {
			idx = 0
		}
		a.sc.setValue(map[string]any(a.out), r.target.segs, v, idx)
	}
	if a.trace != nil {
		p := r.target.raw
		if star >= 0 {
			p = strings.Replace(p, "[*]", "["+strconv.Itoa(star)+"]", 1)
		}
		*a.trace = append(*a.trace, Trace{Path: p, Rule: r.rule.RuleName(), Source: source,
			Defaulted: defaulted, TableDefault: tableDefault})
	}
}

func allowedValue(allowed map[string]bool, v any) bool {
	if l, ok := v.([]any); ok {
		for _, e := range l {
			if !allowedValue(allowed, e) {
				return false
			}
		}
		return true
	}
	s, ok := toString(v)
	return ok && allowed[s]
}

// lookup maps v (or each element of a list) through the table.
// usedDef reports whether the unknown-value default stood in.
func (t *compiledTable) lookup(v any) (out any, code string, usedDef bool) {
	if l, ok := v.([]any); ok {
		res := make([]any, 0, len(l))
		for _, e := range l {
			x, code, d := t.lookup(e)
			if code != "" {
				return nil, code, false
			}
			usedDef = usedDef || d
			if x != nil {
				res = append(res, x)
			}
		}
		return res, "", usedDef
	}
	var key string
	switch x := v.(type) {
	case string:
		key = x
	case float64:
		// JSON numbers (PING option codes): look up without allocating.
		if x == float64(int64(x)) {
			var buf [24]byte
			if y, ok := t.m[string(strconv.AppendInt(buf[:0], int64(x), 10))]; ok {
				return y, "", false
			}
		}
		key, _ = toString(x)
	default:
		s, ok := toString(v)
		if !ok {
			return nil, CodeInvalidType, false
		}
		key = s
	}
	if x, ok := t.m[key]; ok {
		return x, "", false
	}
	if x, ok := t.m[strings.TrimSpace(key)]; ok {
		return x, "", false
	}
	switch t.unknown {
	case UnknownPass:
		return v, "", false
	case UnknownDefault:
		return t.def, "", true
	case UnknownDrop:
		return nil, "", false
	}
	return nil, CodeUnknownValue, false
}
