package gnmi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"sort"
	"strconv"

	gpb "github.com/openconfig/gnmi/proto/gnmi"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	gnmiclient "github.com/p4fabric/fabric/driver/gnmi"
)

// opError is the failure of one operation of a SetRequest: its gRPC code
// and what went wrong, naming the path.
type opError struct {
	code codes.Code
	msg  string
}

func (e *opError) Error() string { return e.msg }

func failf(code codes.Code, format string, args ...any) error {
	return &opError{code: code, msg: fmt.Sprintf(format, args...)}
}

// pathError turns a resolve error into the Set codes of section 3.4.7:
// INVALID_ARGUMENT for a path that cannot be parsed, NOT_FOUND for one that
// is not in the schema.
func pathError(err error) error {
	if errors.Is(err, errUnknown) {
		return failf(codes.NotFound, "%v", err)
	}
	return failf(codes.InvalidArgument, "%v", err)
}

// Set implements gNMI Set (specification section 3.4). The operations are
// applied in the order deletes, replaces, updates to a copy of the
// configuration; only when every one succeeds is the copy committed and
// published, so a request with one bad operation changes nothing (section
// 3.4.3).
//
// The RPC fails with the code of the first failing operation (section
// 3.4.7): NOT_FOUND for a path outside the schema or an interface the
// switch does not have; INVALID_ARGUMENT for a path that cannot be parsed, a
// value of the wrong type or out of range, a wildcard in an update or
// replace, a key that contradicts the path (section 3.4.5), and a write to a
// read-only (state) path — the specification names no code for that last
// case; UNIMPLEMENTED for values in an encoding other than JSON, JSON_IETF or
// scalar TypedValues, and for union_replace. The message names the
// operation (by its index in its group) and the path.
func (s *Server) Set(ctx context.Context, req *gpb.SetRequest) (*gpb.SetResponse, error) {
	if err := s.authenticate(ctx); err != nil {
		return nil, err
	}
	if len(req.GetUnionReplace()) > 0 {
		return nil, status.Error(codes.Unimplemented, "gnmi: set: union_replace is not supported")
	}
	s.syncCounters()
	s.mu.Lock()
	t := &txn{s: s, cfg: s.cfg.Clone()}
	var results []*gpb.UpdateResult
	fail := func(what string, i int, p *gpb.Path, err error) (*gpb.SetResponse, error) {
		s.mu.Unlock()
		text, perr := gnmiclient.PathString(p)
		if perr != nil {
			text = "(unprintable path)"
		}
		code := codes.InvalidArgument
		var oe *opError
		if errors.As(err, &oe) {
			code = oe.code
		}
		return nil, status.Errorf(code, "gnmi: set: %s %d %s: %v; nothing was changed", what, i, text, err)
	}
	for i, d := range req.GetDelete() {
		p, err := joinPath(req.GetPrefix(), d)
		if err == nil {
			err = t.delete(p)
		}
		if err != nil {
			return fail("delete", i, d, err)
		}
		results = append(results, &gpb.UpdateResult{Path: d, Op: gpb.UpdateResult_DELETE})
	}
	for i, u := range req.GetReplace() {
		p, err := joinPath(req.GetPrefix(), u.GetPath())
		if err == nil {
			err = t.update(p, u.GetVal(), true)
		}
		if err != nil {
			return fail("replace", i, u.GetPath(), err)
		}
		results = append(results, &gpb.UpdateResult{Path: u.GetPath(), Op: gpb.UpdateResult_REPLACE})
	}
	for i, u := range req.GetUpdate() {
		p, err := joinPath(req.GetPrefix(), u.GetPath())
		if err == nil {
			err = t.update(p, u.GetVal(), false)
		}
		if err != nil {
			return fail("update", i, u.GetPath(), err)
		}
		results = append(results, &gpb.UpdateResult{Path: u.GetPath(), Op: gpb.UpdateResult_UPDATE})
	}
	ts := s.now()
	ch := s.commit(ts, t.cfg)
	n := len(results)
	s.mu.Unlock()
	if ch.changed() {
		s.runHooks(ch)
	}
	s.o.log.Debug("gnmi set", "operations", n, "ports", len(ch.Ports), "hostname", ch.Hostname, "ntp", ch.NTP, "node_id", ch.NodeID)
	return &gpb.SetResponse{Prefix: req.GetPrefix(), Response: results, Timestamp: ts}, nil
}

