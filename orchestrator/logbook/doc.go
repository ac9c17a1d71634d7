// Package logbook is the chassis's one log: the orchestrator's events, the
// boxes' system messages and the orchestrator's own operation logs, merged
// into one stream ordered by corrected time, kept in a bounded ring for
// queries and streamed to followers.
//
// # Sources
//
//   - Events: AddEvent, or Consume to feed every event of an events.Bus.
//   - System messages: AddMessage with a decoded openconfig-messages update
//     (the caller subscribes to /system/messages over gNMI and decodes msg,
//     severity and the notification timestamp into a SystemMessage).
//   - Operation logs: slog.New(logbook.Handler(l)) writes slog records into
//     the log; the record attribute "op" becomes the record's operation ID and
//     "module" its module.
//
// # Corrected time
//
// Each box's clock has an offset from the orchestrator's (box − orchestrator,
// as the time-sync service estimates it), set with SetOffset. A timestamp
// taken on a box (an event's SourceTime, a system message's Time) is
// normalised by subtracting its box's offset at the time the record arrives;
// the record keeps the raw timestamp, the offset and its error bound.
// Timestamps taken by the orchestrator (an event without a source time, an
// slog record) are already on the reference clock. Records are ordered by
// (corrected time, module, Seq), Seq being the order of arrival in this log.
//
// # Reorder window
//
// Records arrive late: a box's message may reach the orchestrator after a
// later event from another box. The log therefore holds each record for a
// reorder window (DefaultWindow, 200 ms, unless WithWindow says otherwise)
// and emits records in order once the orchestrator's clock has passed their
// corrected time by the window. A record is never held longer than the
// window after its arrival, even if its corrected time is in the future (a
// box whose offset is not yet known).
//
// A record that arrives after a record ordered after it was emitted (it is
// later than the window allows) is not placed into the past: it is emitted at
// once, after the records already emitted, with Late set. Queries and
// followers therefore see every record exactly once, in emission order, and
// emission order is corrected-time order except for records flagged Late.
//
// Emitted records go to the retained ring (DefaultCapacity records unless
// WithCapacity says otherwise; the oldest are evicted) and to followers. Query
// searches the ring; Follow streams records as they are emitted, optionally
// starting with a backlog from the ring. Records still inside the reorder
// window are visible to neither until they are emitted; Flush and Close emit
// them at once.
//
// The JSON form of a Record (see Record) has stable field names for the CLI.
package logbook
