package orchestrator

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"

	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"

	"github.com/p4fabric/fabric/orchestrator/discovery"
	"github.com/p4fabric/fabric/orchestrator/events"
	"github.com/p4fabric/fabric/orchestrator/goal"
	"github.com/p4fabric/fabric/orchestrator/inventory"
	"github.com/p4fabric/fabric/orchestrator/logbook"
	"github.com/p4fabric/fabric/pipeline/objective"
)

// WithDiscovery learns the links between the boxes with LLDP probes, as
// ONOS's link provider does (package discovery): Links returns them, and
// LinkDiscovered / LinkLost events report them (Module and Port name one
// end, events.AttrPeerModule and events.AttrPeerPort the other,
// events.AttrReason why a link was lost).
//
// The punt rule for LLDP (discovery.PuntObjective) becomes part of every
// box's goal when its config gives it a pipeconf, so it is committed,
// reconciled and replayed with the rest of the goal, and a box joins
// discovery once a committed version gives it its pipeline. Every port of
// the box's port map is probed; the monitor's port-down events (WithMonitor)
// drop a link at once, and a link whose probes stop is dropped after the
// discovery's missed probes. With WithReroute, a port at the end of a lost
// link counts as down for rerouting until the link is discovered again.
// opts are passed to discovery.New after the orchestrator's logger.
func WithDiscovery(opts ...discovery.Option) Option {
	return func(o *options) {
		o.svc.discovery = true
		o.svc.discOpts = append(o.svc.discOpts, opts...)
	}
}

// linked is a box added to the discovery.
type linked struct {
	conn     *conn
	pipeconf string
}

// withPunt returns cfg, or a copy of it where every box that runs a
// pipeconf has the LLDP punt objective in its module's section, when
// discovery is on.
func (o *Orchestrator) withPunt(cfg *goal.Config, boxes []inventory.Box) (*goal.Config, error) {
	if o.svc == nil || o.svc.disc == nil {
		return cfg, nil
	}
	y, err := cfg.Marshal()
	if err != nil {
		return nil, fmt.Errorf("orchestrator: %w: %w", ErrInvalid, err)
	}
	out, err := goal.Parse(y)
	if err != nil {
		return nil, fmt.Errorf("orchestrator: %w: %w", ErrInvalid, err)
	}
	punt := objective.Objective(discovery.PuntObjective())
	key := string(punt.Kind()) + "\x00" + punt.Key()
	for _, b := range boxes {
		m := strconv.FormatUint(uint64(b.Module), 10)
		mod := out.Modules[m]
		role := out.Roles[string(b.Spec.Role)]
		if mod.Pipeconf == "" && role.Pipeconf == "" {
			continue
		}
		has := func(ob objective.Objective) bool { return string(ob.Kind())+"\x00"+ob.Key() == key }
		if slices.ContainsFunc(mod.Objectives, has) || slices.ContainsFunc(role.Objectives, has) {
			continue // the config punts LLDP itself
		}
		mod.Objectives = append(slices.Clone(mod.Objectives), punt)
		if out.Modules == nil {
			out.Modules = map[string]goal.Section{}
		}
		out.Modules[m] = mod
	}
	return out, nil
}

// syncLinks brings the discovery's devices in line with the attached boxes
// and the committed goals: a box whose goal has a pipeconf is added (again,
// when its device or pipeconf changed), any other is removed.
func (s *services) syncLinks(ctx context.Context) {
	if s.disc == nil {
		return
	}
	cur, err := s.o.coord.Current(ctx)
	if err != nil {
		s.o.log.Warn("discovery: current version", "err", err)
		return
	}
	want := map[string]linked{}
	s.o.mu.RLock()
	for serial, c := range s.o.conns {
		if cur == nil || cur.Goals[serial] == nil || cur.Goals[serial].Pipeconf == "" {
			continue
		}
		want[strconv.FormatUint(uint64(c.box.Module), 10)] = linked{conn: c, pipeconf: cur.Goals[serial].Pipeconf}
	}
	s.o.mu.RUnlock()

	s.linkMu.Lock()
	defer s.linkMu.Unlock()
	for id, l := range s.linked {
		if w, ok := want[id]; !ok || w != l {
			if err := s.disc.Remove(ctx, id); err != nil && !errors.Is(err, discovery.ErrUnknownDevice) {
				s.o.log.Warn("discovery: remove", logbook.AttrModule, id, "err", err)
			}
			delete(s.linked, id)
		}
	}
	for id, w := range want {
		if _, ok := s.linked[id]; ok {
			continue
		}
		cl, err := w.conn.dev.P4Runtime()
		if err != nil {
			continue // no P4Runtime: nothing to probe with
		}
		if cl.Schema() == nil {
			// A new client of a box that runs its pipeline (the
			// orchestrator restarted) learns the P4Info from the box.
			// A box without one (it rebooted) joins once the reconciler
			// has replayed it (DriftRepaired).
			if _, err := cl.GetPipeline(ctx, p4v1.GetForwardingPipelineConfigRequest_P4INFO_AND_COOKIE); err != nil || cl.Schema() == nil {
				continue
			}
		}
		ports := make([]uint32, 0, len(w.conn.box.Ports))
		for _, p := range w.conn.box.Ports {
			ports = append(ports, p.ID)
		}
		err = s.disc.Add(ctx, discovery.Device{ID: id, Client: cl, Ports: ports})
		if err != nil {
			s.o.log.Warn("discovery: add", logbook.AttrModule, id, "err", err)
			continue
		}
		s.linked[id] = w
		if s.mon == nil {
			continue
		}
		// Ports the monitor already knows down are not probed.
		if st, err := s.mon.Ports(w.conn.box.Serial); err == nil {
			for _, p := range st {
				if !p.Up {
					_ = s.disc.PortDown(id, p.Port)
				}
			}
		}
	}
}

