package orchestrator

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"google.golang.org/grpc/metadata"

	"github.com/p4fabric/fabric/internal/backoff"
	"github.com/p4fabric/fabric/orchestrator/discovery"
	"github.com/p4fabric/fabric/orchestrator/events"
	"github.com/p4fabric/fabric/orchestrator/goal"
	"github.com/p4fabric/fabric/orchestrator/inventory"
	"github.com/p4fabric/fabric/orchestrator/logbook"
	"github.com/p4fabric/fabric/orchestrator/monitor"
	"github.com/p4fabric/fabric/orchestrator/timesync"
	"github.com/p4fabric/fabric/orchestrator/txn"
	"github.com/p4fabric/fabric/pipeline/objective"
)

// serviceOptions are the options of the chassis services (services.go).
type serviceOptions struct {
	monitor   bool
	monOpts   []monitor.Option
	reroute   bool
	timesync  bool
	tsOpts    []timesync.Option
	noNTP     bool
	discovery bool
	discOpts  []discovery.Option
}

// WithMonitor watches every box the orchestrator keeps open with
// orchestrator/monitor: port up/down (gNMI ON_CHANGE), connection and
// mastership changes are published on the event bus (and so reach the
// logbook), and the boxes' system messages go to the logbook. The monitor
// then reads the devices' connection events in place of the orchestrator;
// a BoxConnected event still triggers a reconcile pass of the box. opts
// are passed to monitor.New after the orchestrator's logger.
func WithMonitor(opts ...monitor.Option) Option {
	return func(o *options) {
		o.svc.monitor = true
		o.svc.monOpts = append(o.svc.monOpts, opts...)
	}
}

// WithReroute reroutes ECMP traffic around ports that go down, as ONOS
// reroutes intents (it implies WithMonitor). A member of a next-hop group
// (a next-hop-group objective, or a route's inline group) of module M
// leaves through chassis interface eth-M/0/<its next hop's port>. When
// such an interface goes down (PortDown), the orchestrator commits a new
// version of the config last committed with Commit without those members;
// when it comes back up (PortUp), it commits the config again with them.
// A group never loses its last member: it is left as configured and a
// warning is logged. The Committed events of these commits carry the
// reason (events.AttrReason: the ports whose state changed since the last
// commit, "port-down eth-1/0/1, port-down eth-3/0/1" / "port-up ..."). A
// reroute that fails (Aborted event) is tried again at the next port
// event. Port states come from the monitor (Monitor.Ports); ports already
// down when a box is watched count, but reroute nothing until a port
// event or the next Commit. After Rollback, nothing is rerouted until the
// next Commit.
func WithReroute() Option {
	return func(o *options) {
		o.svc.monitor = true
		o.svc.reroute = true
	}
}

// WithTimeSync follows every box's clock with a timesync.Service (gNOI
// system Time through the box's device, gNMI for its NTP config): the
// service's alarms are published as TimeAlarmRaised / TimeAlarmCleared
// events, and its estimates set the boxes' offsets in the logbook
// (logbook.Log.SetOffset), so that the merged log reads in corrected time.
// The service is started at New (it serves SNTP, see
// timesync.WithListenAddr) and closed at Close; TimeSync returns it. Every
// box is configured to take its time from that SNTP server unless
// WithNTPConfig(false) says otherwise. opts are passed to timesync.New
// after the orchestrator's own.
func WithTimeSync(opts ...timesync.Option) Option {
	return func(o *options) {
		o.svc.timesync = true
		o.svc.tsOpts = append(o.svc.tsOpts, opts...)
	}
}

// WithNTPConfig says whether WithTimeSync configures every box's NTP
// client to the chassis time source (default true). When it does, each box
// gets, as soon as it is attached, the chassis's SNTP server as its only NTP
// server (timesync.Service.ConfigureNTP: one gNMI Set of /system/ntp, read
// back and verified); a box that refuses is logged and tried again a few
// times with backoff. Turn it off where the boxes keep time by other means
// and the orchestrator should only watch their clocks.
func WithNTPConfig(on bool) Option {
	return func(o *options) { o.svc.noNTP = !on }
}

