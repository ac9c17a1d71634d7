// Package gnmi is a gNMI client: path strings and typed values both ways,
// Capabilities, Get, Set and Subscribe (ONCE, POLL and STREAM with SAMPLE,
// ON_CHANGE and TARGET_DEFINED), with notifications decoded into flat
// (path, value, timestamp) records. It speaks the gNMI specification
// (github.com/openconfig/reference, rpc/gnmi/gnmi-specification.md) and uses
// openconfig/gnmi's generated client, value package and ygot's path helpers.
//
// # Paths and values
//
// ParsePath reads the path syntax gnmic uses, origin and keys included
// ("openconfig:/interfaces/interface[name=eth1]/state"), wildcards ("*" as
// an element or a key value, "..." for any number of levels) and keys left
// out; PathString prints a path back. DecodeValue turns any TypedValue into a
// Go value (JSON decoded with exact integers), EncodeValue does the reverse
// in the JSON, JSON_IETF or PROTO (scalar) encoding, and ParseValue reads
// what a person types on a command line.
//
// # Client
//
// Dial needs an explicit choice of transport security (WithTLS or
// WithInsecure). WithCredentials sends a username and password in the
// metadata of every RPC, the way gnmic does.
//
//	c, err := gnmi.Dial("127.0.0.1:9339", gnmi.WithInsecure(),
//		gnmi.WithCredentials("admin", "admin"))
//	if err != nil { ... }
//	defer c.Close()
//	recs, err := c.Get(ctx, []string{"/system/state/hostname"})
//	_, err = c.Set(ctx,
//		gnmi.SetDelete("/system/ntp/servers"),
//		gnmi.SetUpdate("/system/ntp/servers/server[address=10.0.0.1]/config",
//			map[string]any{"address": "10.0.0.1", "port": 123}),
//		gnmi.SetUpdate("/interfaces/interface[name=eth1]/config/enabled", false))
//
// Set sends its operations as one SetRequest, which the target applies as
// one transaction (section 3.4.3); the error of a refused request carries
// the target's gRPC status code.
//
// # Subscriptions
//
// Subscribe returns a SubscribeStream read with Recv: notifications (as
// records and as sent), sync responses, and for STREAM subscriptions the
// news that the RPC broke. A broken STREAM subscription is re-established
// with exponential backoff and the same request, so the reader sees the
// current values and a sync response again; a request the target refused as
// invalid (InvalidArgument, NotFound, Unimplemented, PermissionDenied,
// Unauthenticated) is not retried and ends the stream with that error.
// ONCE ends with io.EOF after its sync response; POLL sends the current
// values each time Poll is called.
//
// openconfig/gnmi's client package is not used: it is built around a
// callback query API, a global registry of implementations, command-line
// flags and glog, has no Set, and reconnects with its own backoff; this
// package calls the generated GNMIClient and reconnects with the project's
// backoff instead.
//
// The emulated switches of package testbed serve gNMI on their P4Runtime
// address; see package testbed/gnmi for what they serve and how to point
// gnmic at them.
package gnmi
