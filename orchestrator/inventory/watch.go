package inventory

import (
	"context"
	"fmt"
	"net/url"
	"strings"

	"github.com/p4fabric/fabric/orchestrator/store"
)

// EventType tells what an Event reports.
type EventType uint8

// Event types.
const (
	// EventRegistered: a new box was registered and got its module ID.
	EventRegistered EventType = iota + 1
	// EventUpdated: a registered box was registered again (new address,
	// spec, identity or ports); its module ID is unchanged.
	EventUpdated
	// EventDecommissioned: a box was decommissioned; its module ID is free.
	EventDecommissioned
	// EventError ends a watch: Err says why. The channel closes after it.
	EventError
)

// String returns "registered", "updated", "decommissioned" or "error".
func (t EventType) String() string {
	switch t {
	case EventRegistered:
		return "registered"
	case EventUpdated:
		return "updated"
	case EventDecommissioned:
		return "decommissioned"
	case EventError:
		return "error"
	default:
		return fmt.Sprintf("EventType(%d)", uint8(t))
	}
}

// Event is one change of the inventory.
type Event struct {
	// Type is the kind of change.
	Type EventType
	// Box is the box after the change. For EventDecommissioned only
	// Serial (and Revision, the delete's) is set.
	Box Box
	// Revision is the store revision of the change.
	Revision int64
	// Err is set on an EventError (it wraps store.ErrCompacted when the
	// start revision is no longer in the store's history).
	Err error
}

type watchOptions struct{ from int64 }

// WatchOption configures Watch.
type WatchOption func(*watchOptions)

// WatchFrom replays the changes from store revision rev on before the new
// ones (List's revision + 1 continues a List without a gap). Zero or
// negative means from the next change.
func WatchFrom(rev int64) WatchOption {
	return func(o *watchOptions) {
		if rev > 0 {
			o.from = rev
		}
	}
}

// Watch reports boxes registered, updated and decommissioned, from the
// store's watch, until ctx ends (the channel is then closed) or the watch
// fails (an EventError, then the channel is closed). Events of every
// Inventory sharing the store and prefix are reported.
func (inv *Inventory) Watch(ctx context.Context, opts ...WatchOption) (<-chan Event, error) {
	var o watchOptions
	for _, opt := range opts {
		if opt != nil {
			opt(&o)
		}
	}
	var sopts []store.WatchOption
	if o.from > 0 {
		sopts = append(sopts, store.WithStartRevision(o.from))
	}
	in, err := inv.st.Watch(ctx, inv.boxPrefix(), sopts...)
	if err != nil {
		return nil, fmt.Errorf("inventory: watch: %w", err)
	}
	out := make(chan Event, 16)
	go func() {
		defer close(out)
		for ev := range in {
			e, ok := inv.event(ev)
			if !ok {
				continue
			}
			select {
			case out <- e:
			case <-ctx.Done():
				// Drain so the store's watch can end.
				for range in {
				}
				return
			}
			if e.Type == EventError {
				for range in {
				}
				return
			}
		}
	}()
	return out, nil
}

// event converts a store event; ok is false for one to skip.
func (inv *Inventory) event(ev store.Event) (Event, bool) {
	switch ev.Type {
	case store.EventPut:
		b, err := decode(ev.KV)
		if err != nil {
			return Event{Type: EventError, Revision: ev.Revision, Err: err}, true
		}
		t := EventUpdated
		if ev.KV.Version == 1 {
			t = EventRegistered
		}
		return Event{Type: t, Box: b, Revision: ev.Revision}, true
	case store.EventDelete:
		esc := strings.TrimPrefix(ev.KV.Key, inv.boxPrefix())
		serial, err := url.PathUnescape(esc)
		if err != nil {
			serial = esc
		}
		return Event{Type: EventDecommissioned, Box: Box{Serial: serial, Revision: ev.Revision}, Revision: ev.Revision}, true
	case store.EventError:
		return Event{Type: EventError, Revision: ev.Revision, Err: fmt.Errorf("inventory: watch: %w", ev.Err)}, true
	}
	return Event{}, false
}