// commit makes cfg the running configuration, publishes the difference and
// a CONFIG_CHANGE message. Caller holds s.mu.
func (s *Server) commit(ts int64, cfg Config) ConfigChange {
	var ch ConfigChange
	old := s.cfg
	s.cfg = cfg
	for i := range cfg.Interfaces {
		if old.Interfaces[i] != cfg.Interfaces[i] {
			s.publishInterface(ts, old.Interfaces[i], cfg.Interfaces[i], false)
			ch.Ports = append(ch.Ports, uint32(i+1))
		}
	}
	if old.Hostname != cfg.Hostname {
		s.publishHostname(ts)
		ch.Hostname = true
	}
	if old.NTP.Enabled != cfg.NTP.Enabled || !slices.Equal(old.NTP.Servers, cfg.NTP.Servers) {
		s.publishNTP(ts, old.NTP, cfg.NTP)
		ch.NTP = true
	}
	if old.NodeID != cfg.NodeID {
		s.publishNodeID(ts)
		ch.NodeID = true
	}
	if ch.changed() {
		what := []string{}
		if len(ch.Ports) > 0 {
			what = append(what, fmt.Sprintf("%d interface(s)", len(ch.Ports)))
		}
		if ch.Hostname {
			what = append(what, "hostname")
		}
		if ch.NTP {
			what = append(what, "NTP")
		}
		if ch.NodeID {
			what = append(what, fmt.Sprintf("P4Runtime node ID %d (was %d)", cfg.NodeID, old.NodeID))
		}
		s.publishMessage(ts, Message{Severity: SeverityNotice, App: "gnmi", ID: MsgConfigChange,
			Text: fmt.Sprintf("Configuration changed by gNMI Set: %v", what)})
	}
	return ch
}

// txn is a Set request being applied to a copy of the configuration.
type txn struct {
	s   *Server
	cfg Config
}

// delete removes the configuration under a path (section 3.4.6): leaves go
// back to their defaults, NTP servers are removed; a physical interface
// cannot be removed, so deleting it resets its configuration. Wildcards are
// expanded; a path that matches nothing is accepted.
func (t *txn) delete(p *gpb.Path) error {
	pt, err := resolve(p)
	if err != nil {
		return pathError(err)
	}
	if !pt.anyDepth {
		writable := false
		for _, n := range pt.nodes {
			writable = writable || n.hasWritable()
		}
		if !writable {
			return failf(codes.InvalidArgument, "%s is read-only state", pt.text)
		}
	}
	var resetIf []int
	var dropServers []string
	t.cfg.visit(func(elems []*gpb.PathElem, id leafID, index int, addr string) {
		if !pt.covers(elems, false) {
			return
		}
		c := &t.cfg
		switch id {
		case idIfKey:
			resetIf = append(resetIf, index)
		case idIfEnabled:
			c.Interfaces[index].Enabled = true
		case idIfDescription:
			c.Interfaces[index].Description = ""
		case idIfMTU:
			c.Interfaces[index].MTU = DefaultMTU
		case idHostname:
			c.Hostname = t.s.defaultHostname()
		case idNTPEnabled:
			c.NTP.Enabled = false
		case idNTPKey, idNTPAddress:
			dropServers = append(dropServers, addr)
		case idNTPPort:
			c.NTP.Servers[index].Port = DefaultNTPPort
		case idNodeID:
			c.NodeID = t.s.o.nodeID
		}
	})
	for _, i := range resetIf {
		t.cfg.Interfaces[i] = defaultInterface(uint32(i + 1))
	}
	for _, a := range dropServers {
		if i, ok := t.cfg.NTP.server(a); ok {
			t.cfg.NTP.Servers = slices.Delete(t.cfg.NTP.Servers, i, i+1)
		}
	}
	return nil
}

func (s *Server) defaultHostname() string {
	if checkHostname(s.o.name) == nil {
		return s.o.name
	}
	return "switch"
}

