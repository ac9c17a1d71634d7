package gnmi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/openconfig/gnmi/ctree"
	gpb "github.com/openconfig/gnmi/proto/gnmi"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	gnmiclient "github.com/p4fabric/fabric/driver/gnmi"
)

// leaf is one leaf value read from the cache.
type leaf struct {
	elems []*gpb.PathElem
	node  *node
	val   *gpb.TypedValue
	ts    int64
}

// leafElems returns the path of a cache entry and whether it is an atomic
// container.
func leafElems(n *gpb.Notification) ([]*gpb.PathElem, bool) {
	if n.GetAtomic() {
		return n.GetPrefix().GetElem(), true
	}
	if len(n.GetUpdate()) == 0 {
		return nil, false
	}
	return n.GetUpdate()[0].GetPath().GetElem(), false
}

// expand turns a cache entry into its leaves (an atomic container into each
// of its members), keeping those the pattern covers.
func expand(n *gpb.Notification, pt *pattern, dst []leaf) []leaf {
	if !n.GetAtomic() {
		for _, u := range n.GetUpdate() {
			elems := u.GetPath().GetElem()
			dst = append(dst, leaf{elems: elems, node: lookup(elems), val: u.GetVal(), ts: n.GetTimestamp()})
		}
		return dst
	}
	pre := n.GetPrefix().GetElem()
	for _, u := range n.GetUpdate() {
		elems := append(append(make([]*gpb.PathElem, 0, len(pre)+len(u.GetPath().GetElem())), pre...), u.GetPath().GetElem()...)
		if pt != nil && !pt.covers(elems, false) {
			continue
		}
		dst = append(dst, leaf{elems: elems, node: lookup(elems), val: u.GetVal(), ts: n.GetTimestamp()})
	}
	return dst
}

// query returns the cache entries a pattern covers. Caller holds s.mu (read)
// when a consistent snapshot matters.
func (s *Server) query(pt *pattern, f func(*gpb.Notification)) {
	_ = s.cache.Query(s.o.name, pt.query, func(_ []string, _ *ctree.Leaf, v any) error {
		n, ok := v.(*gpb.Notification)
		if !ok {
			return nil
		}
		elems, atomic := leafElems(n)
		if pt.covers(elems, atomic) {
			f(n)
		}
		return nil
	})
}

// touches reports whether any pattern may cover /system (to refresh the
// clock before reading it).
func touchesSystem(pts []*pattern) bool {
	for _, pt := range pts {
		if pt.top["system"] {
			return true
		}
	}
	return false
}

// checkEncoding refuses encodings the server does not produce (sections
// 3.3.1 and 3.5.1.2: UNIMPLEMENTED).
func checkEncoding(e gpb.Encoding) error {
	switch e {
	case gpb.Encoding_JSON, gpb.Encoding_JSON_IETF, gpb.Encoding_PROTO:
		return nil
	}
	return status.Errorf(codes.Unimplemented, "gnmi: encoding %v is not supported (JSON, JSON_IETF and PROTO are)", e)
}

// modelFilter returns the top-level names use_models allows, nil for all.
func modelFilter(use []*gpb.ModelData) (map[string]bool, error) {
	if len(use) == 0 {
		return nil, nil
	}
	allowed := map[string]bool{}
	for _, u := range use {
		found := false
		for _, m := range models {
			if m.name == u.GetName() {
				found = true
				if m.top != "" {
					allowed[m.top] = true
				}
			}
		}
		if !found {
			return nil, status.Errorf(codes.InvalidArgument, "gnmi: use_models: model %q is not supported", u.GetName())
		}
	}
	return allowed, nil
}

func topName(elems []*gpb.PathElem) string {
	if len(elems) == 0 {
		return ""
	}
	return elems[0].GetName()
}

