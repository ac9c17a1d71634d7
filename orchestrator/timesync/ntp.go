package timesync

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/p4fabric/fabric/driver/gnmi"
)

// OpenConfig paths (openconfig-system, /system/ntp) ConfigureNTP writes and
// reads back.
const (
	ntpEnabledPath = "/system/ntp/config/enabled"
	ntpServersPath = "/system/ntp/servers"
	ntpPortsPath   = "/system/ntp/servers/server[address=*]/config/port"
	defaultNTPPort = 123
)

// NTPServer returns the SNTP server address ConfigureNTP gives the boxes:
// the host of WithAdvertiseAddr, or else the IP the server listens on, and
// the advertised port, or else the bound one. It fails before Start, and
// when the server listens on all addresses without WithAdvertiseAddr.
func (s *Service) NTPServer() (host string, port uint16, err error) {
	addr := s.Addr()
	if addr == nil {
		return "", 0, fmt.Errorf("timesync: NTP server address: %w", ErrNotStarted)
	}
	ua, ok := addr.(*net.UDPAddr)
	if !ok {
		return "", 0, fmt.Errorf("timesync: NTP server address: unexpected address %v", addr)
	}
	port = uint16(ua.Port)
	if adv := s.cfg.advertise; adv != "" {
		h, p, err := net.SplitHostPort(adv)
		if err != nil {
			return adv, port, nil // a host alone (checked by WithAdvertiseAddr)
		}
		n, _ := strconv.ParseUint(p, 10, 16) // checked by WithAdvertiseAddr
		return h, uint16(n), nil
	}
	if ua.IP == nil || ua.IP.IsUnspecified() {
		return "", 0, fmt.Errorf("timesync: NTP server address: the SNTP server listens on all addresses (%v): say which one the boxes reach with WithAdvertiseAddr", addr)
	}
	return ua.IP.String(), port, nil
}

// ConfigureNTP points a box's NTP client at the chassis SNTP server over
// gNMI (OpenConfig /system/ntp) and reads the configuration back.
//
// One SetRequest, applied by the box as one transaction, deletes
// /system/ntp/servers (so that the chassis is the only server), creates
// /system/ntp/servers/server[address=HOST] with config/address HOST and
// config/port PORT (openconfig-system's port leaf, default 123: the
// emulated switches of package testbed honour it and poll HOST:PORT), and
// sets /system/ntp/config/enabled to true; other NTP settings are left
// alone. HOST and PORT are NTPServer's. A Get of config/enabled and of
// every server's config/port then checks that the box holds exactly that
// (an error wrapping ErrReadBack otherwise; a box that leaves out the port
// leaf is taken to use 123).
//
// ConfigureNTP returns once the configuration is verified; WaitConverged
// then watches the box's offset come under the alarm's clear level.
func (s *Service) ConfigureNTP(ctx context.Context, name string) error {
	b, err := s.box(name)
	if err != nil {
		return err
	}
	if b.box.Config == nil {
		return fmt.Errorf("timesync: box %q: configure NTP: no gNMI client", name)
	}
	host, port, err := s.NTPServer()
	if err != nil {
		return fmt.Errorf("timesync: box %q: configure NTP: %w", name, err)
	}
	entry := fmt.Sprintf("%s/server[address=%s]", ntpServersPath, host)
	value := map[string]any{
		"address": host,
		"config":  map[string]any{"address": host, "port": port},
	}
	if _, err := b.box.Config.Set(ctx,
		gnmi.SetDelete(ntpServersPath),
		gnmi.SetUpdate(entry, value),
		gnmi.SetUpdate(ntpEnabledPath, true),
	); err != nil {
		return fmt.Errorf("timesync: box %q: configure NTP server %s: %w", name, net.JoinHostPort(host, strconv.Itoa(int(port))), err)
	}
	recs, err := b.box.Config.Get(ctx, []string{ntpEnabledPath, ntpPortsPath})
	if err != nil {
		return fmt.Errorf("timesync: box %q: read NTP configuration back: %w", name, err)
	}
	if err := checkNTP(recs, host, port); err != nil {
		return fmt.Errorf("timesync: box %q: %w: %w", name, ErrReadBack, err)
	}
	s.cfg.log.Info("NTP configured", "box", name, "server", host, "port", port)
	return nil
}

// checkNTP checks the records of a read-back: enabled, and exactly one
// server, host, at port.
func checkNTP(recs []gnmi.Update, host string, port uint16) error {
	var enabled *bool
	ports := map[string]int64{}
	for _, r := range recs {
		if r.Deleted {
			continue
		}
		p, err := gnmi.ParsePath(r.Path)
		if err != nil {
			return fmt.Errorf("path %q: %w", r.Path, err)
		}
		names := make([]string, len(p.GetElem()))
		addr := ""
		for i, e := range p.GetElem() {
			names[i] = e.GetName()
			if e.GetName() == "server" {
				addr = e.GetKey()["address"]
			}
		}
		switch path := strings.Join(names, "/"); path {
		case "system/ntp/config/enabled":
			v, ok := r.Value.(bool)
			if !ok {
				return fmt.Errorf("%s is %T %v, want a boolean", r.Path, r.Value, r.Value)
			}
			enabled = &v
		case "system/ntp/servers/server/config/port":
			n, ok := integer(r.Value)
			if !ok || addr == "" {
				return fmt.Errorf("%s is %T %v, want a port number", r.Path, r.Value, r.Value)
			}
			ports[addr] = n
		}
	}
	switch {
	case enabled == nil:
		return errors.New("the box did not return " + ntpEnabledPath)
	case !*enabled:
		return errors.New("NTP is not enabled")
	}
	got, ok := ports[host]
	if !ok && len(ports) == 0 && port == defaultNTPPort {
		got, ok = defaultNTPPort, true // a box that leaves the default out
	}
	if !ok {
		return fmt.Errorf("server %s is not configured (servers: %v)", host, serverList(ports))
	}
	if got != int64(port) {
		return fmt.Errorf("server %s has port %d, want %d", host, got, port)
	}
	if len(ports) > 1 {
		return fmt.Errorf("other NTP servers remain: %v", serverList(ports))
	}
	return nil
}

func serverList(ports map[string]int64) []string {
	out := make([]string, 0, len(ports))
	for a, p := range ports {
		out = append(out, net.JoinHostPort(a, strconv.FormatInt(p, 10)))
	}
	slices.Sort(out)
	return out
}

// integer reads a decoded gNMI number (JSON or scalar).
func integer(v any) (int64, bool) {
	switch x := v.(type) {
	case int64:
		return x, true
	case uint64:
		if x <= math.MaxInt64 {
			return int64(x), true
		}
	case float64:
		if x == math.Trunc(x) && math.Abs(x) < 1<<53 {
			return int64(x), true
		}
	case string:
		n, err := strconv.ParseInt(x, 10, 64)
		return n, err == nil
	}
	return 0, false
}

// ConfigureAll configures NTP on every box (ConfigureNTP), in parallel, and
// returns the errors of the boxes that failed, joined and sorted by box.
func (s *Service) ConfigureAll(ctx context.Context) error {
	s.mu.Lock()
	names := make([]string, 0, len(s.boxes))
	for n := range s.boxes {
		names = append(names, n)
	}
	s.mu.Unlock()
	slices.Sort(names)
	errs := make([]error, len(names))
	var wg sync.WaitGroup
	for i, n := range names {
		wg.Go(func() { errs[i] = s.ConfigureNTP(ctx, n) })
	}
	wg.Wait()
	return errors.Join(errs...)
}
