package monitor

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	gpb "github.com/openconfig/gnmi/proto/gnmi"

	"github.com/p4fabric/fabric/driver"
	"github.com/p4fabric/fabric/driver/gnmi"
	"github.com/p4fabric/fabric/orchestrator/events"
	"github.com/p4fabric/fabric/orchestrator/logbook"
)

// The paths the monitor subscribes to.
const (
	pathOperStatus = "/interfaces/interface/state/oper-status"
	pathPortID     = "/interfaces/interface/state/id"
	pathMessages   = "/messages/state/message"
)

// operUp is the only oper-status that counts as up.
const operUp = "UP"

// watcher watches one box.
type watcher struct {
	m   *Monitor
	box Box
	log *slog.Logger

	ctx    context.Context // cancelled by stop
	cancel context.CancelFunc
	wg     sync.WaitGroup

	portsReady chan struct{} // closed at the ports subscription's first sync
	msgsReady  chan struct{} // closed at the messages subscription's first sync
	failed     chan error    // a subscription ended before its first sync

	mu    sync.Mutex
	ports map[uint32]PortState // as last published (or initial)
}

func newWatcher(m *Monitor, b Box) *watcher {
	ctx, cancel := context.WithCancel(context.Background())
	return &watcher{
		m: m, box: b,
		log:        m.cfg.logger.With("box", b.name(), "serial", b.Serial, "module", b.Module),
		ctx:        ctx,
		cancel:     cancel,
		portsReady: make(chan struct{}),
		msgsReady:  make(chan struct{}),
		failed:     make(chan error, 2),
		ports:      make(map[uint32]PortState),
	}
}

// start starts the loops and waits for the initial state.
func (w *watcher) start(ctx context.Context) error {
	// The box is connected when every protocol its device supports is up.
	// A device that can say so (one built on driver.Connection) is asked
	// now, and a connected box is announced before Watch returns;
	// otherwise the device's first events (one Connected per protocol)
	// tell. A protocol the device reports besides these (the process of
	// an out-of-process driver) counts from its first event on.
	up, boxUp := w.connectionState()
	if boxUp {
		w.publishConnected(up, time.Now())
	}
	w.wg.Go(func() { w.relayConnections(up, boxUp) })
	g, err := w.box.Device.GNMI()
	if errors.Is(err, driver.ErrUnsupported) {
		w.log.Info("monitor: box without gNMI: relaying its connection events only", "err", err)
		return nil
	}
	if err != nil {
		return fmt.Errorf("gnmi: %w", err)
	}
	ps, err := g.Subscribe(w.ctx, gnmi.SubscribeRequest{
		Encoding: gpb.Encoding_PROTO,
		Subscriptions: []gnmi.Subscription{
			{Path: pathPortID, Mode: gnmi.OnChange},
			{Path: pathOperStatus, Mode: gnmi.OnChange},
		},
	})
	if err != nil {
		return fmt.Errorf("subscribe to %s: %w", pathOperStatus, err)
	}
	w.wg.Go(func() { w.watchPorts(ps) })
	if w.m.log == nil {
		close(w.msgsReady)
	} else {
		ms, err := g.Subscribe(w.ctx, gnmi.SubscribeRequest{
			Encoding:      gpb.Encoding_PROTO,
			Subscriptions: []gnmi.Subscription{{Path: pathMessages, Mode: gnmi.OnChange}},
		})
		if err != nil {
			return fmt.Errorf("subscribe to %s: %w", pathMessages, err)
		}
		w.wg.Go(func() { w.watchMessages(ms) })
	}
	if w.m.cfg.noWait {
		return nil
	}
	for _, ready := range []chan struct{}{w.portsReady, w.msgsReady} {
		select {
		case <-ready:
		case err := <-w.failed:
			return err
		case <-ctx.Done():
			return fmt.Errorf("waiting for the initial state: %w", ctx.Err())
		case <-w.ctx.Done():
			return fmt.Errorf("unwatched while waiting for the initial state: %w", ErrNotWatched)
		}
	}
	return nil
}

// stop ends the loops and waits for them.
func (w *watcher) stop() {
	w.cancel()
	w.wg.Wait()
}

