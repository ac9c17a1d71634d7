// Package window holds the HTTP/2 flow-control windows of Fabric's gRPC
// connections to switches, and of the emulated switches' servers.
//
// Left to itself, gRPC-Go sizes its windows by estimating the
// bandwidth-delay product: after the first DATA frame it receives while no
// estimate is under way, it sends a PING and times the ACK. The calls a
// controller makes are short (a Write, a Read, a Set), so nearly every call
// carries a PING and its ACK: two more frames each way, and on loopback
// more write and read system calls than the call itself. Fixed windows
// switch the estimator off. Measured on a single-update Write round trip to
// the emulated switch over loopback, both ends fixed: 154 → 92 µs of CPU
// (see BENCHMARKS.md, "gRPC windows").
//
// The stream window lets one message of the largest default size (4 MiB)
// be in flight without waiting for a window update, which is what the
// estimator grows towards on a fast local link anyway.
//
//	conn, err := grpc.NewClient(addr, append(window.DialOptions(), grpc.WithTransportCredentials(creds))...)
package window

import "google.golang.org/grpc"

const (
	// Stream is the flow-control window of each stream, in bytes.
	Stream = 4 << 20
	// Conn is the flow-control window of each connection, in bytes.
	Conn = 4 * Stream
)

// DialOptions fixes a client connection's windows at Stream and Conn.
func DialOptions() []grpc.DialOption {
	return []grpc.DialOption{grpc.WithInitialWindowSize(Stream), grpc.WithInitialConnWindowSize(Conn)}
}

// ServerOptions fixes a server's windows at Stream and Conn.
func ServerOptions() []grpc.ServerOption {
	return []grpc.ServerOption{grpc.InitialWindowSize(Stream), grpc.InitialConnWindowSize(Conn)}
}