// Get implements gNMI Get (specification section 3.3). Every requested path
// gets one notification. With PROTO encoding it holds one update per leaf;
// with JSON and JSON_IETF one update per node the path names (per matching
// node for a wildcard path), whose value is the JSON of its subtree — a bare
// value for a leaf (section 2.3.1). A path that cannot be parsed or is not
// in the schema is INVALID_ARGUMENT; a path without wildcards that holds no
// data is NOT_FOUND.
func (s *Server) Get(ctx context.Context, req *gpb.GetRequest) (*gpb.GetResponse, error) {
	if err := s.authenticate(ctx); err != nil {
		return nil, err
	}
	if err := checkEncoding(req.GetEncoding()); err != nil {
		return nil, err
	}
	allowed, err := modelFilter(req.GetUseModels())
	if err != nil {
		return nil, err
	}
	var want func(*node) bool
	switch req.GetType() {
	case gpb.GetRequest_ALL:
		want = func(*node) bool { return true }
	case gpb.GetRequest_CONFIG:
		want = func(n *node) bool { return n != nil && n.class == classConfig }
	case gpb.GetRequest_STATE:
		want = func(n *node) bool { return n != nil && n.class != classConfig }
	case gpb.GetRequest_OPERATIONAL:
		want = func(n *node) bool { return n != nil && n.class == classOperational }
	default:
		return nil, status.Errorf(codes.InvalidArgument, "gnmi: get: unknown data type %v", req.GetType())
	}
	pts := make([]*pattern, 0, len(req.GetPath()))
	for i, p := range req.GetPath() {
		full, err := joinPath(req.GetPrefix(), p)
		if err == nil {
			var pt *pattern
			if pt, err = resolve(full); err == nil {
				pts = append(pts, pt)
				continue
			}
		}
		return nil, status.Errorf(codes.InvalidArgument, "gnmi: get: path %d: %v", i, err)
	}
	s.syncCounters()
	if touchesSystem(pts) {
		s.refreshClock()
	}
	respPrefix := responsePrefix(req.GetPrefix())
	out := &gpb.GetResponse{}
	s.mu.RLock()
	ts := s.o.clock().UnixNano() // the snapshot's time (section 3.3.2)
	perPath := make([][]leaf, len(pts))
	for i, pt := range pts {
		var leaves []leaf
		s.query(pt, func(n *gpb.Notification) { leaves = expand(n, pt, leaves) })
		keep := leaves[:0]
		for _, l := range leaves {
			if want(l.node) && (allowed == nil || allowed[topName(l.elems)]) {
				keep = append(keep, l)
			}
		}
		perPath[i] = keep
	}
	s.mu.RUnlock()
	for i, pt := range pts {
		leaves := perPath[i]
		if len(leaves) == 0 && !pt.wild {
			return nil, status.Errorf(codes.NotFound, "gnmi: get: %s: no data", pt.text)
		}
		n := &gpb.Notification{Timestamp: ts, Prefix: respPrefix}
		if req.GetEncoding() == gpb.Encoding_PROTO {
			sortLeaves(leaves)
			for _, l := range leaves {
				n.Update = append(n.Update, &gpb.Update{Path: &gpb.Path{Elem: l.elems}, Val: l.val})
			}
		} else {
			ups, err := renderJSON(leaves, pt, req.GetEncoding() == gpb.Encoding_JSON_IETF)
			if err != nil {
				return nil, status.Errorf(codes.Internal, "gnmi: get: %s: %v", pt.text, err)
			}
			n.Update = ups
		}
		out.Notification = append(out.Notification, n)
	}
	return out, nil
}

// responsePrefix is the prefix of response notifications: the request's
// target and origin (section 2.2.2.1); paths in the updates are absolute.
func responsePrefix(p *gpb.Path) *gpb.Path {
	if p.GetTarget() == "" && p.GetOrigin() == "" {
		return nil
	}
	return &gpb.Path{Target: p.GetTarget(), Origin: p.GetOrigin()}
}

func sortLeaves(ls []leaf) {
	sort.SliceStable(ls, func(i, j int) bool { return lessElems(ls[i].elems, ls[j].elems) })
}

