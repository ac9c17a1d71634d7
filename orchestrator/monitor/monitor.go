package monitor

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"sync"

	"github.com/p4fabric/fabric/driver"
	"github.com/p4fabric/fabric/orchestrator/events"
	"github.com/p4fabric/fabric/orchestrator/logbook"
)

// Errors that callers branch on; the monitor wraps them.
var (
	// ErrClosed is returned by Watch after Close.
	ErrClosed = errors.New("monitor: closed")
	// ErrInvalid is returned for a nil bus, a nil context or an invalid
	// Box.
	ErrInvalid = errors.New("monitor: invalid argument")
	// ErrWatched is returned by Watch for a serial already watched.
	ErrWatched = errors.New("monitor: box already watched")
	// ErrNotWatched is returned by Unwatch and Ports for a serial not
	// watched.
	ErrNotWatched = errors.New("monitor: box not watched")
)

// Attribute keys the monitor sets on the events it publishes, besides
// events.AttrReason.
const (
	// AttrInterface is the box's name of the port of a PortUp or PortDown
	// event ("eth1").
	AttrInterface = "interface"
	// AttrOperStatus is the oper-status the box reported ("UP", "DOWN",
	// "LOWER_LAYER_DOWN", ...).
	AttrOperStatus = "oper-status"
	// AttrInitial is "true" on the events of a box's initial state
	// (WithInitialState).
	AttrInitial = "initial"
	// AttrResync is "true" on the port events found when a subscription
	// was re-established (after a reboot or a broken connection).
	AttrResync = "resync"
	// AttrProtocol names the protocol of a BoxDisconnected event (the
	// first one that went down) or of a MastershipChanged event.
	AttrProtocol = "protocol"
	// AttrMastership is the P4Runtime mastership state of a
	// MastershipChanged event ("primary", "backup").
	AttrMastership = "mastership"
)

// Box is one box to watch.
type Box struct {
	// Name names the box in errors and logs; the serial when empty.
	Name string
	// Serial is the box's serial number: the key Unwatch and Ports take,
	// and the Serial of its events. Required.
	Serial string
	// Module is the box's module ID (at least 1), the Module of its
	// events.
	Module uint32
	// Device is the open device. The monitor reads its Events channel
	// and subscribes over its gNMI client; it does not close it.
	Device driver.Device
}

func (b Box) name() string {
	if b.Name != "" {
		return b.Name
	}
	return b.Serial
}

// PortState is a port's operational state as the monitor last saw it.
type PortState struct {
	// Port is the P4Runtime port.
	Port uint32
	// Interface is the box's name of the port.
	Interface string
	// Up reports whether the port is operationally up.
	Up bool
}

// Monitor watches boxes. Create one with New; it is safe for concurrent
// use.
type Monitor struct {
	bus *events.Bus
	log *logbook.Log
	cfg config

	mu     sync.Mutex
	closed bool
	boxes  map[string]*watcher
}

// New returns a monitor that publishes on bus and adds system messages to
// log. A nil log makes the monitor skip system messages. The error wraps
// ErrInvalid for a nil bus.
func New(bus *events.Bus, log *logbook.Log, opts ...Option) (*Monitor, error) {
	if bus == nil {
		return nil, fmt.Errorf("monitor: nil bus: %w", ErrInvalid)
	}
	cfg := config{logger: slog.New(slog.DiscardHandler)}
	for _, o := range opts {
		if o != nil {
			o(&cfg)
		}
	}
	return &Monitor{bus: bus, log: log, cfg: cfg, boxes: make(map[string]*watcher)}, nil
}

// Watch starts watching b and returns once its subscriptions have sent
// their initial state (see the package doc), or ctx is done: the box is
// then not watched and the error wraps ctx's error. (With
// WithoutInitialWait it returns without waiting, for boxes that may be
// unreachable.) Changes that happen
// after Watch returns are published. The watch itself runs until Unwatch
// or Close, not until ctx ends. The error names the box and wraps
// ErrInvalid for a nil ctx or an invalid b, ErrWatched for a serial
// already watched, ErrClosed after Close, and the gNMI client's error when
// a subscription cannot be made.
func (m *Monitor) Watch(ctx context.Context, b Box) error {
	if m == nil {
		return fmt.Errorf("monitor: watch on nil monitor: %w", ErrClosed)
	}
	if ctx == nil {
		return fmt.Errorf("monitor: watch box %s: nil context: %w", b.name(), ErrInvalid)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("monitor: watch box %s: %w", b.name(), err)
	}
	switch {
	case b.Serial == "":
		return fmt.Errorf("monitor: watch box %q: no serial: %w", b.Name, ErrInvalid)
	case b.Module == 0:
		return fmt.Errorf("monitor: watch box %s: module 0: %w", b.name(), ErrInvalid)
	case b.Device == nil:
		return fmt.Errorf("monitor: watch box %s: nil device: %w", b.name(), ErrInvalid)
	}
	w := newWatcher(m, b)

	m.mu.Lock()
	switch {
	case m.closed:
		m.mu.Unlock()
		return fmt.Errorf("monitor: watch box %s: %w", b.name(), ErrClosed)
	case m.boxes[b.Serial] != nil:
		m.mu.Unlock()
		return fmt.Errorf("monitor: watch box %s (serial %s): %w", b.name(), b.Serial, ErrWatched)
	}
	m.boxes[b.Serial] = w
	m.mu.Unlock()

	if err := w.start(ctx); err != nil {
		w.stop()
		m.mu.Lock()
		if m.boxes[b.Serial] == w {
			delete(m.boxes, b.Serial)
		}
		m.mu.Unlock()
		return fmt.Errorf("monitor: watch box %s: %w", b.name(), err)
	}
	return nil
}

// Unwatch stops watching the box with that serial and returns once it
// publishes nothing more. The error wraps ErrNotWatched when the box is
// not watched.
func (m *Monitor) Unwatch(serial string) error {
	if m == nil {
		return fmt.Errorf("monitor: unwatch %s: %w", serial, ErrNotWatched)
	}
	m.mu.Lock()
	w := m.boxes[serial]
	delete(m.boxes, serial)
	m.mu.Unlock()
	if w == nil {
		return fmt.Errorf("monitor: unwatch box %s: %w", serial, ErrNotWatched)
	}
	w.stop()
	return nil
}

// Watched returns the serials of the watched boxes, sorted.
func (m *Monitor) Watched() []string {
	if m == nil {
		return nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Sorted(maps.Keys(m.boxes))
}

// Ports returns the operational state of the box's ports as last seen
// (published or initial), sorted by port. The error wraps ErrNotWatched
// when the box is not watched.
func (m *Monitor) Ports(serial string) ([]PortState, error) {
	if m == nil {
		return nil, fmt.Errorf("monitor: ports of %s: %w", serial, ErrNotWatched)
	}
	m.mu.Lock()
	w := m.boxes[serial]
	m.mu.Unlock()
	if w == nil {
		return nil, fmt.Errorf("monitor: ports of box %s: %w", serial, ErrNotWatched)
	}
	return w.portStates(), nil
}

// Close stops watching every box and makes later Watch calls fail with
// ErrClosed. It does not close the bus, the log or the devices. Close is
// idempotent and returns nil.
func (m *Monitor) Close() error {
	if m == nil {
		return nil
	}
	m.mu.Lock()
	m.closed = true
	ws := slices.Collect(maps.Values(m.boxes))
	clear(m.boxes)
	m.mu.Unlock()
	var wg sync.WaitGroup
	for _, w := range ws {
		wg.Go(w.stop)
	}
	wg.Wait()
	return nil
}