// ntpAttempts bounds the tries to configure one box's NTP.
const ntpAttempts = 5

// portKey names one port of the chassis.
type portKey struct {
	module uint32
	port   uint32
}

// services runs the chassis services of one orchestrator.
type services struct {
	o    *Orchestrator
	mon  *monitor.Monitor
	ts   *timesync.Service
	disc *discovery.Discovery

	// mu serialises Commit and reroutes and guards what follows.
	mu         sync.Mutex
	configured []byte             // YAML of the config last committed with Commit
	applied    []byte             // YAML of the config last committed (Commit or reroute)
	down       map[portKey]string // ports down when the config was last committed, and why

	// linkMu guards the discovery's boxes and the ports of lost links.
	linkMu sync.Mutex
	linked map[string]linked // by discovery device ID (module)
	lost   map[portKey]bool
}

// startServices starts the services opts ask for. It runs in New, after
// the bus and before any box is attached.
func (o *Orchestrator) startServices() error {
	so := o.o.svc
	s := &services{o: o, down: map[portKey]string{}}
	o.svc = s
	if so.monitor {
		m, err := monitor.New(o.bus, o.book, append([]monitor.Option{monitor.WithLogger(o.log)}, so.monOpts...)...)
		if err != nil {
			return fmt.Errorf("orchestrator: monitor: %w", err)
		}
		s.mon = m
	}
	if so.timesync {
		ts, err := timesync.New(append([]timesync.Option{timesync.WithLogger(o.log), timesync.WithAlarm(s.alarm)}, so.tsOpts...)...)
		if err != nil {
			return fmt.Errorf("orchestrator: timesync: %w", err)
		}
		if err := ts.Start(o.ctx); err != nil {
			_ = ts.Close()
			return fmt.Errorf("orchestrator: timesync: %w", err)
		}
		s.ts = ts
		o.wg.Go(s.offsets)
	}
	if so.discovery {
		d, err := discovery.New(append([]discovery.Option{discovery.WithLogger(o.log)}, so.discOpts...)...)
		if err != nil {
			return fmt.Errorf("orchestrator: discovery: %w", err)
		}
		s.disc = d
		s.linked, s.lost = map[string]linked{}, map[portKey]bool{}
		o.wg.Go(s.links)
	}
	if s.mon != nil || s.disc != nil {
		var kinds []events.Kind
		if s.mon != nil {
			kinds = append(kinds, events.BoxConnected)
		}
		if so.reroute || s.disc != nil {
			kinds = append(kinds, events.PortDown, events.PortUp)
		}
		if s.disc != nil {
			kinds = append(kinds, events.Committed, events.BoxConnected, events.BoxDisconnected, events.DriftRepaired)
			if so.reroute {
				kinds = append(kinds, events.LinkDiscovered, events.LinkLost)
			}
		}
		sub, err := o.bus.Subscribe(o.ctx, events.Filter{Kinds: kinds})
		if err != nil {
			return fmt.Errorf("orchestrator: subscribe: %w", err)
		}
		o.wg.Go(func() { s.loop(sub) })
	}
	return nil
}

// TimeSync returns the time-sync service (nil without WithTimeSync).
func (o *Orchestrator) TimeSync() *timesync.Service {
	if o.svc == nil {
		return nil
	}
	return o.svc.ts
}

// Links returns the links between boxes that link discovery knows now
// (nil without WithDiscovery), sorted. An endpoint's Device is the box's
// module ID in decimal; inventory.FormatInterface names its port
// chassis-wide.
func (o *Orchestrator) Links() []discovery.Link {
	if o.svc == nil || o.svc.disc == nil {
		return nil
	}
	return o.svc.disc.Links()
}

// Monitor returns the box monitor (nil without WithMonitor).
func (o *Orchestrator) Monitor() *monitor.Monitor {
	if o.svc == nil {
		return nil
	}
	return o.svc.mon
}

