package gnmi

import (
	"errors"
	"fmt"
	"strings"

	gpb "github.com/openconfig/gnmi/proto/gnmi"
	"github.com/openconfig/ygot/ygot"
	"google.golang.org/protobuf/proto"
)

// ErrPath is wrapped by every error ParsePath returns.
var ErrPath = errors.New("invalid gNMI path")

// ParsePath parses a path string into a structured gNMI path.
//
// The syntax is the one gnmic and the gNMI path conventions use:
//
//	/interfaces/interface[name=eth1]/state/counters
//	openconfig:/system/ntp/servers/server[address=10.0.0.1]
//	/interfaces/interface[name=*]/state/oper-status    (any key value)
//	/interfaces/interface/state                        (keys left out: any entry)
//	/components/.../serial-no                          (any number of levels)
//
// An optional origin comes first and ends with a colon; it may not contain
// '/', '[' or blanks. The element and key syntax, including the backslash
// escapes of '/', ']', '=' and '\' in key values, is parsed by ygot's
// StringToStructuredPath. "" and "/" are the root. Elements may not be empty
// ("/a//b" is an error), and a path whose escapes ygot would not print back
// to the same path is rejected, so that PathString and ParsePath round-trip.
func ParsePath(s string) (*gpb.Path, error) {
	origin, rest := splitOrigin(s)
	if origin != "" && strings.ContainsAny(origin, " \t\r\n") {
		return nil, fmt.Errorf("%w %q: blank in origin %q", ErrPath, s, origin)
	}
	if err := checkEmptyElems(rest); err != nil {
		return nil, fmt.Errorf("%w %q: %v", ErrPath, s, err)
	}
	p, err := ygot.StringToStructuredPath(rest)
	if err != nil {
		return nil, fmt.Errorf("%w %q: %v", ErrPath, s, err)
	}
	p.Origin = origin
	for i, e := range p.GetElem() {
		if e.GetName() == "" {
			return nil, fmt.Errorf("%w %q: element %d has no name", ErrPath, s, i)
		}
		if len(e.GetKey()) == 0 {
			e.Key = nil
		}
	}
	// ygot's parser and printer disagree on a few escapes (an escaped '/'
	// in an element name, '=' or ']' in key names): refuse those paths
	// rather than hand out one that prints as something else.
	again, err := pathElemString(p)
	if err != nil {
		return nil, fmt.Errorf("%w %q: %v", ErrPath, s, err)
	}
	q, err := ygot.StringToStructuredPath(again)
	if err != nil || !sameElems(p.GetElem(), q.GetElem()) {
		return nil, fmt.Errorf("%w %q: escapes that cannot be printed back unambiguously", ErrPath, s)
	}
	return p, nil
}

// splitOrigin separates "origin:rest". An origin is recognised only when the
// colon comes before any '/' or '['.
func splitOrigin(s string) (origin, rest string) {
	i := strings.IndexAny(s, ":/[")
	if i <= 0 || s[i] != ':' {
		return "", s
	}
	return s[:i], s[i+1:]
}

// checkEmptyElems rejects "//" outside brackets, where ygot would silently
// drop an element, and a trailing backslash, which it would drop too. It scans the way ygot's util.SplitPath does: a backslash
// escapes the next character only outside brackets.
func checkEmptyElems(s string) error {
	inKey, escape, prevSlash := false, false, false
	for _, r := range s {
		slash := false
		switch {
		case r == '[' && !escape:
			inKey = true
		case r == ']' && !escape:
			inKey = false
		case r == '\\' && !escape && !inKey:
			escape = true
			prevSlash = false
			continue
		case r == '/' && !escape && !inKey:
			if prevSlash {
				return errors.New("empty element")
			}
			slash = true
		}
		escape = false
		prevSlash = slash
	}
	if escape {
		return errors.New("trailing escape character")
	}
	return nil
}

func sameElems(a, b []*gpb.PathElem) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].GetName() != b[i].GetName() || len(a[i].GetKey()) != len(b[i].GetKey()) {
			return false
		}
		for k, v := range a[i].GetKey() {
			if w, ok := b[i].GetKey()[k]; !ok || w != v {
				return false
			}
		}
	}
	return true
}

// PathString returns the string form of a path: "origin:" when the path has
// an origin, then "/" and the elements with their keys in key-name order, as
// ygot's PathToStrings prints them. The target is not part of the string.
// It fails only for paths with an empty element or key name.
func PathString(p *gpb.Path) (string, error) {
	s, err := pathElemString(p)
	if err != nil {
		return "", err
	}
	if o := p.GetOrigin(); o != "" {
		return o + ":" + s, nil
	}
	return s, nil
}

// pathElemString prints the elements only. It joins ygot's element strings
// itself: ygot.PathToString cleans the result with path.Join, which rewrites
// key values holding "/../" or "//".
func pathElemString(p *gpb.Path) (string, error) {
	if p == nil || (len(p.GetElem()) == 0 && len(p.GetElement()) == 0) { //nolint:staticcheck // Element is read for old targets.
		return "/", nil
	}
	parts, err := ygot.PathToStrings(p)
	if err != nil {
		return "", fmt.Errorf("gnmi: path: %w", err)
	}
	return "/" + strings.Join(parts, "/"), nil
}

// JoinPaths returns prefix + p as one path, as the gNMI specification section
// 2.4.1 defines it: the elements of prefix followed by those of p. Origin and
// target come from the prefix, or from p when the prefix has none. Neither
// argument is modified.
func JoinPaths(prefix, p *gpb.Path) *gpb.Path {
	out := &gpb.Path{Target: prefix.GetTarget(), Origin: prefix.GetOrigin()}
	if out.Origin == "" {
		out.Origin = p.GetOrigin()
	}
	if out.Target == "" {
		out.Target = p.GetTarget()
	}
	out.Elem = make([]*gpb.PathElem, 0, len(prefix.GetElem())+len(p.GetElem()))
	for _, e := range prefix.GetElem() {
		out.Elem = append(out.Elem, proto.Clone(e).(*gpb.PathElem))
	}
	for _, e := range p.GetElem() {
		out.Elem = append(out.Elem, proto.Clone(e).(*gpb.PathElem))
	}
	return out
}
