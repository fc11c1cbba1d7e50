package mapping

import (
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/vm"
	"github.com/go-playground/validator/v10"
)

// Mapping is a compiled spec, ready to Apply. It is safe for concurrent use.
type Mapping struct {
	spec     Spec
	hash     string
	schema   *Schema
	rules    []compiledRule
	topKeys  int
	shape    *shape // the containers of nested targets, for ApplyInto
	vms      sync.Pool
	scratch  sync.Pool // *scratch, for ApplyInto
	validate *validator.Validate
}

type ruleKind uint8

const (
	kindCopy ruleKind = iota
	kindConst
	kindExpr
	kindDefaultOnly
)

type compiledRule struct {
	rule     *Rule
	kind     ruleKind
	target   path
	sources  []path
	all      bool
	constVal any
	program  *vm.Program
	when     *vm.Program
	steps    []step
	table    *compiledTable
	co       coercer
	def      any
	hasDef   bool
	required bool
	allowed  map[string]bool
	validate string
}

type compiledTable struct {
	name string
	// m holds the values already boxed, so a lookup does not allocate.
	m       map[string]any
	unknown string
	def     any
}

// Option configures Compile.
type Option func(*compileOptions)

type compileOptions struct {
	schema *Schema
}

// WithSchema checks the spec against a destination schema at compile time
// and the values against the schema's allowed values and validator tags at
// apply time.
func WithSchema(s *Schema) Option {
	return func(o *compileOptions) { o.schema = s }
}

// Compile checks the spec and prepares it for Apply. It returns
// CompileErrors listing every problem, each with its position and rule.
func Compile(spec *Spec, opts ...Option) (*Mapping, error) {
	var o compileOptions
	for _, opt := range opts {
		opt(&o)
	}
	c := &compiler{spec: spec, schema: o.schema}
	m := c.run()
	if len(c.errs) > 0 {
		return nil, c.errs
	}
	m.hash = spec.Hash()
	return m, nil
}

type compiler struct {
	spec   *Spec
	schema *Schema
	errs   CompileErrors
	tables map[string]*compiledTable
	fields map[string]Field
}

func (c *compiler) errf(pos Pos, rule, table, format string, args ...any) {
	if pos.File == "" {
		pos.File = c.spec.File
	}
	c.errs = append(c.errs, &CompileError{Pos: pos, Rule: rule, Table: table, Msg: fmt.Sprintf(format, args...)})
}

func (c *compiler) run() *Mapping {
	m := &Mapping{spec: *c.spec, schema: c.schema}
	m.vms.New = func() any { return new(vm.VM) }
	m.scratch.New = func() any { return new(scratch) }
	c.compileTables()
	if c.schema != nil {
		c.fields = make(map[string]Field, len(c.schema.Fields))
		for k, f := range c.schema.Fields {
			key := k
			if p, err := parsePath(k); err == nil {
				key = p.normalized()
			}
			c.fields[key] = f
			if f.Validate != "" && m.validate == nil {
				m.validate = validator.New()
			}
		}
	}
	seen := map[string]*Rule{}
	filled := map[string]bool{}
	var targets []string
	var paths []path
	for i := range c.spec.Rules {
		r := &c.spec.Rules[i]
		key := strings.TrimSpace(r.Target)
		if prev, dup := seen[key]; dup {
			c.errf(r.Pos, r.RuleName(), "", "duplicate target %s (already filled by rule %q at %s)", r.Target, prev.RuleName(), prev.Pos)
			continue
		}
		seen[key] = r
		cr, ok := c.compileRule(r)
		if !ok {
			continue
		}
		targets = append(targets, key)
		paths = append(paths, cr.target)
		filled[cr.target.normalized()] = true
		if c.fields != nil {
			if f, ok := c.fields[cr.target.normalized()]; ok {
				c.checkAgainstField(r, &cr, f)
				if m.validate != nil {
					cr.validate = f.Validate
				}
			} else {
				c.errf(r.Pos, r.RuleName(), "", "target %s is not in the schema", r.Target)
				continue
			}
		}
		m.rules = append(m.rules, cr)
	}
	c.checkPrefixConflicts(targets, paths, seen)
	c.checkShapeConflicts(targets, paths, seen)
	top := map[string]bool{}
	for i := range m.rules {
		top[m.rules[i].target.segs[0].key] = true
	}
	m.topKeys = len(top)
	m.shape = buildShape(m.rules)
	if c.fields != nil {
		names := make([]string, 0, len(c.fields))
		for k := range c.fields {
			names = append(names, k)
		}
		sort.Strings(names)
		for _, k := range names {
			if c.fields[k].Required && !filled[k] {
				c.errf(Pos{}, "", "", "required schema field %s is filled by no rule", k)
			}
		}
	}
	return m
}

