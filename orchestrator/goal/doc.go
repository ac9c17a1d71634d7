// Package goal reads a declarative chassis config and compiles it into the
// goal state of every box of the chassis.
//
// A config (YAML or JSON, schema version 1) names interfaces chassis-wide
// ("eth-3/0/12": module 3, port 12) and gives each role and each module a
// pipeconf and forwarding objectives (objective.List):
//
//	version: 1
//	interfaces:
//	  eth-1/0/1: {enabled: true, description: uplink, mtu: 9000}
//	roles:
//	  forwarder:
//	    pipeconf: fabric-v1model
//	    objectives:
//	      - l3-interface: {port: 1, router_mac: "00:aa:00:00:00:01"}
//	modules:
//	  "1":
//	    objectives:
//	      - route: {prefix: 10.0.1.0/24, next_hop: {id: nh1, port: 2, src_mac: "00:aa:00:00:00:01", dst_mac: "00:bb:00:00:00:01"}}
//
// Compile turns it into a Goal per box: the pipeconf ID, the P4 entities the
// box's objectives need, translated by that box's pipeliner through a
// pipeline.State (so shared next hops appear once, in dependency order), and
// the gNMI config leaves of its interfaces, named through its port map.
// Every box is compiled and validated before Compile returns, and every
// error (*Error) names the box and the objective or interface at fault, so
// that nothing is sent when any box's goal is invalid.
//
// The interface names resolve through a Resolver: the inventory's, or
// ModuleResolver, which parses eth-<module>/0/<port> against the boxes'
// module IDs.
package goal