// closeServices stops the services; the boxes' devices are still open.
func (s *services) close() {
	if s == nil {
		return
	}
	if s.mon != nil {
		_ = s.mon.Close()
	}
	if s.ts != nil {
		_ = s.ts.Close()
	}
	if s.disc != nil {
		ctx, cancel := context.WithTimeout(context.Background(), s.o.o.boxTimeout)
		_ = s.disc.Stop(ctx)
		cancel()
	}
}

// attach starts the services of a box just attached. It reports whether
// the monitor watches the box (and reads its device's events).
func (s *services) attach(ctx context.Context, c *conn) bool {
	if s == nil {
		return false
	}
	b := c.box
	if s.ts != nil {
		s.addClock(b, c)
	}
	if s.mon == nil {
		return false
	}
	wctx, cancel := context.WithTimeout(ctx, s.o.o.boxTimeout)
	defer cancel()
	err := s.mon.Watch(wctx, monitor.Box{Name: b.Spec.Name, Serial: b.Serial, Module: b.Module, Device: c.dev})
	if err != nil {
		s.o.log.Warn("monitor: watch failed", logbook.AttrModule, b.Module, "serial", b.Serial, "err", err)
		return false
	}
	return true
}

// detach stops the services of a box whose device is about to close.
func (s *services) detach(c *conn, watched bool) {
	if s == nil {
		return
	}
	if watched {
		_ = s.mon.Unwatch(c.box.Serial)
	}
	if s.disc != nil {
		id := strconv.FormatUint(uint64(c.box.Module), 10)
		s.linkMu.Lock()
		if l, ok := s.linked[id]; ok && l.conn == c {
			ctx, cancel := context.WithTimeout(context.Background(), s.o.o.boxTimeout)
			_ = s.disc.Remove(ctx, id)
			cancel()
			delete(s.linked, id)
		}
		s.linkMu.Unlock()
	}
	if s.ts != nil {
		_ = s.ts.Remove(c.box.Serial)
	}
}

func (s *services) addClock(b inventory.Box, c *conn) {
	tc, err := c.dev.GNOI()
	if err != nil {
		s.o.log.Warn("timesync: box has no gNOI", logbook.AttrModule, b.Module, "serial", b.Serial, "err", err)
		return
	}
	box := timesync.Box{Name: b.Serial, Module: b.Module, Time: tc}
	if gc, err := c.dev.GNMI(); err == nil {
		box.Config = gc
	}
	if err := s.ts.Add(box); err != nil {
		s.o.log.Warn("timesync: add box", logbook.AttrModule, b.Module, "serial", b.Serial, "err", err)
		return
	}
	if box.Config != nil && !s.o.o.svc.noNTP {
		s.o.wg.Go(func() { s.configureNTP(c, b) })
	}
}

