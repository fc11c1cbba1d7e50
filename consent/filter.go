package consent

import (
	"fmt"
	"strings"

	"github.com/casebridge/casebridge/mapping"
)

// fieldTree is the compiled need-to-know list: a tree of keys in which a
// leaf passes the whole value and an inner node passes only its children.
// Children are kept in slices, not maps: lists are short and Filter walks
// every child of each node it visits.
type fieldTree struct {
	children []*fieldNode
}

type fieldNode struct {
	// key is the path step's name.
	key string
	// list is true when the path step was name[*]: the value must be a list
	// and the children apply to each element.
	list bool
	// leaf is true when the path ends here: the whole value passes.
	leaf     bool
	children []*fieldNode
	// path is the first path that created this node, for error messages.
	path string
}

// add inserts one parsed path. It rejects overlapping paths ("a" with "a.b")
// and paths that disagree on whether a step is a list.
func (t *fieldTree) add(path string, segs []segment) error {
	nodes := &t.children
	for i, s := range segs {
		last := i == len(segs)-1
		n := findNode(*nodes, s.key)
		if n == nil {
			n = &fieldNode{key: s.key, list: s.list, leaf: last, path: path}
			*nodes = append(*nodes, n)
			nodes = &n.children
			continue
		}
		prefix := segmentsString(segs[:i+1])
		switch {
		case n.list != s.list:
			return fmt.Errorf("path %q disagrees with %q on whether %q is a list", path, n.path, prefix)
		case n.leaf && last:
			return fmt.Errorf("duplicate path %q", path)
		case n.leaf || last:
			return fmt.Errorf("path %q overlaps %q", path, n.path)
		}
		nodes = &n.children
	}
	return nil
}

// findNode returns the node for key among nodes, or nil.
func findNode(nodes []*fieldNode, key string) *fieldNode {
	for _, n := range nodes {
		if n.key == key {
			return n
		}
	}
	return nil
}

func segmentsString(segs []segment) string {
	var b strings.Builder
	for i, s := range segs {
		if i > 0 {
			b.WriteByte('.')
		}
		b.WriteString(s.key)
		if s.list {
			b.WriteString("[*]")
		}
	}
	return b.String()
}

// Filter returns a new record holding only the policy's need-to-know paths.
// Nothing else passes, however deeply nested: inside an object only listed
// keys pass, inside a list of objects only listed sub-fields of each element
// pass, and a value of the wrong shape (an object where a list is expected,
// a scalar list element where an object is expected) is dropped. The input
// is never modified and the result shares no map or slice with it.
func (p *Policy) Filter(rec mapping.Record) mapping.Record {
	out := make(mapping.Record, len(p.fields.children))
	filterInto(out, rec, p.fields.children)
	return out
}

func filterInto(dst, src map[string]any, nodes []*fieldNode) {
	for _, n := range nodes {
		v, ok := src[n.key]
		if !ok {
			continue
		}
		if fv, ok := filterValue(v, n); ok {
			dst[n.key] = fv
		}
	}
}

// filterValue filters v by node n; ok is false when nothing may pass.
func filterValue(v any, n *fieldNode) (any, bool) {
	if !n.list {
		return filterElem(v, n)
	}
	l, ok := asList(v)
	if !ok {
		return nil, false
	}
	out := make([]any, 0, len(l))
	for _, e := range l {
		if fe, ok := filterElem(e, n); ok {
			out = append(out, fe)
		}
	}
	return out, true
}

// filterElem filters a single (non-list-step) value.
func filterElem(v any, n *fieldNode) (any, bool) {
	if n.leaf {
		return mapping.CloneValue(v), true
	}
	m, ok := asMap(v)
	if !ok {
		return nil, false
	}
	dst := make(map[string]any, len(n.children))
	filterInto(dst, m, n.children)
	return dst, true
}