func (w *watcher) portStates() []PortState {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.SortedFunc(maps.Values(w.ports), func(a, b PortState) int { return cmp.Compare(a.Port, b.Port) })
}

// publish stamps e with the box and publishes it, unless the watch is
// over.
func (w *watcher) publish(e events.Event) {
	if w.ctx.Err() != nil {
		return
	}
	e.Module, e.Serial = w.box.Module, w.box.Serial
	if _, err := w.m.bus.Publish(e); err != nil {
		w.log.Warn("monitor: event not published", "event", e.String(), "err", err)
	}
}

// ---- ports ---------------------------------------------------------------

// burst says how an oper-status is published.
type burst int

const (
	live    burst = iota // a change
	initial              // the initial state of the first subscription
	resync               // the state after a re-established subscription
)

// portsLoop is the state of the ports subscription.
type portsLoop struct {
	names  map[string]uint32 // interface → P4 port
	status map[string]string // interface → latest oper-status
	times  map[string]time.Time
	synced bool // the current RPC sent its sync response
	first  bool // the first sync response was received
}

func (w *watcher) watchPorts(s *gnmi.SubscribeStream) {
	defer s.Close()
	st := portsLoop{names: map[string]uint32{}, status: map[string]string{}, times: map[string]time.Time{}}
	for {
		ev, err := s.Recv(w.ctx)
		if err != nil {
			if w.ctx.Err() == nil {
				w.log.Warn("monitor: ports subscription ended", "err", err)
				if !st.first {
					w.failed <- fmt.Errorf("subscription to %s: %w", pathOperStatus, err)
				}
			}
			return
		}
		switch {
		case ev.Disconnected != nil:
			st.synced = false
			w.log.Info("monitor: ports subscription broken; the gNMI client resubscribes", "err", ev.Disconnected)
		case ev.Sync:
			mode := resync
			if !st.first {
				mode = initial
			}
			st.synced = true
			for _, name := range slices.Sorted(maps.Keys(st.status)) {
				w.applyPort(&st, name, mode)
			}
			if !st.first {
				st.first = true
				close(w.portsReady)
			}
		case ev.Notification != nil:
			// The structured paths, not ev.Updates: parsing the
			// path strings back would cost more than the rest of
			// the event's way to the bus.
			n := ev.Notification
			ts := time.Unix(0, n.GetTimestamp())
			for _, u := range n.GetUpdate() {
				name, leaf, ok := interfaceLeaf(n.GetPrefix().GetElem(), u.GetPath().GetElem())
				if !ok {
					continue
				}
				v, err := gnmi.DecodeValue(u.GetVal())
				if err != nil {
					w.log.Warn("monitor: undecodable gNMI value", "interface", name, "leaf", leaf, "err", err)
					continue
				}
				w.portUpdate(&st, name, leaf, v, ts)
			}
		}
	}
}

// portUpdate records one leaf of an interface and, once the subscription
// is in sync, publishes what changed.
func (w *watcher) portUpdate(st *portsLoop, name, leaf string, value any, ts time.Time) {
	switch leaf {
	case "id":
		n, ok := toUint(value)
		if !ok || n == 0 || n > math.MaxUint32 {
			w.log.Warn("monitor: unreadable port id", "interface", name, "value", value)
			return
		}
		had := st.names[name] != 0
		st.names[name] = uint32(n)
		if !had && st.synced {
			if _, ok := st.status[name]; ok {
				w.applyPort(st, name, live)
			}
		}
	case "oper-status":
		s, ok := value.(string)
		if !ok {
			w.log.Warn("monitor: unreadable oper-status", "interface", name, "value", value)
			return
		}
		if i := strings.LastIndexByte(s, ':'); i >= 0 {
			s = s[i+1:] // an identity with its module prefix
		}
		st.status[name], st.times[name] = s, ts
		if st.synced {
			w.applyPort(st, name, live)
		}
	}
}