// visit calls f for every configuration leaf instance: its path, what it
// is, the interface or server index, and the server address.
func (c *Config) visit(f func(elems []*gpb.PathElem, id leafID, index int, addr string)) {
	for i, ic := range c.Interfaces {
		e := slices.Clip(ifPath(ic.Name))
		f(append(e, elem("name")), idIfKey, i, "")
		f(append(e, elem("config"), elem("name")), idIfName, i, "")
		f(append(e, elem("config"), elem("enabled")), idIfEnabled, i, "")
		if ic.Description != "" {
			f(append(e, elem("config"), elem("description")), idIfDescription, i, "")
		}
		f(append(e, elem("config"), elem("mtu")), idIfMTU, i, "")
	}
	f(compPath(ChipName, "integrated-circuit", "config", "node-id"), idNodeID, 0, "")
	f(sysPath("config", "hostname"), idHostname, 0, "")
	f(sysPath("ntp", "config", "enabled"), idNTPEnabled, 0, "")
	for i, sv := range c.NTP.Servers {
		e := slices.Clip(ntpServerPath(sv.Address))
		f(append(e, elem("address")), idNTPKey, i, sv.Address)
		f(append(e, elem("config"), elem("address")), idNTPAddress, i, sv.Address)
		f(append(e, elem("config"), elem("port")), idNTPPort, i, sv.Address)
	}
}

// update applies an update or replace (section 3.4.4) of the subtree at p.
func (t *txn) update(p *gpb.Path, tv *gpb.TypedValue, replace bool) error {
	pt, err := resolve(p)
	if err != nil {
		return pathError(err)
	}
	if pt.wild {
		return failf(codes.InvalidArgument, "%s: wildcards and left-out keys are allowed in deletes only", pt.text)
	}
	n := pt.nodes[0]
	if !n.hasWritable() {
		return failf(codes.InvalidArgument, "%s is read-only state", pt.text)
	}
	var v any
	isJSON := false
	switch x := tv.GetValue().(type) {
	case nil:
		return failf(codes.InvalidArgument, "%s: no value", pt.text)
	case *gpb.TypedValue_JsonVal:
		v, err = decodeJSON(x.JsonVal)
		isJSON = true
	case *gpb.TypedValue_JsonIetfVal:
		v, err = decodeJSON(x.JsonIetfVal)
		isJSON = true
	case *gpb.TypedValue_StringVal, *gpb.TypedValue_IntVal, *gpb.TypedValue_UintVal, *gpb.TypedValue_BoolVal:
		v = tv
	case *gpb.TypedValue_AsciiVal, *gpb.TypedValue_BytesVal, *gpb.TypedValue_AnyVal, *gpb.TypedValue_ProtoBytes:
		return failf(codes.Unimplemented, "%s: %T values are not supported (use JSON, JSON_IETF or scalar values)", pt.text, x)
	default:
		return failf(codes.InvalidArgument, "%s: a %T does not fit any leaf of the schema", pt.text, x)
	}
	if err != nil {
		return failf(codes.InvalidArgument, "%s: %v", pt.text, err)
	}
	if !isJSON && !n.kind.isLeaf() {
		return failf(codes.InvalidArgument, "%s is a %s: its value must be JSON", pt.text, n.kind)
	}
	if replace {
		if err := t.delete(p); err != nil {
			return err
		}
	}
	return t.walk(n, slices.Clone(pt.elems), v, pt.text)
}

// decodeJSON decodes one JSON value with exact numbers.
func decodeJSON(b []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("invalid JSON: %v", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("invalid JSON: data after the value")
	}
	return v, nil
}