// portEvent tells the discovery a port's state, from the monitor.
func (s *services) portEvent(e events.Event) {
	if s.disc == nil {
		return
	}
	id := strconv.FormatUint(uint64(e.Module), 10)
	var err error
	if e.Kind == events.PortDown {
		err = s.disc.PortDown(id, e.Port)
	} else {
		err = s.disc.PortUp(id, e.Port)
	}
	if err != nil && !errors.Is(err, discovery.ErrUnknownDevice) && !errors.Is(err, discovery.ErrUnknownPort) {
		s.o.log.Debug("discovery: port event", logbook.AttrModule, e.Module, "port", e.Port, "err", err)
	}
}

// links publishes the discovery's events on the bus and keeps the lost
// links' ports for rerouting.
func (s *services) links() {
	for {
		var ev discovery.Event
		select {
		case <-s.o.ctx.Done():
			return
		case e, ok := <-s.disc.Events():
			if !ok {
				return
			}
			ev = e
		}
		a, errA := endpointOf(ev.Link.A)
		b, errB := endpointOf(ev.Link.B)
		if errA != nil || errB != nil {
			s.o.log.Warn("discovery: link of an unknown device", "link", ev.Link.String())
			continue
		}
		s.linkMu.Lock()
		if ev.Kind == discovery.LinkLost {
			s.lost[a], s.lost[b] = true, true
		} else {
			delete(s.lost, a)
			delete(s.lost, b)
		}
		s.linkMu.Unlock()
		kind, msg := events.LinkDiscovered, "link discovered"
		attrs := map[string]string{
			events.AttrPeerModule: strconv.FormatUint(uint64(b.module), 10),
			events.AttrPeerPort:   strconv.FormatUint(uint64(b.port), 10),
		}
		if ev.Kind == discovery.LinkLost {
			kind, msg = events.LinkLost, "link lost"
			attrs[events.AttrReason] = string(ev.Reason)
		}
		serial := ""
		if box, err := s.o.inv.ByModule(s.o.ctx, a.module); err == nil {
			serial = box.Serial
		}
		if peer, err := s.o.inv.ByModule(s.o.ctx, b.module); err == nil {
			attrs[events.AttrPeerSerial] = peer.Serial
		}
		s.o.publish(events.Event{Kind: kind, Module: a.module, Serial: serial, Port: a.port, ObservedTime: ev.Time, Attrs: attrs,
			Message: fmt.Sprintf("%s: %s <-> %s", msg, inventory.FormatInterface(a.module, a.port), inventory.FormatInterface(b.module, b.port))})
	}
}

// lostPorts returns the ports at the ends of links that were lost and not
// discovered again.
func (s *services) lostPorts() map[portKey]bool {
	s.linkMu.Lock()
	defer s.linkMu.Unlock()
	out := make(map[portKey]bool, len(s.lost))
	for k := range s.lost {
		out[k] = true
	}
	return out
}

// endpointOf parses a discovery endpoint whose device ID is a module ID.
func endpointOf(e discovery.Endpoint) (portKey, error) {
	m, err := strconv.ParseUint(e.Device, 10, 32)
	if err != nil || m == 0 {
		return portKey{}, fmt.Errorf("orchestrator: discovery device %q is not a module ID", e.Device)
	}
	return portKey{uint32(m), e.Port}, nil
}