// checkPrefixConflicts rejects a target that lies inside another one: a.b
// inside a, and through a list a[*].b or a[0].b inside a[0] or a[*] (a
// star stands for every index). Apply would otherwise write into whatever
// the outer target put there, which may be a map of the source record.
// Each inner target is reported once, with the first outer target in
// sorted order.
func (c *compiler) checkPrefixConflicts(targets []string, paths []path, seen map[string]*Rule) {
	order := make([]int, len(targets))
	for i := range order {
		order[i] = i
	}
	sort.Slice(order, func(i, j int) bool { return targets[order[i]] < targets[order[j]] })
	for _, in := range order {
		for _, out := range order {
			if in != out && insidePath(paths[in].segs, paths[out].segs) {
				r := seen[targets[in]]
				c.errf(r.Pos, r.RuleName(), "", "target %s is inside target %s of rule %q", targets[in], targets[out], seen[targets[out]].RuleName())
				break
			}
		}
	}
}

// checkShapeConflicts rejects two targets that need the same container to
// be an object and a list (a.b and a[0]): Apply would keep the one that
// ran last and drop the other's value. The later rule is reported.
func (c *compiler) checkShapeConflicts(targets []string, paths []path, seen map[string]*Rule) {
	for j := range paths {
		for i := 0; i < j; i++ {
			if at, ok := shapeConflict(paths[i].segs, paths[j].segs); ok {
				r := seen[targets[j]]
				c.errf(r.Pos, r.RuleName(), "", "targets %s and %s (rule %q) disagree on whether %s is a list",
					targets[j], targets[i], seen[targets[i]].RuleName(), segsString(paths[j].segs[:at], false))
				break
			}
		}
	}
}

// shapeConflict finds where paths a and b, which name the same container
// up to there, step into it one by a key and the other by a list index.
func shapeConflict(a, b []seg) (int, bool) {
	for k := 0; k < len(a) && k < len(b); k++ {
		x, y := &a[k], &b[k]
		switch {
		case (x.kind == segKey) != (y.kind == segKey):
			return k, true
		case x.kind == segKey:
			if x.key != y.key {
				return 0, false
			}
		case x.kind == segIndex && y.kind == segIndex && x.index != y.index:
			return 0, false
		}
	}
	return 0, false
}

// insidePath reports whether a path with segments inner lies strictly
// inside one with segments outer: outer is shorter and each of its
// segments can name the same step as inner's (equal keys, equal indexes,
// or a star with an index or a star).
func insidePath(inner, outer []seg) bool {
	if len(outer) >= len(inner) {
		return false
	}
	for i := range outer {
		a, b := &inner[i], &outer[i]
		switch {
		case a.kind == segKey || b.kind == segKey:
			if a.kind != b.kind || a.key != b.key {
				return false
			}
		case a.kind == segIndex && b.kind == segIndex:
			if a.index != b.index {
				return false
			}
		}
	}
	return true
}

