package gnmi

import (
	"strings"
)

// kind is the type of a schema node.
type kind uint8

const (
	kContainer kind = iota
	kList
	kString
	kBool
	kUint8
	kUint16
	kUint32
	kUint64
	kEnum
)

func (k kind) String() string {
	return [...]string{"container", "list", "string", "boolean", "uint8", "uint16", "uint32", "uint64", "enumeration"}[k]
}

func (k kind) isLeaf() bool { return k >= kString }

// class says what kind of data a leaf holds, for GetRequest.type.
type class uint8

const (
	classConfig      class = iota // read-write configuration
	classState                    // read-only mirror of configuration
	classOperational              // read-only state the box produces
)

// leafID names the writable leaves, so that Set knows what to change.
type leafID uint8

const (
	idNone leafID = iota
	idIfKey
	idIfName
	idIfEnabled
	idIfDescription
	idIfMTU
	idHostname
	idNTPEnabled
	idNTPKey
	idNTPAddress
	idNTPPort
	idNodeID
	idCompKey
)

// node is one node of the OpenConfig subset the switch serves.
type node struct {
	name     string
	kind     kind
	key      string // list key leaf name
	children map[string]*node
	parent   *node
	module   string // YANG module of the top-level node
	class    class
	id       leafID   // writable leaves only
	enum     []string // kEnum values
	sampled  bool     // TARGET_DEFINED streams it sampled (counters, clocks)
	atomic   bool     // stored and sent as one atomic notification
}

func (n *node) writable() bool { return n.id != idNone }

func (n *node) child(name string) *node {
	if n == nil || n.children == nil {
		return nil
	}
	if c := n.children[name]; c != nil {
		return c
	}
	// Module-qualified names ("openconfig-interfaces:interfaces") as some
	// clients and RFC 7951 JSON write them.
	if i := strings.IndexByte(name, ':'); i > 0 {
		return n.children[name[i+1:]]
	}
	return nil
}

// hasWritable reports whether n or a descendant is writable.
func (n *node) hasWritable() bool {
	if n.writable() {
		return true
	}
	for _, c := range n.children {
		if c.hasWritable() {
			return true
		}
	}
	return false
}

func build(name string, k kind, children ...*node) *node {
	n := &node{name: name, kind: k}
	if len(children) > 0 {
		n.children = make(map[string]*node, len(children))
	}
	for _, c := range children {
		c.parent = n
		n.children[c.name] = c
	}
	return n
}

func container(name string, children ...*node) *node { return build(name, kContainer, children...) }

func list(name, key string, children ...*node) *node {
	n := build(name, kList, children...)
	n.key = key
	return n
}

// leaf builders: cfg is a writable leaf, st a read-only mirror of a config
// leaf, op operational state.
func cfg(name string, k kind, id leafID) *node {
	return &node{name: name, kind: k, class: classConfig, id: id}
}
func st(name string, k kind) *node { return &node{name: name, kind: k, class: classState} }
func op(name string, k kind) *node { return &node{name: name, kind: k, class: classOperational} }

func enumOp(name string, values ...string) *node {
	n := op(name, kEnum)
	n.enum = values
	return n
}

func sampledOp(name string, k kind) *node {
	n := op(name, k)
	n.sampled = true
	return n
}

// Values of the enumerations the switch reports.
const (
	statusUp   = "UP"
	statusDown = "DOWN"
)

var operStatuses = []string{"UP", "DOWN", "TESTING", "UNKNOWN", "DORMANT", "NOT_PRESENT", "LOWER_LAYER_DOWN"}

// Models is what Capabilities reports (and use_models accepts): the
// OpenConfig modules the switch serves a subset of.
var models = []model{
	{"openconfig-interfaces", "3.7.1", "interfaces"},
	{"openconfig-system", "2.1.0", "system"},
	{"openconfig-platform", "0.24.0", "components"},
	{"openconfig-messages", "0.1.0", "messages"},
	{"openconfig-p4rt", "1.0.0", ""}, // augments interfaces with the P4 port id, integrated circuits with node-id
}

type model struct {
	name, version, top string
}

// schema is the tree of the OpenConfig subset (see the package
// documentation for the list of paths).
var schema = func() *node {
	counters := container("counters",
		sampledOp("in-octets", kUint64), sampledOp("in-pkts", kUint64), sampledOp("in-discards", kUint64),
		sampledOp("out-octets", kUint64), sampledOp("out-pkts", kUint64), sampledOp("out-discards", kUint64),
	)
	ifState := container("state",
		st("name", kString), st("enabled", kBool), st("description", kString), st("mtu", kUint16),
		enumOp("admin-status", "UP", "DOWN", "TESTING"), enumOp("oper-status", operStatuses...),
		op("ifindex", kUint32), op("id", kUint32), op("last-change", kUint64), op("hardware-port", kString),
		counters,
	)
	interfaces := container("interfaces",
		list("interface", "name",
			cfg("name", kString, idIfKey),
			container("config",
				cfg("name", kString, idIfName), cfg("enabled", kBool, idIfEnabled),
				cfg("description", kString, idIfDescription), cfg("mtu", kUint16, idIfMTU)),
			ifState,
		),
	)
	datetime := sampledOp("current-datetime", kString)
	system := container("system",
		container("config", cfg("hostname", kString, idHostname)),
		container("state", st("hostname", kString), datetime, op("boot-time", kUint64), op("software-version", kString)),
		container("ntp",
			container("config", cfg("enabled", kBool, idNTPEnabled)),
			container("state", st("enabled", kBool)),
			container("servers",
				list("server", "address",
					cfg("address", kString, idNTPKey),
					container("config", cfg("address", kString, idNTPAddress), cfg("port", kUint16, idNTPPort)),
					container("state", st("address", kString), st("port", kUint16)),
				),
			),
		),
	)
	components := container("components",
		list("component", "name",
			// The key is writable only so that a Set may name a
			// component in JSON (it must name one the switch has).
			cfg("name", kString, idCompKey),
			container("state",
				op("name", kString), op("type", kString), op("description", kString),
				op("serial-no", kString), op("part-no", kString), op("mfg-name", kString),
				op("software-version", kString), op("parent", kString), enumOp("oper-status", "ACTIVE", "INACTIVE", "DISABLED"),
			),
			// openconfig-p4rt augments integrated-circuit config and
			// state with node-id, the chip's P4Runtime device_id.
			container("integrated-circuit",
				container("config", cfg("node-id", kUint64, idNodeID)),
				container("state", st("node-id", kUint64)),
			),
		),
	)
	message := container("message",
		op("msg", kString), op("priority", kUint8), op("app-name", kString), op("procid", kString), op("msgid", kString))
	message.atomic = true
	messages := container("messages", container("state", message))
	root := container("", interfaces, system, components, messages)
	for _, m := range models {
		if top := root.children[m.top]; top != nil {
			top.module = m.name
		}
	}
	return root
}()

// moduleOf returns the module of the top-level node of a path, "" for the
// root.
func moduleOf(n *node) string {
	for n != nil && n.parent != nil && n.parent.parent != nil {
		n = n.parent
	}
	if n == nil {
		return ""
	}
	return n.module
}