// configureNTP points the box's NTP client at the chassis time source,
// retrying with backoff while the box is attached.
func (s *services) configureNTP(c *conn, b inventory.Box) {
	op := OpID()
	log := s.o.log.With(logbook.AttrOp, op, logbook.AttrModule, b.Module, "serial", b.Serial)
	bo := backoff.New(backoff.WithBase(200*time.Millisecond), backoff.WithMax(5*time.Second))
	ctx, cancel := context.WithCancel(s.o.ctx)
	defer cancel()
	go func() { // the box detached: stop
		select {
		case <-ctx.Done():
		case <-c.done:
			cancel()
		}
	}()
	for attempt := 1; ; attempt++ {
		actx, acancel := context.WithTimeout(ctx, s.o.o.boxTimeout)
		err := s.ts.ConfigureNTP(metadata.AppendToOutgoingContext(actx, txn.MetadataKey, op), b.Serial)
		acancel()
		if err == nil {
			log.Info("NTP configured: the box follows the chassis time source")
			return
		}
		if ctx.Err() != nil {
			return
		}
		if attempt == ntpAttempts {
			log.Warn("NTP not configured; the box's clock is only watched", "attempts", attempt, "err", err)
			return
		}
		log.Debug("NTP configuration failed, retrying", "attempt", attempt, "err", err)
		t := time.NewTimer(bo.Next())
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

// alarm publishes a time-sync alarm.
func (s *services) alarm(a timesync.Alarm) {
	kind := events.TimeAlarmCleared
	if a.Raised {
		kind = events.TimeAlarmRaised
	}
	s.o.publish(events.Event{Kind: kind, Module: a.Module, Serial: a.Box, ObservedTime: a.Time,
		Attrs: map[string]string{
			"offset": a.Offset.String(), "error-bound": a.ErrorBound.String(),
			"threshold": a.Threshold.String(), "drift-ppm": strconv.FormatFloat(a.DriftPPM, 'f', 3, 64),
		},
		Message: a.Message})
}

// offsetPeriod is how often the time-sync estimates are copied to the
// logbook.
const offsetPeriod = 100 * time.Millisecond

// offsets copies the time-sync estimates to the logbook's offsets.
func (s *services) offsets() {
	t := time.NewTicker(offsetPeriod)
	defer t.Stop()
	last := map[uint32]timesync.Estimate{}
	for {
		select {
		case <-s.o.ctx.Done():
			return
		case <-t.C:
		}
		for _, e := range s.ts.Snapshot() {
			if e.Module == 0 || e.Samples == 0 {
				continue
			}
			if p, ok := last[e.Module]; ok && p.Offset == e.Offset && p.ErrorBound == e.ErrorBound {
				continue
			}
			if err := s.o.book.SetOffset(e.Module, e.Offset, e.ErrorBound); err != nil {
				s.o.log.Debug("logbook offset", logbook.AttrModule, e.Module, "err", err)
				continue
			}
			last[e.Module] = e
		}
	}
}

// loop handles the events the services follow.
func (s *services) loop(sub *events.Subscription) {
	defer sub.Cancel()
	for {
		var batch []events.Event
		select {
		case <-s.o.ctx.Done():
			return
		case e, ok := <-sub.C():
			if !ok {
				return
			}
			batch = append(batch, e)
		}
		// Take what else is queued: both ends of a link go down together.
	more:
		for {
			select {
			case e, ok := <-sub.C():
				if !ok {
					break more
				}
				batch = append(batch, e)
			default:
				break more
			}
		}
		ports, sync := false, false
		for _, e := range batch {
			switch e.Kind {
			case events.BoxConnected:
				if s.mon != nil {
					s.o.rec.Trigger(e.Serial)
				}
				sync = true
			case events.PortDown, events.PortUp:
				s.portEvent(e)
				ports = true
			case events.LinkDiscovered, events.LinkLost:
				ports = true
			case events.Committed, events.BoxDisconnected, events.DriftRepaired:
				sync = true
			}
		}
		if sync {
			ctx, cancel := context.WithTimeout(s.o.ctx, s.o.o.boxTimeout)
			s.syncLinks(ctx)
			cancel()
		}
		if ports && s.o.o.svc.reroute {
			s.reroute()
		}
	}
}

// compile compiles cfg against boxes without the group members on the
// ports of down (downPorts: down, and their sorted names), and returns the
// goals and the YAML of the config they come from (canonical(cfg) when
// nothing is pruned). With whole, cfg as given must compile too: the
// reroutes commit it when the ports come back.
func (s *services) compile(cfg *goal.Config, canonical func(*goal.Config) []byte, boxes []inventory.Box, down map[portKey]string, names []string, whole bool) (map[string]*goal.Goal, []byte, error) {
	if len(names) == 0 {
		goals, err := s.o.compileFor(cfg, boxes)
		if err != nil {
			return nil, nil, err
		}
		return goals, canonical(cfg), nil
	}
	if whole {
		if _, err := s.o.compileFor(cfg, boxes); err != nil {
			return nil, nil, err
		}
	}
	pruned := Prune(cfg, boxes, func(m, p uint32) bool { return down[portKey{m, p}] != "" }, s.o.log)
	goals, err := s.o.compileFor(pruned, boxes)
	if err != nil {
		return nil, nil, err
	}
	// Without its YAML the next reroute commits even if nothing changed.
	applied, _ := pruned.Marshal()
	return goals, applied, nil
}

// samePorts reports whether a and b hold the same ports (the reasons
// aside: pruning depends on the ports only).
func samePorts(a, b map[portKey]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k := range a {
		if b[k] == "" {
			return false
		}
	}
	return true
}

// commit is Prepared.Commit with reroute on: it commits p's config
// without the group members on ports that are down now (compiling it again
// unless the boxes and the down ports are those p was compiled with), and
// keeps the config for the reroutes that follow.
func (s *services) commit(ctx context.Context, p *Prepared, opts ...txn.CommitOption) (*txn.Result, error) {
	// A reroute commits from the config Commit last committed: serialise
	// the two.
	s.mu.Lock()
	defer s.mu.Unlock()
	boxes, err := s.o.Boxes(ctx)
	if err != nil {
		return nil, err
	}
	down, names := s.downPorts(boxes)
	goals, applied := p.goals, p.applied
	if !p.compiledFor(boxes) || !samePorts(down, p.down) {
		s.o.log.Debug("commit: the inventory or the down ports changed since the config was prepared; compiling it again")
		cfg, err := p.config()
		if err != nil {
			return nil, err
		}
		if goals, applied, err = s.compile(cfg, p.canonical, boxes, down, names, false); err != nil {
			return nil, err
		}
	}
	reason := ""
	if len(names) > 0 {
		reason = "ports down: " + strings.Join(names, ", ")
	}
	res, err := s.o.commit("commit", reason, p.yaml, func(more ...txn.CommitOption) (*txn.Result, error) {
		return s.o.coord.Commit(ctx, goals, append(opts, more...)...)
	})
	if err != nil {
		return nil, err
	}
	s.configured, s.down, s.applied = p.yaml, down, applied
	return res, nil
}

// Why a port counts as down for rerouting.
const (
	downPort = "port-down" // the monitor saw its operational state down
	downLink = "link-lost" // discovery lost the link it ends
)

// downPorts returns the ports of boxes the monitor last saw down and the
// ends of lost links (discovery), each with why, and their chassis
// interface names (sorted).
func (s *services) downPorts(boxes []inventory.Box) (map[portKey]string, []string) {
	down := map[portKey]string{}
	if s.disc != nil {
		for k := range s.lostPorts() {
			down[k] = downLink
		}
	}
	for _, b := range boxes {
		ports, err := s.mon.Ports(b.Serial)
		if err != nil {
			continue // not watched: nothing known
		}
		for _, p := range ports {
			if !p.Up {
				down[portKey{b.Module, p.Port}] = downPort
			}
		}
	}
	names := make([]string, 0, len(down))
	for k := range down {
		names = append(names, inventory.FormatInterface(k.module, k.port))
	}
	slices.Sort(names)
	return down, names
}

// reroute commits the configured config without the group members that
// leave through ports that are down, unless the chassis has that already.
func (s *services) reroute() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.configured == nil || s.o.check() != nil {
		return
	}
	op := OpID()
	log := s.o.log.With(logbook.AttrOp, op)
	cfg, err := goal.Parse(s.configured)
	if err != nil {
		log.Warn("reroute: config", "err", err)
		return
	}
	ctx, cancel := context.WithTimeout(s.o.ctx, 4*s.o.o.boxTimeout)
	defer cancel()
	boxes, err := s.o.Boxes(ctx)
	if err != nil {
		log.Warn("reroute: boxes", "err", err)
		return
	}
	down, _ := s.downPorts(boxes)
	// The reason: the ports whose state changed since the last commit.
	var changes []string
	for k, why := range down {
		if s.down[k] == "" {
			changes = append(changes, why+" "+inventory.FormatInterface(k.module, k.port))
		}
	}
	for k, why := range s.down {
		if down[k] == "" {
			back := "port-up "
			if why == downLink {
				back = "link-discovered "
			}
			changes = append(changes, back+inventory.FormatInterface(k.module, k.port))
		}
	}
	if len(changes) == 0 {
		return
	}
	slices.Sort(changes)
	reason := strings.Join(changes, ", ")
	pruned := Prune(cfg, boxes, func(m, p uint32) bool { return down[portKey{m, p}] != "" }, log)
	y, err := pruned.Marshal()
	if err != nil {
		log.Warn("reroute: config", "err", err)
		return
	}
	if bytes.Equal(y, s.applied) {
		s.down = down
		log.Info("reroute: nothing to change", events.AttrReason, reason)
		return
	}
	goals, err := s.o.Compile(ctx, pruned)
	if err != nil {
		log.Warn("reroute: compile", events.AttrReason, reason, "err", err)
		return
	}
	res, err := s.o.commit("reroute", reason, s.configured, func(more ...txn.CommitOption) (*txn.Result, error) {
		return s.o.coord.Commit(ctx, goals, append([]txn.CommitOption{txn.WithComment("reroute: " + reason)}, more...)...)
	})
	if err != nil {
		log.Warn("reroute failed", events.AttrReason, reason, "err", err)
		return
	}
	s.applied, s.down = y, down
	log.Info("rerouted", events.AttrReason, reason, "version", res.Version, "txn", res.ID)
}

// Prune returns a copy of cfg where the next-hop groups of every box (the
// next-hop-group objectives and the routes' inline groups, of the box's
// role and module) lack the members whose next hop leaves through a port
// down reports down (module, P4Runtime port). A group whose members would
// all go is kept whole, and logged to log. Groups that change are written
// to the module's section, where they replace the role's.
func Prune(cfg *goal.Config, boxes []inventory.Box, down func(module, port uint32) bool, log *slog.Logger) *goal.Config {
	y, err := cfg.Marshal()
	if err != nil {
		return cfg
	}
	out, err := goal.Parse(y)
	if err != nil {
		return cfg
	}
	for _, b := range boxes {
		key := strconv.FormatUint(uint64(b.Module), 10)
		var objs objective.List
		if r, ok := out.Roles[string(b.Spec.Role)]; ok {
			objs = append(objs, r.Objectives...)
		}
		mod, hasMod := out.Modules[key]
		objs = append(objs, mod.Objectives...) // the module's come last and win
		changed := map[string]objective.Objective{}
		var order []string
		for _, ob := range objs {
			var p objective.Objective
			switch x := objective.Value(ob).(type) {
			case objective.NextHopGroup:
				if g, ok := pruneGroup(&x, b.Module, down, log); ok {
					p = *g
				}
			case objective.Route:
				if x.Group != nil {
					if g, ok := pruneGroup(x.Group, b.Module, down, log); ok {
						x.Group = g
						p = x
					}
				}
			}
			k := string(ob.Kind()) + "\x00" + ob.Key()
			if p != nil {
				if _, seen := changed[k]; !seen {
					order = append(order, k)
				}
				changed[k] = p
			} else if _, seen := changed[k]; seen {
				// A later (module) objective with the same key, not pruned.
				delete(changed, k)
			}
		}
		if len(changed) == 0 {
			continue
		}
		if !hasMod {
			mod = goal.Section{}
		}
		list := slices.Clone(mod.Objectives)
		for _, k := range order {
			p, ok := changed[k]
			if !ok {
				continue
			}
			i := slices.IndexFunc(list, func(ob objective.Objective) bool { return string(ob.Kind())+"\x00"+ob.Key() == k })
			if i >= 0 {
				list[i] = p
			} else {
				list = append(list, p)
			}
		}
		mod.Objectives = list
		if out.Modules == nil {
			out.Modules = map[string]goal.Section{}
		}
		out.Modules[key] = mod
	}
	return out
}

// pruneGroup returns g without the members that leave through a port that
// is down, and whether any went.
func pruneGroup(g *objective.NextHopGroup, module uint32, down func(module, port uint32) bool, log *slog.Logger) (*objective.NextHopGroup, bool) {
	var keep []objective.Weighted
	for _, m := range g.Members {
		if !down(module, m.NextHop.Port) {
			keep = append(keep, m)
		}
	}
	switch {
	case len(keep) == len(g.Members):
		return g, false
	case len(keep) == 0:
		if log != nil {
			log.Warn("reroute: every member of a group is down; group left as configured",
				logbook.AttrModule, module, "group", g.ID)
		}
		return g, false
	}
	return &objective.NextHopGroup{ID: g.ID, Members: keep}, true
}
