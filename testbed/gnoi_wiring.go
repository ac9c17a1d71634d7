package testbed

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"sync"
	"time"

	syspb "github.com/openconfig/gnoi/system"
	"google.golang.org/grpc"

	"github.com/p4fabric/fabric/testbed/clock"
	gnmisrv "github.com/p4fabric/fabric/testbed/gnmi"
	"github.com/p4fabric/fabric/testbed/gnoi"
)

// DefaultBootDelay is how long a switch stays down when gNOI reboots it,
// unless GNOIConfig.BootDelay says otherwise.
const DefaultBootDelay = 100 * time.Millisecond

// GNOIConfig configures AttachGNOI.
type GNOIConfig struct {
	// Clock is the switch's clock, which system.Time reads and the NTP
	// configuration disciplines. Give its Now as SwitchConfig.Clock too, so
	// that gNMI and gNOI read the same time. Nil makes a clock without skew
	// (gNMI then keeps reading the host clock).
	Clock *clock.Clock
	// BootDelay is how long the switch stays down when gNOI reboots it
	// (COLD, WARM, or an activation); zero means DefaultBootDelay.
	BootDelay time.Duration
	// Options configure the gNOI server, after the wiring's own
	// (authentication through Switch.Authenticate, health of the chassis
	// and the ports).
	Options []gnoi.Option
}

// SwitchGNOI is the gNOI side of a switch, as AttachGNOI wired it.
type SwitchGNOI struct {
	// Server is the switch's gNOI server (installed packages, files, reboot
	// history).
	Server *gnoi.Server
	// Clock is the switch's clock: SetOffset and SetDrift skew it,
	// Status reports its NTP discipline.
	Clock *clock.Clock

	closeOnce sync.Once
	removeNTP func()
}

// Close stops following the NTP configuration, stops the clock's NTP
// discipline and cancels a pending gNOI reboot. The services stay
// registered on the switch.
func (g *SwitchGNOI) Close() error {
	g.closeOnce.Do(func() {
		g.removeNTP()
		g.Clock.Close()
		g.Server.Close()
	})
	return nil
}

// AttachGNOI gives sw the gNOI services (system, os, healthz, file; see
// package testbed/gnoi) on its gRPC listener from its next start on, so
// call it before Start. The wiring:
//
//   - system.Time reads cfg.Clock.
//   - Reboot COLD and WARM call Switch.Reboot(BootDelay, message): the
//     switch goes down at once (listener closed, P4Runtime state lost, gNMI
//     configuration kept) and comes back after the boot delay; POWERDOWN
//     calls Switch.Stop and the switch stays down until Start.
//   - os.Activate reboots the same way; the switch comes back with the
//     activated version as its software version (Switch.SetSoftwareVersion,
//     which gNMI reports too).
//   - healthz reports the component "chassis" (healthy while the switch
//     runs) and one component per port, named as gNMI names them
//     ("port1"..), unhealthy while its oper-status is down.
//   - Every RPC checks the switch's credentials (Switch.Authenticate).
//   - The NTP configuration of the switch's gNMI service (/system/ntp:
//     enabled and servers) drives the clock: when enabled with at least one
//     server, the clock disciplines itself to the first server (sorted by
//     address, at its port), otherwise NTP is off. It follows every change.
func AttachGNOI(sw *Switch, cfg GNOIConfig) (*SwitchGNOI, error) {
	if sw == nil {
		return nil, errors.New("testbed: attach gNOI: nil switch")
	}
	clk := cfg.Clock
	if clk == nil {
		var err error
		if clk, err = clock.New(clock.WithLogger(sw.log)); err != nil {
			return nil, fmt.Errorf("testbed: switch %q: clock: %w", sw.Name(), err)
		}
	}
	boot := cfg.BootDelay
	if boot <= 0 {
		boot = DefaultBootDelay
	}
	opts := append([]gnoi.Option{
		gnoi.WithAuth(sw.Authenticate),
		gnoi.WithHealth(func() []gnoi.Component { return switchHealth(sw) }),
		gnoi.WithLogger(sw.log),
	}, cfg.Options...)
	srv, err := gnoi.New(gnoiBox{sw: sw, bootDelay: boot}, clk, opts...)
	if err != nil {
		return nil, fmt.Errorf("testbed: switch %q: gNOI: %w", sw.Name(), err)
	}
	g := &SwitchGNOI{Server: srv, Clock: clk}
	applyNTP := func() {
		ntp := sw.GNMI().Config().NTP
		if !ntp.Enabled || len(ntp.Servers) == 0 {
			clk.DisableNTP()
			return
		}
		s := ntp.Servers[0]
		port := s.Port
		if port == 0 {
			port = gnmisrv.DefaultNTPPort
		}
		addr := net.JoinHostPort(s.Address, strconv.Itoa(int(port)))
		if err := clk.EnableNTP(addr); err != nil {
			sw.log.Warn("NTP not enabled", "server", addr, "err", err)
		}
	}
	g.removeNTP = sw.GNMI().OnConfigChange(func(ch gnmisrv.ConfigChange) {
		if ch.NTP {
			applyNTP()
		}
	})
	applyNTP()
	sw.AddService(func(gs *grpc.Server) { srv.Register(gs) })
	return g, nil
}

// switchHealth lists the switch's components for healthz.
func switchHealth(sw *Switch) []gnoi.Component {
	comps := make([]gnoi.Component, 0, sw.Ports()+1)
	comps = append(comps, gnoi.Component{Name: "chassis", Healthy: sw.Running()})
	for p := 1; p <= sw.Ports(); p++ {
		up, err := sw.PortOper(uint32(p))
		comps = append(comps, gnoi.Component{Name: gnmisrv.ComponentName(uint32(p)), Parent: "chassis", Healthy: up && err == nil})
	}
	return comps
}

// gnoiBox is a Switch as the gNOI server sees it.
type gnoiBox struct {
	sw        *Switch
	bootDelay time.Duration
}

// Reboot implements gnoi.Box.
func (b gnoiBox) Reboot(method syspb.RebootMethod, reason string) error {
	if method == syspb.RebootMethod_POWERDOWN {
		if !b.sw.Running() {
			return fmt.Errorf("testbed: switch %q: power down: not running", b.sw.Name())
		}
		b.sw.Stop()
		return nil
	}
	return b.sw.Reboot(b.bootDelay, reason)
}

// SoftwareVersion implements gnoi.Box.
func (b gnoiBox) SoftwareVersion() string { return b.sw.Identity().SoftwareVersion }

// SetSoftwareVersion implements gnoi.Box.
func (b gnoiBox) SetSoftwareVersion(v string) { b.sw.SetSoftwareVersion(v) }