// lessElems orders paths element by element, keys in natural order
// ("eth2" before "eth10").
func lessElems(a, b []*gpb.PathElem) bool {
	for i := 0; i < len(a) && i < len(b); i++ {
		if a[i].GetName() != b[i].GetName() {
			return a[i].GetName() < b[i].GetName()
		}
		ka, kb := keyText(a[i]), keyText(b[i])
		if ka != kb {
			return naturalLess(ka, kb)
		}
	}
	return len(a) < len(b)
}

func keyText(e *gpb.PathElem) string {
	if len(e.GetKey()) == 0 {
		return ""
	}
	if len(e.GetKey()) == 1 {
		for _, v := range e.GetKey() {
			return v
		}
	}
	names := make([]string, 0, len(e.GetKey()))
	for k := range e.GetKey() {
		names = append(names, k)
	}
	sort.Strings(names)
	var b strings.Builder
	for _, k := range names {
		b.WriteString(e.GetKey()[k])
		b.WriteByte(0)
	}
	return b.String()
}

// naturalLess compares strings with runs of digits compared as numbers.
func naturalLess(a, b string) bool {
	for a != "" && b != "" {
		da, db := digitRun(a), digitRun(b)
		if da > 0 && db > 0 {
			na, nb := strings.TrimLeft(a[:da], "0"), strings.TrimLeft(b[:db], "0")
			if len(na) != len(nb) {
				return len(na) < len(nb)
			}
			if na != nb {
				return na < nb
			}
			a, b = a[da:], b[db:]
			continue
		}
		if a[0] != b[0] {
			return a[0] < b[0]
		}
		a, b = a[1:], b[1:]
	}
	return len(a) < len(b)
}

func digitRun(s string) int {
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	return i
}

// jsonScalar returns the JSON value of a scalar leaf: numbers stay numbers,
// except 64-bit integers in JSON_IETF, which RFC 7951 section 6.1 writes as
// strings.
func jsonScalar(tv *gpb.TypedValue, ietf bool) any {
	switch x := tv.GetValue().(type) {
	case *gpb.TypedValue_StringVal:
		return x.StringVal
	case *gpb.TypedValue_BoolVal:
		return x.BoolVal
	case *gpb.TypedValue_UintVal:
		if ietf {
			return strconv.FormatUint(x.UintVal, 10)
		}
		return x.UintVal
	case *gpb.TypedValue_IntVal:
		if ietf {
			return strconv.FormatInt(x.IntVal, 10)
		}
		return x.IntVal
	}
	v, err := gnmiclient.DecodeValue(tv)
	if err != nil {
		return nil
	}
	return v
}

// jsonLeafValue encodes one scalar leaf for a Subscribe update.
func jsonLeafValue(tv *gpb.TypedValue, enc gpb.Encoding, n *node) *gpb.TypedValue {
	if enc == gpb.Encoding_PROTO {
		return tv
	}
	ietf := enc == gpb.Encoding_JSON_IETF && (n == nil || n.kind == kUint64)
	var b []byte
	switch x := tv.GetValue().(type) {
	case *gpb.TypedValue_UintVal:
		if ietf {
			b = strconv.AppendQuote(nil, strconv.FormatUint(x.UintVal, 10))
		} else {
			b = strconv.AppendUint(nil, x.UintVal, 10)
		}
	case *gpb.TypedValue_BoolVal:
		b = strconv.AppendBool(nil, x.BoolVal)
	default:
		var err error
		if b, err = json.Marshal(jsonScalar(tv, ietf)); err != nil {
			b = []byte("null")
		}
	}
	if enc == gpb.Encoding_JSON_IETF {
		return &gpb.TypedValue{Value: &gpb.TypedValue_JsonIetfVal{JsonIetfVal: b}}
	}
	return &gpb.TypedValue{Value: &gpb.TypedValue_JsonVal{JsonVal: b}}
}

// listBuilder collects the entries of a list while rendering JSON.
type listBuilder struct {
	entries map[string]map[string]any
	keys    map[string]*gpb.PathElem
}

