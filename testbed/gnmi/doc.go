// Package gnmi is the gNMI service of the testbed's emulated switch: an
// OpenConfig subset with Capabilities, Get, Set and Subscribe as the gNMI
// specification (github.com/openconfig/reference,
// rpc/gnmi/gnmi-specification.md) describes them. A Server keeps its data in
// openconfig/gnmi's cache and matches subscriptions with its match package;
// the Subscribe RPC is its own (see Server.Subscribe for why).
//
// A testbed switch creates one Server and registers it on the same gRPC
// listener as P4Runtime every time it starts, so the configuration set over
// gNMI survives restarts and reboots (it is the switch's startup
// configuration) while P4Runtime state does not.
//
// # Using gnmic
//
// Start a testbed (fabricctl testbed up --leaf-spine 1,2), take a switch's
// address from the table and point gnmic at it; the switches serve
// plaintext unless their topology asks for TLS:
//
//	gnmic -a 127.0.0.1:PORT --insecure capabilities
//	gnmic -a 127.0.0.1:PORT --insecure get --path /interfaces
//	gnmic -a 127.0.0.1:PORT --insecure get --path /system/state --encoding json_ietf
//	gnmic -a 127.0.0.1:PORT --insecure set \
//	    --update-path /interfaces/interface[name=eth1]/config/enabled --update-value false
//	gnmic -a 127.0.0.1:PORT --insecure subscribe \
//	    --path /interfaces/interface/state/oper-status --stream-mode on-change
//	gnmic -a 127.0.0.1:PORT --insecure subscribe --path /messages --stream-mode on-change
//
// Add -u USER -p PASS for a switch configured with credentials, and
// --tls-ca ca.pem instead of --insecure for one serving TLS (fabricctl
// testbed up --ca-dir writes the CA). fabricctl gnmi get|set|subscribe does
// the same from fabricctl.
//
// # Data
//
// Interfaces are named eth1..ethN after the P4Runtime ports 1..N. Paths
// marked rw are configuration (Set changes them); everything else is
// read-only state.
//
//	/interfaces/interface[name]/name                                    rw (the key)
//	/interfaces/interface[name]/config/{name,enabled,description,mtu}   rw
//	/interfaces/interface[name]/state/{name,enabled,description,mtu}
//	/interfaces/interface[name]/state/{admin-status,oper-status,last-change}
//	/interfaces/interface[name]/state/{ifindex,id,hardware-port}        id is the P4 port
//	/interfaces/interface[name]/state/counters/{in,out}-{pkts,octets,discards}
//	/system/config/hostname                                             rw
//	/system/state/{hostname,current-datetime,boot-time,software-version}
//	/system/ntp/config/enabled                                          rw
//	/system/ntp/state/enabled
//	/system/ntp/servers/server[address]/address                         rw (the key)
//	/system/ntp/servers/server[address]/config/{address,port}           rw
//	/system/ntp/servers/server[address]/state/{address,port}
//	/components/component[name]/name                                    rw (the key)
//	/components/component[name]/state/{name,type,description,serial-no,part-no,
//	                                   mfg-name,software-version,parent,oper-status}
//	/components/component[name=integrated_circuit0]/integrated-circuit/config/node-id  rw
//	/components/component[name=integrated_circuit0]/integrated-circuit/state/node-id
//	/messages/state/message/{msg,priority,app-name,procid,msgid}
//
// The components are the chassis ("chassis", type CHASSIS), the chip
// (ChipName, type INTEGRATED_CIRCUIT) and one PORT component per port
// ("port1"..). The chip's node-id (openconfig-p4rt) is the P4Runtime
// device ID the switch answers to: a Set of config/node-id changes it at
// once (the testbed switch hands it to its P4Runtime service before the
// Set answers), state/node-id reports it, and like all configuration it
// survives restarts; deleting it restores WithNodeID's value. The
// counters move with the packets the switch handles (the owner calls
// CountersChanged). admin-status follows
// config/enabled; oper-status is set by the switch (SetOperStatus) and, in a
// testbed, is up only when both ends of a link are enabled and both switches
// run. System messages (port flaps, configuration changes, boots and
// reboots) are published under /messages/state/message as atomic
// notifications (msg, priority = syslog severity, app-name, msgid), so a
// STREAM subscription to /messages receives every message with its time.
//
// # Set
//
// A SetRequest is one transaction (see Server.Set for the error codes):
// unknown paths are NOT_FOUND, values of the wrong type, out of range or
// written to read-only state are INVALID_ARGUMENT, and nothing changes
// unless every operation succeeds. Values may be JSON or JSON_IETF (for a
// leaf or a whole subtree, lists as arrays of entries with their keys) or
// scalar TypedValues for leaves. Deleting a leaf restores its default
// (enabled true, MTU 1500, NTP port 123, hostname the switch name, NTP
// disabled); deleting an NTP server removes it; deleting an interface resets
// its configuration, since physical interfaces cannot be removed.
//
// # Credentials and logging
//
// WithCredentials makes every RPC check the username and password in its
// metadata. The server never logs through glog (the cache package imports
// it): the cache is only fed notifications that take no logging branch.
// glog cannot be silenced from outside — with flags unparsed it writes
// files to the temporary directory, and pointing -log_dir at an unwritable
// place makes it exit the process on the first record — so this package
// keeps it from being called at all, which its tests check.
package gnmi
