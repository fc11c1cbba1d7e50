package mapping

// The containers of an output record: how Apply makes the maps and lists
// on the way to nested targets, and how ApplyInto takes them back from the
// record it reuses.

// shape is the tree of containers the mapping itself makes in an output
// record: the maps and lists on the way to nested targets, never a
// target's value (which may be the source's own). A map shape's edges are
// keys that hold containers; a list shape's star is the shape of every
// element and its edges are given elements (by index). Compile rejects
// targets that would make one container both (a.b with a[0]) and a target
// inside another (a[*].b with a[0]), so no target's value sits where a
// shape is.
type shape struct {
	list  bool
	star  *shape
	edges []shapeEdge
}

// shapeEdge leads from a container to one inside it: by key in a map, by
// index in a list.
type shapeEdge struct {
	key   string
	index int
	shape *shape
}

// buildShape merges the container paths of the rules' targets; nil when
// every target is a top-level field.
func buildShape(rules []compiledRule) *shape {
	var root *shape
	for i := range rules {
		segs := rules[i].target.segs
		if len(segs) < 2 {
			continue
		}
		if root == nil {
			root = &shape{}
		}
		cur := root
		for k, s := range segs[:len(segs)-1] {
			cur = cur.child(s)
			cur.list = segs[k+1].kind != segKey
		}
	}
	return root
}

// child returns (adding it) the shape reached from sh by step s.
func (sh *shape) child(s seg) *shape {
	if s.kind == segStar {
		if sh.star == nil {
			sh.star = &shape{}
		}
		return sh.star
	}
	for _, e := range sh.edges {
		if e.key == s.key && e.index == s.index {
			return e.shape
		}
	}
	c := &shape{}
	sh.edges = append(sh.edges, shapeEdge{key: s.key, index: s.index, shape: c})
	return c
}

// Bounds on what one ApplyInto recycles; the rest is left to the garbage
// collector. They keep the duplicate check of lists cheap and the pooled
// scratch small whatever the record.
const (
	maxRecycledMaps  = 256
	maxRecycledLists = 64
	maxRecycledCap   = 1024
)

// scratch holds the containers recycled from an ApplyInto destination
// until the mapping makes new ones. A nil *scratch (Apply) makes every
// container new.
type scratch struct {
	maps  []map[string]any
	lists []recycledList
}

// recycledList is a list's array, emptied, and the interface value it was
// stored in: a list of the same length stored again reuses that value
// instead of boxing a new slice header.
type recycledList struct {
	array []any // length 0
	boxed any   // a []any of the old length over array
}

// reset drops what was not reused, keeping the slices for the next call.
func (sc *scratch) reset() {
	clear(sc.maps)
	sc.maps = sc.maps[:0]
	clear(sc.lists)
	sc.lists = sc.lists[:0]
}

// recycleFields recycles the containers under m's keys that sh lists.
func (sc *scratch) recycleFields(m map[string]any, sh *shape) {
	if sh == nil {
		return
	}
	for _, e := range sh.edges {
		if v, ok := m[e.key]; ok {
			sc.recycle(v, e.shape)
		}
	}
}

// recycle takes back v, a container of shape sh, and the containers in
// it. Values of other types (not made by the mapping) are left alone; a
// container reached twice (element 0 through a[*] and a[0]) is taken once.
func (sc *scratch) recycle(v any, sh *shape) {
	if sh.list {
		l, ok := v.([]any)
		if !ok || cap(l) == 0 || cap(l) > maxRecycledCap || len(sc.lists) == maxRecycledLists || sc.hasList(l) {
			return
		}
		if sh.star != nil {
			for _, e := range l {
				if e != nil {
					sc.recycle(e, sh.star)
				}
			}
		}
		for _, e := range sh.edges {
			if e.index < len(l) && l[e.index] != nil {
				sc.recycle(l[e.index], e.shape)
			}
		}
		clear(l[:cap(l)])
		sc.lists = append(sc.lists, recycledList{array: l[:0], boxed: v})
		return
	}
	m, ok := v.(map[string]any)
	// The mapping never leaves an empty map: an empty one was recycled
	// already (a map reached twice) or is not the mapping's.
	if !ok || len(m) == 0 || len(sc.maps) == maxRecycledMaps {
		return
	}
	sc.recycleFields(m, sh)
	clear(m)
	sc.maps = append(sc.maps, m)
}