// renderJSON groups leaves by the node of the requested depth and renders
// each group's subtree as JSON (section 2.3.1).
func renderJSON(leaves []leaf, pt *pattern, ietf bool) ([]*gpb.Update, error) {
	depth := len(pt.elems)
	type group struct {
		elems []*gpb.PathElem
		root  map[string]any
		bare  any
		isVal bool
		mod   string
	}
	var order []string
	groups := map[string]*group{}
	for _, l := range leaves {
		d := depth
		if pt.anyDepth || d > len(l.elems) {
			d = len(l.elems)
		}
		key := pathText(l.elems[:d])
		g := groups[key]
		if g == nil {
			g = &group{elems: l.elems[:d], root: map[string]any{}, mod: moduleOf(l.node)}
			groups[key] = g
			order = append(order, key)
		}
		rel := l.elems[d:]
		ietfLeaf := ietf && l.node != nil && l.node.kind == kUint64
		if len(rel) == 0 {
			g.bare, g.isVal = jsonScalar(l.val, ietfLeaf), true
			continue
		}
		if err := insertJSON(g.root, rel, jsonScalar(l.val, ietfLeaf)); err != nil {
			return nil, fmt.Errorf("%s: %w", pathText(l.elems), err)
		}
	}
	sort.SliceStable(order, func(i, j int) bool { return lessElems(groups[order[i]].elems, groups[order[j]].elems) })
	ups := make([]*gpb.Update, 0, len(order))
	for _, k := range order {
		g := groups[k]
		var v any
		if g.isVal {
			v = g.bare
		} else {
			obj := finishJSON(g.root).(map[string]any)
			if ietf && g.mod != "" {
				q := make(map[string]any, len(obj))
				for name, x := range obj {
					q[g.mod+":"+name] = x
				}
				obj = q
			}
			v = obj
		}
		b, err := json.Marshal(v)
		if err != nil {
			return nil, err
		}
		tv := &gpb.TypedValue{Value: &gpb.TypedValue_JsonVal{JsonVal: b}}
		if ietf {
			tv = &gpb.TypedValue{Value: &gpb.TypedValue_JsonIetfVal{JsonIetfVal: b}}
		}
		ups = append(ups, &gpb.Update{Path: &gpb.Path{Elem: g.elems}, Val: tv})
	}
	return ups, nil
}

var errShape = errors.New("leaf and container at the same path")

// insertJSON puts value at rel under obj, creating containers and list
// entries.
func insertJSON(obj map[string]any, rel []*gpb.PathElem, value any) error {
	for i, e := range rel {
		last := i == len(rel)-1
		name := e.GetName()
		if len(e.GetKey()) > 0 {
			lb, _ := obj[name].(*listBuilder)
			if lb == nil {
				if obj[name] != nil {
					return errShape
				}
				lb = &listBuilder{entries: map[string]map[string]any{}, keys: map[string]*gpb.PathElem{}}
				obj[name] = lb
			}
			k := keyText(e)
			entry := lb.entries[k]
			if entry == nil {
				// The key leaves belong in the entry even when the
				// request's data type filtered them out.
				entry = make(map[string]any, len(e.GetKey())+2)
				for kn, kv := range e.GetKey() {
					entry[kn] = kv
				}
				lb.entries[k] = entry
				lb.keys[k] = e
			}
			if last {
				return errShape
			}
			obj = entry
			continue
		}
		if last {
			if _, isObj := obj[name].(map[string]any); isObj {
				return errShape
			}
			obj[name] = value
			return nil
		}
		next, _ := obj[name].(map[string]any)
		if next == nil {
			if obj[name] != nil {
				return errShape
			}
			next = map[string]any{}
			obj[name] = next
		}
		obj = next
	}
	return nil
}

// finishJSON turns list builders into arrays sorted by key.
func finishJSON(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			x[k] = finishJSON(e)
		}
		return x
	case *listBuilder:
		keys := make([]string, 0, len(x.entries))
		for k := range x.entries {
			keys = append(keys, k)
		}
		sort.Slice(keys, func(i, j int) bool { return naturalLess(keys[i], keys[j]) })
		arr := make([]any, 0, len(keys))
		for _, k := range keys {
			arr = append(arr, finishJSON(x.entries[k]))
		}
		return arr
	}
	return v
}
