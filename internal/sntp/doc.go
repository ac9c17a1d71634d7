// Package sntp implements the Simple Network Time Protocol version 4 (RFC
// 4330) over UDP: the packet format, a client that measures the offset of a
// server's clock, and a stateless primary server.
//
// The orchestrator serves the chassis time base with Serve; an emulated
// switch disciplines its clock with Query (see testbed/clock).
//
// # Packets
//
// Packet is the 48-byte header. Decode parses one (ignoring any
// authenticator or extension fields that follow) and never fails on 48 or
// more bytes; Append and MarshalBinary encode one. Timestamp is the 64-bit
// NTP timestamp, read in the 1968–2104 window as RFC 4330 section 3 says.
//
// # Client
//
// Query sends one client request and computes, from the four timestamps T1
// (request sent, client clock), T2 (request received, server clock), T3
// (reply sent, server clock) and T4 (reply received, client clock):
//
//	RTT    = (T4 - T1) - (T3 - T2)
//	Offset = ((T2 - T1) + (T3 - T4)) / 2
//
// The true offset lies within Offset ± RTT/2 (Response.ErrorBound). A reply
// is accepted only if its originate timestamp echoes the request's
// (randomised) transmit timestamp and it passes the checks of RFC 4330
// section 5 (CheckReply); kiss-o'-death and unsynchronized servers are
// reported as ErrKissOfDeath and ErrNotSynchronized.
//
// # Server
//
// Serve answers mode-3 requests with mode-4 replies (mode 1 with mode 2) at
// stratum 1, reference ID "LOCL", reading the time from a function, so that
// any clock (the host's, or an emulated one) can be served.
package sntp