// hasList reports whether l's array was recycled already.
func (sc *scratch) hasList(l []any) bool {
	p := &l[:1][0]
	for _, x := range sc.lists {
		if &x.array[:1][0] == p {
			return true
		}
	}
	return false
}

// newMap returns an empty map for a nested target.
func (sc *scratch) newMap() map[string]any {
	if sc != nil && len(sc.maps) > 0 {
		m := sc.maps[len(sc.maps)-1]
		sc.maps[len(sc.maps)-1] = nil
		sc.maps = sc.maps[:len(sc.maps)-1]
		return m
	}
	return make(map[string]any, 4)
}

// grow returns l grown to n elements, the new ones nil, and the same
// list boxed in an interface value when a recycled one fits (else nil).
func (sc *scratch) grow(l []any, n int) ([]any, any) {
	if sc != nil && len(sc.lists) > 0 && cap(sc.lists[len(sc.lists)-1].array) >= n {
		r := sc.lists[len(sc.lists)-1]
		sc.lists[len(sc.lists)-1] = recycledList{}
		sc.lists = sc.lists[:len(sc.lists)-1]
		grown := r.array[:n]
		copy(grown, l)
		if len(r.boxed.([]any)) != n {
			r.boxed = nil
		}
		return grown, r.boxed
	}
	grown := make([]any, n)
	copy(grown, l)
	return grown, nil
}

// box returns l as an interface value: boxed when grow found one.
func box(l []any, boxed any) any {
	if boxed != nil {
		return boxed
	}
	return l
}

// setValue writes val at segs under cur, making the maps and lists on the
// way as needed, and returns cur (or the container made in its place);
// star is the index used for a [*] segment. Existing containers are
// updated in place: re-storing a list in a map would box its header again
// (an allocation per write).
func (sc *scratch) setValue(cur any, segs []seg, val any, star int) any {
	if len(segs) == 0 {
		return val
	}
	s := &segs[0]
	if s.kind == segKey {
		m, ok := cur.(map[string]any)
		if !ok {
			m = sc.newMap()
		}
		if len(segs) == 1 {
			m[s.key] = val
			return m
		}
		child := m[s.key]
		switch c := child.(type) {
		case map[string]any:
			if segs[1].kind == segKey {
				sc.setValue(c, segs[1:], val, star)
				return m
			}
		case []any:
			idx := segs[1].index
			if segs[1].kind == segStar {
				idx = star
			}
			if segs[1].kind != segKey && idx < len(c) {
				c[idx] = sc.setValue(c[idx], segs[2:], val, star)
				return m
			}
		}
		m[s.key] = sc.setValue(child, segs[1:], val, star)
		return m
	}
	idx := s.index
	if s.kind == segStar {
		idx = star
	}
	l, _ := cur.([]any)
	var boxed any
	if idx >= len(l) {
		l, boxed = sc.grow(l, idx+1)
	}
	l[idx] = sc.setValue(l[idx], segs[1:], val, star)
	return box(l, boxed)
}

// presize makes the list at the path's [*] at least n long, so that a list
// rule grows it once. It returns what must be stored in place of cur (a
// container made or grown, or cur when it was no list: an empty source
// list leaves an empty list target, as nil), and false when cur stays.
func (sc *scratch) presize(cur any, segs []seg, n int) (any, bool) {
	if len(segs) == 0 {
		return nil, false
	}
	s := &segs[0]
	switch s.kind {
	case segKey:
		m, ok := cur.(map[string]any)
		if !ok {
			m = sc.newMap()
		}
		if v, store := sc.presize(m[s.key], segs[1:], n); store {
			m[s.key] = v
		}
		return m, !ok
	case segStar:
		l, ok := cur.([]any)
		switch {
		case len(l) < n:
			return box(sc.grow(l, n)), true
		case !ok:
			return l, true
		}
		return nil, false // not boxed again: no allocation
	}
	l, ok := cur.([]any)
	var boxed any
	grown := s.index >= len(l)
	if grown {
		l, boxed = sc.grow(l, s.index+1)
	}
	if v, store := sc.presize(l[s.index], segs[1:], n); store {
		l[s.index] = v
	}
	if grown || !ok {
		return box(l, boxed), true
	}
	return nil, false
}
