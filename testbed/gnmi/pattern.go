package gnmi

import (
	"errors"
	"fmt"
	"strings"

	gpb "github.com/openconfig/gnmi/proto/gnmi"

	gnmiclient "github.com/p4fabric/fabric/driver/gnmi"
)

// Path errors. errSyntax becomes INVALID_ARGUMENT everywhere; errUnknown
// (a well-formed path outside the schema) becomes NOT_FOUND in Set
// (specification section 3.4.7) and INVALID_ARGUMENT in Get and Subscribe
// (sections 3.3.1 and 3.5.1.3 call such a path invalid).
var (
	errSyntax  = errors.New("malformed path")
	errUnknown = errors.New("no such path in the schema")
)

// Limits that keep hostile requests cheap.
const (
	maxPathElems = 32
	maxEllipses  = 4
	maxKeyLen    = 1024
)

// Wildcards of the gNMI path conventions.
const (
	anyName   = "*"
	anyLevels = "..."
)

// pattern is a request path (prefix + path) checked against the schema.
type pattern struct {
	text     string          // for messages
	elems    []*gpb.PathElem // names without module prefix
	query    []string        // cache query: the concrete leading part
	wild     bool            // matches more than one node
	nodes    []*node         // schema nodes the path may end at ("..." excluded)
	anyDepth bool            // contains "..."
	module   string          // top-level module, "" when wild at the top
	top      map[string]bool // top-level names the path may reach
}

func stripModule(name string) string {
	if i := strings.IndexByte(name, ':'); i > 0 {
		return name[i+1:]
	}
	return name
}

// joinPath applies prefix to p (section 2.4.1), refusing what path.go of
// openconfig/gnmi refuses: an origin in both, or prefix elements with an
// origin in the path.
func joinPath(prefix, p *gpb.Path) (*gpb.Path, error) {
	if prefix.GetOrigin() != "" && p.GetOrigin() != "" {
		return nil, fmt.Errorf("%w: origin set in both prefix and path", errSyntax)
	}
	if p.GetOrigin() != "" && len(prefix.GetElem()) > 0 {
		return nil, fmt.Errorf("%w: path has an origin but the prefix has elements", errSyntax)
	}
	return gnmiclient.JoinPaths(prefix, p), nil
}

// resolve checks a joined path against the schema.
func resolve(p *gpb.Path) (*pattern, error) {
	text, err := gnmiclient.PathString(p)
	if err != nil {
		text = fmt.Sprint(p.GetElem())
	}
	pt := &pattern{text: text, top: map[string]bool{}}
	switch p.GetOrigin() {
	case "", "openconfig":
	default:
		return nil, fmt.Errorf("%w %s: origin %q is not served (use none or \"openconfig\")", errSyntax, text, p.GetOrigin())
	}
	if len(p.GetElement()) > 0 && len(p.GetElem()) == 0 { //nolint:staticcheck // refused, not used
		return nil, fmt.Errorf("%w: the deprecated element field is not supported; use elem", errSyntax)
	}
	if len(p.GetElem()) > maxPathElems {
		return nil, fmt.Errorf("%w %s: more than %d elements", errSyntax, text, maxPathElems)
	}
	cur := []*node{schema}
	queryDone, ellipses := false, 0
	for i, e := range p.GetElem() {
		name := stripModule(e.GetName())
		if name == "" {
			return nil, fmt.Errorf("%w %s: element %d has no name", errSyntax, text, i)
		}
		for k, v := range e.GetKey() {
			if k == "" || v == "" || len(v) > maxKeyLen {
				return nil, fmt.Errorf("%w %s: element %q: empty or oversized key", errSyntax, text, name)
			}
		}
		pe := &gpb.PathElem{Name: name, Key: e.GetKey()}
		if name == anyLevels {
			if len(e.GetKey()) > 0 {
				return nil, fmt.Errorf("%w %s: %q takes no keys", errSyntax, text, anyLevels)
			}
			if n := len(pt.elems); n > 0 && pt.elems[n-1].GetName() == anyLevels {
				continue // "/.../..." is "/..."
			}
			if ellipses++; ellipses > maxEllipses {
				return nil, fmt.Errorf("%w %s: more than %d %q", errSyntax, text, maxEllipses, anyLevels)
			}
			pt.elems = append(pt.elems, pe)
			pt.wild, pt.anyDepth, queryDone = true, true, true
			cur = nil
			continue
		}
		pt.elems = append(pt.elems, pe)
		if pt.anyDepth {
			continue // below "...": anything may follow
		}
		var next []*node
		for _, n := range cur {
			if name == anyName {
				for _, c := range n.children {
					next = append(next, c)
				}
			} else if c := n.child(name); c != nil {
				next = append(next, c)
			}
		}
		// Keys must name the list's key.
		keep := next[:0]
		for _, c := range next {
			if keysFit(c, e.GetKey()) {
				keep = append(keep, c)
			}
		}
		next = keep
		if len(next) == 0 {
			return nil, fmt.Errorf("%w: %s (element %q)", errUnknown, text, e.GetName())
		}
		if i == 0 {
			for _, c := range next {
				pt.top[c.name] = true
			}
		}
		if name == anyName {
			pt.wild, queryDone = true, true
		}
		if !queryDone {
			c := next[0]
			pt.query = append(pt.query, c.name)
			if c.kind == kList {
				v, ok := e.GetKey()[c.key]
				if !ok || v == anyName {
					v = anyName
					pt.wild = true
				}
				pt.query = append(pt.query, v)
			}
			if c.atomic {
				queryDone = true
			}
		} else {
			for _, c := range next {
				if c.kind == kList && (len(e.GetKey()) == 0 || e.GetKey()[c.key] == anyName) {
					pt.wild = true
				}
			}
		}
		cur = next
	}
	pt.nodes = cur
	if len(p.GetElem()) == 0 {
		for name := range schema.children {
			pt.top[name] = true
		}
	}
	if len(pt.top) == 1 {
		for name := range pt.top {
			pt.module = schema.children[name].module
		}
	}
	return pt, nil
}

func keysFit(n *node, keys map[string]string) bool {
	if len(keys) == 0 {
		return true
	}
	if n.kind != kList || len(keys) != 1 {
		return false
	}
	_, ok := keys[n.key]
	return ok
}

// covers reports whether the pattern selects the leaf at elems: the pattern
// matches a leading part of elems (the path names the leaf or one of its
// ancestors, section 2.4.3), or, for an atomic container, elems matches a
// leading part of the pattern.
func (pt *pattern) covers(elems []*gpb.PathElem, atomic bool) bool {
	return matchFrom(pt.elems, elems, atomic)
}

func matchFrom(pat, leaf []*gpb.PathElem, atomic bool) bool {
	for len(pat) > 0 {
		pe := pat[0]
		if pe.GetName() == anyLevels {
			for k := 0; k <= len(leaf); k++ {
				if matchFrom(pat[1:], leaf[k:], atomic) {
					return true
				}
			}
			return false
		}
		if len(leaf) == 0 {
			return atomic
		}
		le := leaf[0]
		if pe.GetName() != anyName && pe.GetName() != le.GetName() {
			return false
		}
		for k, v := range pe.GetKey() {
			if v != anyName && le.GetKey()[k] != v {
				return false
			}
		}
		pat, leaf = pat[1:], leaf[1:]
	}
	return true
}

// lookup returns the schema node of a concrete path, or nil.
func lookup(elems []*gpb.PathElem) *node {
	n := schema
	for _, e := range elems {
		if n = n.child(e.GetName()); n == nil {
			return nil
		}
	}
	return n
}
