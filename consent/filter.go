package consent

import (
	"fmt"
	"reflect"
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
	filterInto(out, rec, p.fields.children, false)
	return out
}

// FilterInto is Filter writing into dst, and returns dst: the same record
// as Filter, built in the memory of the previous one. Every key of dst that
// the filter does not set again is removed, and the maps and lists dst
// holds at the policy's paths are reused, so that filtering a record of
// the same shape allocates nothing. With dst nil, or dst being rec, it
// returns a new record as Filter does.
//
// It is for loops that are done with each result before filtering the
// next record: the next call overwrites everything read from dst, nested
// objects and lists included. dst must be nil or a record returned by
// Filter or FilterInto of this policy; goroutines filtering at the same
// time need a dst each. Keys added to dst since are removed, but a map or
// list put in it at a need-to-know path would be emptied and reused,
// wherever else it is held.
func (p *Policy) FilterInto(dst, rec mapping.Record) mapping.Record {
	if dst == nil || sameMap(dst, rec) {
		return p.Filter(rec)
	}
	filterInto(dst, rec, p.fields.children, true)
	return dst
}

// sameMap reports whether a and b are the same map.
func sameMap(a, b mapping.Record) bool {
	return a != nil && b != nil && reflect.ValueOf(a).UnsafePointer() == reflect.ValueOf(b).UnsafePointer()
}

// filterInto sets in dst the values of src that nodes let pass. With reuse
// it removes every other key of dst and reuses a map or list dst holds at
// a node (from an earlier Filter); without, dst is new and empty.
func filterInto(dst, src map[string]any, nodes []*fieldNode, reuse bool) {
	kept := 0
	for _, n := range nodes {
		v, ok := src[n.key]
		if ok && n.leaf && !n.list {
			dst[n.key] = mapping.CloneValue(v) // nothing of dst to reuse
			kept++
			continue
		}
		var old, fv any
		same := false
		if ok {
			if reuse {
				old = dst[n.key]
			}
			fv, same, ok = filterValue(v, n, old)
		}
		switch {
		case !ok:
			if reuse {
				delete(dst, n.key)
			}
			continue
		case !same:
			dst[n.key] = fv
		}
		kept++
	}
	if reuse && len(dst) > kept {
		for k := range dst {
			if findNode(nodes, k) == nil {
				delete(dst, k)
			}
		}
	}
}

// filterValue filters v by node n, reusing old (what an earlier Filter
// left at n) when it fits. ok is false when nothing may pass; same is true
// when the result is old itself, updated in place.
func filterValue(v any, n *fieldNode, old any) (out any, same, ok bool) {
	if !n.list {
		return filterElem(v, n, old)
	}
	l, ok := asList(v)
	if !ok {
		return nil, false, false
	}
	prev, _ := old.([]any)
	var res []any
	if cap(prev) >= len(l) && cap(prev) > 0 {
		res = prev[:0]
	} else {
		res = make([]any, 0, len(l))
	}
	for _, e := range l {
		var p any
		if len(res) < len(prev) {
			p = prev[len(res)]
		}
		if fe, _, ok := filterElem(e, n, p); ok {
			res = append(res, fe)
		}
	}
	if len(res) == len(prev) && len(res) > 0 && &res[0] == &prev[0] {
		return old, true, true // the same list: not boxed again
	}
	return res, false, true
}

// filterElem filters a single (non-list-step) value, reusing old when it
// is a map an inner node can fill again.
func filterElem(v any, n *fieldNode, old any) (out any, same, ok bool) {
	if n.leaf {
		return mapping.CloneValue(v), false, true
	}
	m, ok := asMap(v)
	if !ok {
		return nil, false, false
	}
	dst, reused := old.(map[string]any)
	if !reused {
		dst = make(map[string]any, len(n.children))
	}
	filterInto(dst, m, n.children, reused)
	return dst, reused, true
}