func (c *compiler) compileTables() {
	c.tables = map[string]*compiledTable{}
	for i := range c.spec.Tables {
		t := &c.spec.Tables[i]
		if t.Name == "" {
			c.errf(t.Pos, "", "", "table without a name")
			continue
		}
		if _, dup := c.tables[t.Name]; dup {
			c.errf(t.Pos, "", t.Name, "duplicate table name")
			continue
		}
		ct := &compiledTable{name: t.Name, m: make(map[string]any, len(t.Entries)), unknown: t.Unknown, def: t.Default}
		if ct.unknown == "" {
			ct.unknown = UnknownError
		}
		switch ct.unknown {
		case UnknownError, UnknownPass, UnknownDrop:
			if t.Default != "" {
				c.errf(t.Pos, "", t.Name, "default is set but the unknown policy is %q, not %q", ct.unknown, UnknownDefault)
			}
		case UnknownDefault:
			if t.Default == "" {
				c.errf(t.Pos, "", t.Name, "unknown policy %q needs a default value", UnknownDefault)
			}
		default:
			c.errf(t.Pos, "", t.Name, "unknown policy %q is not one of error, pass, default, drop", t.Unknown)
		}
		keyPos := map[string]Pos{}
		byValue := map[string][]*Entry{}
		for j := range t.Entries {
			e := &t.Entries[j]
			if prev, dup := keyPos[e.Key]; dup {
				c.errf(e.Pos, "", t.Name, "duplicate key %q (first at %s)", e.Key, prev)
				continue
			}
			keyPos[e.Key] = e.Pos
			ct.m[e.Key] = e.Value
			byValue[e.Value] = append(byValue[e.Value], e)
		}
		if t.TwoWay {
			values := make([]string, 0, len(byValue))
			for v := range byValue {
				values = append(values, v)
			}
			sort.Strings(values)
			for _, v := range values {
				es := byValue[v]
				marked := 0
				for _, e := range es {
					if e.Inverse {
						marked++
					}
				}
				switch {
				case len(es) > 1 && marked == 0:
					c.errf(es[1].Pos, "", t.Name, "two-way table is not one-to-one: value %q has %d keys; mark one entry inverse", v, len(es))
				case marked > 1:
					c.errf(es[0].Pos, "", t.Name, "value %q has %d entries marked inverse; mark exactly one", v, marked)
				}
			}
		}
		c.tables[t.Name] = ct
	}
}

func (c *compiler) compileRule(r *Rule) (compiledRule, bool) {
	name := r.RuleName()
	cr := compiledRule{rule: r, required: r.Required, co: newCoercer(r)}
	before := len(c.errs)
	fail := func(format string, args ...any) { c.errf(r.Pos, name, "", format, args...) }

	t, err := parsePath(r.Target)
	switch {
	case r.Target == "":
		fail("no target")
	case err != nil:
		fail("bad target path %q: %v", r.Target, err)
	case t.segs[0].kind != segKey:
		fail("target %s must start with a field name", r.Target)
	case t.stars > 1:
		fail("target %s has more than one [*]", r.Target)
	}
	cr.target = t

	srcStar := false
	for _, s := range r.Sources {
		p, err := parsePath(s)
		if err != nil {
			fail("bad source path %q: %v", s, err)
			continue
		}
		if p.stars > 0 {
			srcStar = true
		}
		cr.sources = append(cr.sources, p)
	}
	switch r.Combine {
	case "", CombineFirst:
	case CombineAll:
		cr.all = true
	default:
		fail("combine %q is not one of first, all", r.Combine)
	}

	producers := 0
	if len(r.Sources) > 0 {
		producers++
		cr.kind = kindCopy
	}
	if r.Constant != "" {
		producers++
		cr.kind = kindConst
	}
	if r.Expr != "" {
		producers++
		cr.kind = kindExpr
		p, err := compileExpr(r.Expr)
		if err != nil {
			fail("bad expression: %v", err)
		}
		cr.program = p
	}
	switch {
	case producers > 1:
		fail("give only one of source, constant and expr")
	case producers == 0 && r.Default == "":
		if r.Required {
			fail("required target %s has neither a source nor a default", r.Target)
		} else {
			fail("target %s has no source, constant, expr or default", r.Target)
		}
	case producers == 0:
		cr.kind = kindDefaultOnly
	}
	if t.stars == 1 && !srcStar && cr.kind != kindExpr {
		fail("target %s has [*] but no source has [*]", r.Target)
	}
	if r.When != "" {
		p, err := compileExpr(r.When, expr.AsBool())
		if err != nil {
			fail("bad when condition: %v", err)
		}
		cr.when = p
	}
	for _, s := range r.Transform {
		st, err := parseTransform(s)
		if err != nil {
			fail("%v", err)
			continue
		}
		cr.steps = append(cr.steps, st)
	}
	if r.Table != "" {
		tb, ok := c.tables[r.Table]
		if !ok {
			fail("unknown table %q", r.Table)
		}
		cr.table = tb
	}
	if !knownTypes[r.Type] {
		fail("unknown type %q", r.Type)
	} else {
		if (r.Layout != "" || r.Format != "") && r.Type != TypeDate && r.Type != TypeDatetime {
			fail("layout and format need type date or datetime")
		}
		if r.Constant != "" {
			v, code := cr.co.coerce(r.Constant)
			if code != "" {
				fail("constant is not a valid %s", r.Type)
			}
			cr.constVal = v
		}
		if r.Default != "" {
			v, code := cr.co.coerce(r.Default)
			if code != "" {
				fail("default is not a valid %s", r.Type)
			}
			cr.def, cr.hasDef = v, true
		}
	}
	return cr, len(c.errs) == before
}