// applyPort publishes the state of the interface name as mode says.
func (w *watcher) applyPort(st *portsLoop, name string, mode burst) {
	port := st.names[name]
	if port == 0 {
		return // its port is not known yet: published when its id arrives
	}
	status := st.status[name]
	up := status == operUp
	w.mu.Lock()
	prev, known := w.ports[port]
	changed := !known || prev.Up != up
	if changed || mode == initial {
		w.ports[port] = PortState{Port: port, Interface: name, Up: up}
	}
	w.mu.Unlock()
	var attrs map[string]string
	switch mode {
	case initial:
		if !w.m.cfg.initial {
			return
		}
		attrs = map[string]string{AttrInitial: "true"}
	case resync:
		if !changed {
			return
		}
		attrs = map[string]string{AttrResync: "true"}
	default:
		if !changed {
			return
		}
		attrs = map[string]string{}
	}
	attrs[AttrInterface], attrs[AttrOperStatus] = name, status
	kind, word := events.PortDown, "down"
	if up {
		kind, word = events.PortUp, "up"
	}
	w.publish(events.Event{
		Kind:       kind,
		Port:       port,
		SourceTime: st.times[name],
		Attrs:      attrs,
		Message:    fmt.Sprintf("%s %s (oper-status %s)", name, word, status),
	})
}

// interfaceLeaf splits /interfaces/interface[name=N]/state/LEAF, given as
// a notification's prefix and an update's path.
func interfaceLeaf(prefix, path []*gpb.PathElem) (name, leaf string, ok bool) {
	if len(prefix)+len(path) != 4 {
		return "", "", false
	}
	at := func(i int) *gpb.PathElem {
		if i < len(prefix) {
			return prefix[i]
		}
		return path[i-len(prefix)]
	}
	if at(0).GetName() != "interfaces" || at(1).GetName() != "interface" || at(2).GetName() != "state" {
		return "", "", false
	}
	name = at(1).GetKey()["name"]
	return name, at(3).GetName(), name != ""
}

// toUint reads an unsigned number however the target encoded it.
func toUint(v any) (uint64, bool) {
	switch x := v.(type) {
	case uint64:
		return x, true
	case uint32:
		return uint64(x), true
	case int64:
		return uint64(x), x >= 0
	case int:
		return uint64(x), x >= 0
	case float64:
		return uint64(x), x >= 0 && x == math.Trunc(x) && x <= math.MaxUint64
	case json.Number:
		n, err := strconv.ParseUint(string(x), 10, 64)
		return n, err == nil
	case string:
		n, err := strconv.ParseUint(x, 10, 64)
		return n, err == nil
	}
	return 0, false
}

// ---- system messages -----------------------------------------------------

func (w *watcher) watchMessages(s *gnmi.SubscribeStream) {
	defer s.Close()
	var (
		last    time.Time // the newest message seen
		first   = true    // before the first sync response
		inBurst = true    // before the current RPC's sync response
	)
	for {
		ev, err := s.Recv(w.ctx)
		if err != nil {
			if w.ctx.Err() == nil {
				w.log.Warn("monitor: messages subscription ended", "err", err)
				if first {
					// A box without openconfig-messages: watch its
					// ports anyway.
					close(w.msgsReady)
				}
			}
			return
		}
		switch {
		case ev.Disconnected != nil:
			inBurst = true
		case ev.Sync:
			inBurst = false
			if first {
				first = false
				close(w.msgsReady)
			}
		case ev.Notification != nil:
			m, ok := w.message(ev.Updates, ev.Notification.GetTimestamp())
			if !ok {
				continue
			}
			deliver := !inBurst || (first && w.m.cfg.initial) || (!first && m.Time.After(last))
			if m.Time.After(last) {
				last = m.Time
			}
			if !deliver || w.ctx.Err() != nil {
				continue
			}
			if err := w.m.log.AddMessage(m); err != nil {
				w.log.Warn("monitor: message not logged", "msg", m.Msg, "err", err)
			}
		}
	}
}

