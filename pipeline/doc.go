// Package pipeline turns forwarding objectives (package
// pipeline/objective) into the entities of real P4 programs.
//
// A Pipeconf is one program as a controller deploys it: its P4Info
// (Schema), the device configs of its targets (TargetBMv2: the bmv2 JSON;
// TargetEmulated: anything), the constructor of its Pipeliner and the
// device options that pipeliner needs (the CPU port). Load and LoadFS
// read one from a folder or embedded files; a Registry holds them by ID,
// and package pipeline/builtin ships "onos-basic", "fabric-v1model" and
// "sai-middleblock".
//
// A Pipeliner translates one objective into the entities of its program,
// in dependency order, or refuses with an *objective.UnsupportedError
// naming the objective, the program and the reason — never a silent drop
// or a partial result. It keeps no state. State keeps it: the objectives
// installed on one device and the entities they need, counting the users
// of each shared entity (a next hop used by two routes is written once
// and deleted with its last user). State.Add and State.Remove return the
// P4Runtime updates to write, ordered by the pipeliner's Rank;
// State.Reconcile (package pipeline/diff) compares the desired entities
// with what a device has. A pipeliner that also implements Schemer lets
// State name entities in errors by their P4 names.
//
//	pc, err := builtin.Get("fabric-v1model")
//	p, err := pc.Pipeliner()
//	st := pipeline.NewState(p)
//	updates, err := st.Add(objective.Route{Prefix: prefix, Target: objective.Target{NextHop: &nh}})
//	err = c.Write(ctx, updates) // c is a p4/client.Client
//
// # Support matrix
//
// The kinds of objectives each built-in program can express
// (Pipeliner.Supports). A supported kind may still refuse one objective
// that its program cannot express (an IPv6 route on an IPv4-only
// program), with the reason; each pipeliner's package doc lists what it
// refuses. TestSupportMatrix in package pipeline/builtin checks this table
// against every registered pipeliner.
//
//	objective        onos-basic   fabric-v1model   sai-middleblock
//	l3-interface     no           yes              yes
//	bridging         yes          yes              no
//	route            yes          yes              yes
//	next-hop         yes          yes              yes
//	next-hop-group   yes          yes              yes
//	acl              yes          yes              yes
//	multicast        no           yes              yes
//	punt             yes          yes              yes
//
// onos-basic (package pipeline/basic) has one ternary table and a WCMP
// selector. It has no router MAC check (no l3-interface: its table0 routes
// every frame), no replication (no multicast), no MAC rewrite and no VLAN
// parsing: next hops, routes, bridging and ACL redirects are refused when
// the next hop rewrites MAC addresses or sets a VLAN, because forwarding
// them unchanged would silently change what the objective asks for.
// Routes are IPv4 only, in the default VRF; ACLs drop, punt or redirect
// (no permit, since table0 is the only table and its entry must decide
// the packet's fate).
//
// # Ordering
//
// Updates insert what others refer to first and delete it last: action
// profile members before groups before the table entries that use them,
// router interfaces before neighbors before next hops before routes. Each
// pipeliner's Rank says so for its program; diff.DefaultRank ranks by
// kind of entity when no pipeliner is at hand.
package pipeline