// walk applies value v (decoded JSON, or a scalar TypedValue for a leaf) to
// schema node n at path elems.
func (t *txn) walk(n *node, elems []*gpb.PathElem, v any, text string) error {
	if n.kind.isLeaf() {
		if !n.writable() {
			return failf(codes.InvalidArgument, "%s is read-only state", pathText(elems))
		}
		return t.assign(n, elems, v)
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return failf(codes.InvalidArgument, "%s: want a JSON object for %s %q, got %s", pathText(elems), n.kind, n.name, jsonKind(v))
	}
	names := make([]string, 0, len(obj))
	for k := range obj {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, name := range names {
		c := n.child(name)
		if c == nil {
			return failf(codes.NotFound, "%s/%s: no such path in the schema", pathText(elems), name)
		}
		val := obj[name]
		if c.kind != kList {
			if err := t.walk(c, appendElem(elems, &gpb.PathElem{Name: c.name}), val, text); err != nil {
				return err
			}
			continue
		}
		entries, ok := val.([]any)
		if !ok {
			return failf(codes.InvalidArgument, "%s/%s: want a JSON array of list entries, got %s", pathText(elems), c.name, jsonKind(val))
		}
		for j, e := range entries {
			eo, ok := e.(map[string]any)
			if !ok {
				return failf(codes.InvalidArgument, "%s/%s entry %d: want a JSON object, got %s", pathText(elems), c.name, j, jsonKind(e))
			}
			key, err := keyString(eo[c.key])
			if err != nil {
				return failf(codes.InvalidArgument, "%s/%s entry %d: key %q: %v", pathText(elems), c.name, j, c.key, err)
			}
			ee := appendElem(elems, &gpb.PathElem{Name: c.name, Key: map[string]string{c.key: key}})
			if err := t.walk(c, ee, eo, text); err != nil {
				return err
			}
		}
	}
	return nil
}

func appendElem(elems []*gpb.PathElem, e *gpb.PathElem) []*gpb.PathElem {
	return append(slices.Clip(elems), e)
}

func keyString(v any) (string, error) {
	switch x := v.(type) {
	case string:
		if x == "" {
			return "", errors.New("empty")
		}
		return x, nil
	case json.Number:
		return x.String(), nil
	case nil:
		return "", errors.New("missing")
	}
	return "", fmt.Errorf("want a string, got %s", jsonKind(v))
}

func jsonKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "a boolean"
	case json.Number:
		return "a number"
	case string:
		return "a string"
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	case *gpb.TypedValue:
		return "a scalar TypedValue"
	}
	return fmt.Sprintf("%T", v)
}

func pathText(elems []*gpb.PathElem) string {
	s, err := gnmiclient.PathString(&gpb.Path{Elem: elems})
	if err != nil {
		return "(unprintable path)"
	}
	return s
}

// keyOf returns the key value of the last element named list in elems.
func keyOf(elems []*gpb.PathElem, list, key string) string {
	for i := len(elems) - 1; i >= 0; i-- {
		if elems[i].GetName() == list {
			return elems[i].GetKey()[key]
		}
	}
	return ""
}