// checkAgainstField checks a rule against a schema field: its type (a rule
// without a type takes the field's), and its fixed values against the
// allowed values.
func (c *compiler) checkAgainstField(r *Rule, cr *compiledRule, f Field) {
	name := r.RuleName()
	switch {
	case f.Type == "" || f.Type == r.Type:
	case !knownTypes[f.Type]:
		c.errf(r.Pos, name, "", "schema field %s has unknown type %q", r.Target, f.Type)
	case r.Type != "":
		c.errf(r.Pos, name, "", "type %s does not match the schema type %s of %s", r.Type, f.Type, r.Target)
	default:
		typed := *r
		typed.Type = f.Type
		cr.co = newCoercer(&typed)
		if r.Constant != "" {
			v, code := cr.co.coerce(r.Constant)
			if code != "" {
				c.errf(r.Pos, name, "", "constant is not a valid %s (the schema type of %s)", f.Type, r.Target)
			}
			cr.constVal = v
		}
		if r.Default != "" {
			v, code := cr.co.coerce(r.Default)
			if code != "" {
				c.errf(r.Pos, name, "", "default is not a valid %s (the schema type of %s)", f.Type, r.Target)
			}
			cr.def = v
		}
	}
	if len(f.Allowed) == 0 {
		return
	}
	cr.allowed = make(map[string]bool, len(f.Allowed))
	for _, a := range f.Allowed {
		cr.allowed[a] = true
	}
	if r.Constant != "" && !cr.allowed[r.Constant] {
		c.errf(r.Pos, name, "", "constant is not among the allowed values of %s", r.Target)
	}
	if r.Default != "" && !cr.allowed[r.Default] {
		c.errf(r.Pos, name, "", "default is not among the allowed values of %s", r.Target)
	}
	if r.Table == "" {
		return
	}
	t, ok := c.spec.TableByName(r.Table)
	if !ok {
		return
	}
	for _, e := range t.Entries {
		if !cr.allowed[e.Value] {
			c.errf(e.Pos, name, t.Name, "value %q is not among the allowed values of %s", e.Value, r.Target)
		}
	}
	if t.Default != "" && !cr.allowed[t.Default] {
		c.errf(t.Pos, name, t.Name, "default %q is not among the allowed values of %s", t.Default, r.Target)
	}
}

// Spec returns a copy of the compiled spec.
func (m *Mapping) Spec() Spec { return m.spec }

// Hash returns the content hash of the compiled spec (see Spec.Hash).
func (m *Mapping) Hash() string { return m.hash }