// message reads a notification of /messages/state/message.
func (w *watcher) message(us []gnmi.Update, ts int64) (logbook.SystemMessage, bool) {
	m := logbook.SystemMessage{Module: w.box.Module, Serial: w.box.Serial, Severity: logbook.Info}
	if ts != 0 {
		m.Time = time.Unix(0, ts)
	}
	found := false
	for _, u := range us {
		if u.Deleted {
			continue
		}
		leaf := u.Path[strings.LastIndexByte(u.Path, '/')+1:]
		str := fmt.Sprint(u.Value)
		switch leaf {
		case "msg":
			m.Msg, found = str, true
		case "severity":
			if sev, err := logbook.ParseSeverity(str); err == nil {
				m.Severity = sev
			}
		case "priority":
			// The syslog PRI: facility × 8 + severity.
			if n, ok := toUint(u.Value); ok {
				if sev, err := logbook.ParseSeverity(strconv.FormatUint(n%8, 10)); err == nil {
					m.Severity = sev
				}
			}
		case "app-name":
			m.AppName = str
		case "procid":
			m.ProcID = str
		case "msgid":
			m.MsgID = str
		}
	}
	return m, found
}

// ---- connections ---------------------------------------------------------

// relayConnections turns the device's per-protocol connection events into
// box events.
func (w *watcher) relayConnections(up map[driver.Protocol]bool, boxUp bool) {
	for {
		var ev driver.Event
		select {
		case <-w.ctx.Done():
			return
		case e, ok := <-w.box.Device.Events():
			if !ok {
				return
			}
			ev = e
		}
		switch ev.Kind {
		case driver.Connected:
			up[ev.Protocol] = true
			if boxUp || !allUp(up) {
				continue
			}
			boxUp = true
			w.publishConnected(up, ev.Time)
		case driver.Disconnected:
			up[ev.Protocol] = false
			if !boxUp {
				continue
			}
			boxUp = false
			attrs := map[string]string{AttrProtocol: string(ev.Protocol)}
			msg := fmt.Sprintf("box %s disconnected (%s)", w.box.name(), ev.Protocol)
			if ev.Err != nil {
				attrs[events.AttrReason] = ev.Err.Error()
				msg += ": " + ev.Err.Error()
			}
			w.publish(events.Event{Kind: events.BoxDisconnected, ObservedTime: ev.Time, Attrs: attrs, Message: msg})
		case driver.MastershipChanged:
			w.publish(events.Event{
				Kind:         events.MastershipChanged,
				ObservedTime: ev.Time,
				Attrs:        map[string]string{AttrProtocol: string(ev.Protocol), AttrMastership: ev.Mastership.String()},
				Message:      fmt.Sprintf("box %s: %s mastership %s", w.box.name(), ev.Protocol, ev.Mastership),
			})
		}
	}
}

// upReporter is what a device built on driver.Connection says about its
// connections.
type upReporter interface{ Up(driver.Protocol) bool }

// connectionState returns the protocols of the box's device (the ones it
// supports), whether each is up as far as the device says (all down when
// it cannot say), and whether the box is up.
func (w *watcher) connectionState() (map[driver.Protocol]bool, bool) {
	dev := w.box.Device
	up := map[driver.Protocol]bool{}
	if _, err := dev.P4Runtime(); err == nil {
		up[driver.P4Runtime] = false
	}
	if _, err := dev.GNMI(); err == nil {
		up[driver.GNMI] = false
	}
	if _, err := dev.GNOI(); err == nil {
		up[driver.GNOI] = false
	}
	ur, ok := dev.(upReporter)
	if !ok {
		return up, false
	}
	// The events queued until now are history that Up sums up.
drain:
	for {
		select {
		case _, open := <-dev.Events():
			if !open {
				break drain
			}
		default:
			break drain
		}
	}
	for p := range up {
		up[p] = ur.Up(p)
	}
	return up, len(up) > 0 && allUp(up)
}

func allUp(up map[driver.Protocol]bool) bool {
	for _, u := range up {
		if !u {
			return false
		}
	}
	return true
}

func (w *watcher) publishConnected(up map[driver.Protocol]bool, at time.Time) {
	ps := slices.Sorted(maps.Keys(up))
	names := make([]string, len(ps))
	for i, p := range ps {
		names[i] = string(p)
	}
	w.publish(events.Event{
		Kind:         events.BoxConnected,
		ObservedTime: at,
		Message:      fmt.Sprintf("box %s connected (%s)", w.box.name(), strings.Join(names, ", ")),
	})
}
