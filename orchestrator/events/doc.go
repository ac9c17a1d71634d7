// Package events is the orchestrator's event bus: typed, timestamped,
// ordered facts about the chassis (a box connected, a port went down, a link
// was discovered, a commit finished, a box's clock drifted past its alarm
// threshold, ...) delivered to any number of subscribers.
//
// # Events
//
// An Event has a Kind, the module ID of the box it concerns (0 for
// chassis-wide facts such as a commit), the box's serial, a port and an
// operation ID when relevant, free-form attributes and a message. It carries
// two times: SourceTime, when the fact happened according to its source (a
// device timestamp, zero when unknown), and ObservedTime, when the
// orchestrator saw it. The bus stamps each published event with a sequence
// number, strictly increasing in publish order: that number is the order of
// events. The JSON form (see Event) has stable field names for the CLI.
//
// # Bus
//
// Publish never blocks: each subscriber has a bounded buffer (DefaultBuffer
// events unless WithBuffer or WithSubscriptionBuffer say otherwise) and, when
// it is full, the oldest queued event is dropped so that a slow subscriber
// sees the newest facts. Drops are counted per subscriber
// (Subscription.Dropped, Stats) and logged once per run of drops through the
// bus's slog.Logger. A subscriber sees its events in sequence order, with gaps
// where events were dropped or filtered out.
//
// Subscribe takes a Filter (kinds, modules, operation ID) and returns a
// Subscription whose channel delivers matching events until the
// subscription is cancelled, its context ends or the bus is closed; the
// channel is then closed. On request (WithReplay) a new subscriber first
// receives up to n of the most recent matching events the bus retains: the
// bus keeps the last N published events in a ring, N = DefaultHistory (1024)
// unless WithHistory says otherwise. Replay and live delivery are atomic: no
// event is missed or delivered twice between them.
//
// # Latency
//
// Per kind, the bus keeps two latency histograms (see Histogram, an HDR-like
// log-linear histogram with a relative error under 1/32):
//
//   - source → observed: ObservedTime − SourceTime, for events whose source
//     time is known, after subtracting the box's clock offset when
//     WithSourceOffset gives one;
//   - publish → delivery: from the Publish call to the moment a subscriber
//     received the event from its channel (replayed events are not counted).
//
// Stats reports, per kind, counts and p50/p99/max of both, and per
// subscriber, deliveries and drops.
package events