// assign sets one writable leaf.
func (t *txn) assign(n *node, elems []*gpb.PathElem, v any) error {
	where := pathText(elems)
	x, err := convert(n, v)
	if err != nil {
		return failf(codes.InvalidArgument, "%s: %v", where, err)
	}
	c := &t.cfg
	switch n.id {
	case idIfKey, idIfName, idIfEnabled, idIfDescription, idIfMTU:
		name := keyOf(elems, "interface", "name")
		port, ok := portOf(name, len(c.Interfaces))
		if !ok {
			return failf(codes.NotFound, "%s: the switch has no interface %q (interfaces eth1..eth%d)", where, name, len(c.Interfaces))
		}
		ic := &c.Interfaces[port-1]
		switch n.id {
		case idIfKey, idIfName:
			if x.(string) != name {
				return failf(codes.InvalidArgument, "%s: value %q contradicts the key %q in the path", where, x, name)
			}
		case idIfEnabled:
			ic.Enabled = x.(bool)
		case idIfDescription:
			d := x.(string)
			if err := checkDescription(d); err != nil {
				return failf(codes.InvalidArgument, "%s: %v", where, err)
			}
			ic.Description = d
		case idIfMTU:
			m := x.(uint64)
			if m < MinMTU || m > MaxMTU {
				return failf(codes.InvalidArgument, "%s: MTU %d out of range %d..%d", where, m, MinMTU, MaxMTU)
			}
			ic.MTU = uint16(m)
		}
	case idHostname:
		h := x.(string)
		if err := checkHostname(h); err != nil {
			return failf(codes.InvalidArgument, "%s: %v", where, err)
		}
		c.Hostname = h
	case idNTPEnabled:
		c.NTP.Enabled = x.(bool)
	case idCompKey:
		name := keyOf(elems, "component", "name")
		if !t.s.hasComponent(name) {
			return failf(codes.NotFound, "%s: the switch has no component %q", where, name)
		}
		if x.(string) != name {
			return failf(codes.InvalidArgument, "%s: value %q contradicts the key %q in the path", where, x, name)
		}
	case idNodeID:
		// Only the chip has an integrated-circuit container; the schema
		// puts it under every component, so the key decides.
		if name := keyOf(elems, "component", "name"); name != ChipName {
			return failf(codes.NotFound, "%s: component %q is not an integrated circuit (the switch's chip is %q)", where, name, ChipName)
		}
		c.NodeID = x.(uint64)
	case idNTPKey, idNTPAddress, idNTPPort:
		addr := keyOf(elems, "server", "address")
		if err := checkServerAddress(addr); err != nil {
			return failf(codes.InvalidArgument, "%s: %v", where, err)
		}
		i, ok := c.NTP.server(addr)
		if !ok {
			c.NTP.Servers = slices.Insert(c.NTP.Servers, i, NTPServer{Address: addr, Port: DefaultNTPPort})
		}
		switch n.id {
		case idNTPKey, idNTPAddress:
			if x.(string) != addr {
				return failf(codes.InvalidArgument, "%s: value %q contradicts the key %q in the path", where, x, addr)
			}
		case idNTPPort:
			p := x.(uint64)
			if p == 0 {
				return failf(codes.InvalidArgument, "%s: port 0", where)
			}
			c.NTP.Servers[i].Port = uint16(p)
		}
	default:
		return failf(codes.InvalidArgument, "%s is read-only state", where)
	}
	return nil
}

// convert checks a value against a leaf's type and returns it as a string,
// bool or uint64. v is a decoded JSON value or a scalar TypedValue.
func convert(n *node, v any) (any, error) {
	if tv, ok := v.(*gpb.TypedValue); ok {
		switch x := tv.GetValue().(type) {
		case *gpb.TypedValue_StringVal:
			v = x.StringVal
		case *gpb.TypedValue_BoolVal:
			v = x.BoolVal
		case *gpb.TypedValue_UintVal:
			v = json.Number(strconv.FormatUint(x.UintVal, 10))
		case *gpb.TypedValue_IntVal:
			v = json.Number(strconv.FormatInt(x.IntVal, 10))
		default:
			return nil, fmt.Errorf("%T does not fit a %s leaf", x, n.kind)
		}
	}
	switch n.kind {
	case kString, kEnum:
		s, ok := v.(string)
		if !ok {
			return nil, fmt.Errorf("want a string, got %s", jsonKind(v))
		}
		if n.kind == kEnum && !slices.Contains(n.enum, s) {
			return nil, fmt.Errorf("%q is not one of %v", s, n.enum)
		}
		return s, nil
	case kBool:
		b, ok := v.(bool)
		if !ok {
			return nil, fmt.Errorf("want a boolean, got %s", jsonKind(v))
		}
		return b, nil
	case kUint8, kUint16, kUint32, kUint64:
		var text string
		switch x := v.(type) {
		case json.Number:
			text = x.String()
		case string:
			if n.kind != kUint64 { // RFC 7951 quotes 64-bit integers only
				return nil, fmt.Errorf("want a number, got a string")
			}
			text = x
		default:
			return nil, fmt.Errorf("want an unsigned integer, got %s", jsonKind(v))
		}
		u, err := strconv.ParseUint(text, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("%q is not an unsigned integer", text)
		}
		limit := map[kind]uint64{kUint8: math.MaxUint8, kUint16: math.MaxUint16, kUint32: math.MaxUint32, kUint64: math.MaxUint64}[n.kind]
		if u > limit {
			return nil, fmt.Errorf("%d out of range of %s", u, n.kind)
		}
		return u, nil
	}
	return nil, fmt.Errorf("cannot set a %s", n.kind)
}
