// Package client is a P4Runtime client: arbitration with primary/backup
// tracking on the stream channel, reconnection with backoff, pipeline set and
// get with every action, batched writes with per-update errors, reads as
// iterators, packet I/O, digests with acknowledgement, idle-timeout
// notifications and stream errors.
//
// # Connecting
//
// Dial connects, opens the stream channel, arbitrates and returns once the
// switch has answered; transport security is explicit (WithTLS or
// WithInsecure). New does the same over a connection the caller made.
//
//	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
//	defer cancel()
//	c, err := client.Dial(ctx, "127.0.0.1:9559",
//		client.WithInsecure(),
//		client.WithDeviceID(1),
//		client.WithElectionID(client.ElectionID{Low: 10}))
//	if err != nil {
//		return err
//	}
//	defer c.Close()
//	if err := c.WaitPrimary(ctx); err != nil {
//		return err // a backup: another controller has a higher election ID
//	}
//	info, err := schema.Load("basic_p4info.txt")
//	if err != nil {
//		return err
//	}
//	err = c.SetPipeline(ctx, info.P4Info(), bmv2JSON,
//		p4v1.SetForwardingPipelineConfigRequest_VERIFY_AND_COMMIT)
//	if err != nil {
//		return err
//	}
//	err = c.Write(ctx, updates, client.WithBatchSize(500))
//	var werr *client.WriteError
//	switch {
//	case errors.Is(err, client.ErrNotPrimary):
//		// demoted meanwhile: see c.Mastership()
//	case errors.As(err, &werr):
//		for _, u := range werr.Updates {
//			log.Printf("update %d: %s: %s", u.Index, u.Code, u.Message)
//		}
//	}
//	for e, err := range c.ReadTable(ctx, "table0") {
//		if err != nil {
//			return err
//		}
//		fmt.Println(e)
//	}
//
// Dial fixes the connection's HTTP/2 flow-control windows (4 MiB per
// stream, 16 MiB per connection): left to itself, gRPC-Go estimates them
// with a PING after the data of nearly every short call, which on loopback
// costs more CPU than the call (a one-update Write round trip: 167–191 µs
// of CPU with the estimate, 98–126 µs without; BENCHMARKS.md). WithWindow
// sets another size, or 0 for gRPC's estimate on a long, fast link.
//
// # Arbitration
//
// The client opens one stream channel per (device, role) and sends its
// election ID on it (spec "Client Arbitration and Controller Replication").
// The switch answers every client of the role whenever the primary changes;
// Status, IsPrimary and the Mastership channel report the latest answer.
// When the stream breaks the client reports Disconnected, then re-opens it
// with backoff and re-arbitrates with the same election ID. The spec never
// promotes a backup by itself: TakeOver re-arbitrates one above the highest
// election ID the switch reports.
//
// # Stream messages
//
// One goroutine receives from the stream and hands each message to a bounded
// channel: PacketIn, Digests, IdleTimeouts, StreamErrors, Other. A full
// channel drops the message and counts it in Stats, so a slow reader never
// delays arbitration or the other channels. Nothing the switch sends can make
// the client panic or exit; malformed messages are counted and logged.
package client
