package gnoi

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	syspb "github.com/openconfig/gnoi/system"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
)

// LoopbackConfig configures StartLoopbackBox.
type LoopbackConfig struct {
	// Version is the software version the box runs at first.
	Version string
	// Clock is the box's clock; nil means the host clock.
	Clock Clock
	// BootDelay is how long the box stays down when it reboots.
	BootDelay time.Duration
	// Address is the listen address; empty means "127.0.0.1:0".
	Address string
	// TLS, when set, makes the box serve TLS.
	TLS *tls.Config
	// Options configure the box's Server.
	Options []Option
}

// LoopbackBox is a box that serves nothing but gNOI on a loopback address:
// a Box whose Reboot really closes the listener and every connection and,
// after the boot delay, serves again on the same address. It stands in for
// a switch in tests and demos of gNOI clients (the testbed's Switch is the
// full box).
type LoopbackBox struct {
	cfg    LoopbackConfig
	server *Server

	mu      sync.Mutex
	addr    string
	version string
	grpcSrv *grpc.Server
	running bool
	closed  bool
	boots   int
	reboots []syspb.RebootMethod // in order
	timer   *time.Timer
	changed chan struct{}
}

// StartLoopbackBox starts a LoopbackBox.
func StartLoopbackBox(cfg LoopbackConfig) (*LoopbackBox, error) {
	if cfg.Address == "" {
		cfg.Address = "127.0.0.1:0"
	}
	if cfg.BootDelay < 0 {
		return nil, fmt.Errorf("gnoi loopback box: negative boot delay %v", cfg.BootDelay)
	}
	b := &LoopbackBox{cfg: cfg, addr: cfg.Address, version: cfg.Version, changed: make(chan struct{})}
	srv, err := New(b, cfg.Clock, cfg.Options...)
	if err != nil {
		return nil, err
	}
	b.server = srv
	b.mu.Lock()
	defer b.mu.Unlock()
	if err := b.startLocked(); err != nil {
		return nil, err
	}
	return b, nil
}

func (b *LoopbackBox) startLocked() error {
	lis, err := net.Listen("tcp", b.addr)
	if err != nil {
		return fmt.Errorf("gnoi loopback box: listen on %s: %w", b.addr, err)
	}
	b.addr = lis.Addr().String()
	var opts []grpc.ServerOption
	if b.cfg.TLS != nil {
		opts = append(opts, grpc.Creds(credentials.NewTLS(b.cfg.TLS)))
	}
	g := grpc.NewServer(opts...)
	b.server.Register(g)
	b.grpcSrv, b.running = g, true
	b.boots++
	b.notifyLocked()
	go func() { _ = g.Serve(lis) }()
	return nil
}

func (b *LoopbackBox) notifyLocked() {
	close(b.changed)
	b.changed = make(chan struct{})
}

// Addr returns the address the box listens on; it stays the same across
// reboots.
func (b *LoopbackBox) Addr() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.addr
}

// Server returns the box's gNOI server.
func (b *LoopbackBox) Server() *Server { return b.server }

// Running reports whether the box is up.
func (b *LoopbackBox) Running() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.running
}

// Boots counts the times the box has started.
func (b *LoopbackBox) Boots() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.boots
}

// Reboots returns the methods of the reboots so far, in order.
func (b *LoopbackBox) Reboots() []syspb.RebootMethod {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]syspb.RebootMethod(nil), b.reboots...)
}

// WaitBoots waits until the box has started n times and is running; it
// fails when ctx ends first.
func (b *LoopbackBox) WaitBoots(ctx context.Context, n int) error {
	return b.wait(ctx, func() bool { return b.boots >= n && b.running }, fmt.Sprintf("boot %d", n))
}

// WaitDown waits until the box has rebooted n times and is down; it fails
// when ctx ends first.
func (b *LoopbackBox) WaitDown(ctx context.Context, n int) error {
	return b.wait(ctx, func() bool { return len(b.reboots) >= n && !b.running }, fmt.Sprintf("reboot %d down", n))
}

func (b *LoopbackBox) wait(ctx context.Context, cond func() bool, what string) error {
	for {
		b.mu.Lock()
		ok, ch := cond(), b.changed
		boots, running := b.boots, b.running
		b.mu.Unlock()
		if ok {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return fmt.Errorf("gnoi loopback box: wait for %s (boots %d, running %v): %w", what, boots, running, ctx.Err())
		}
	}
}

// Reboot implements Box: it stops serving at once and, except for
// POWERDOWN, serves again on the same address after the boot delay.
func (b *LoopbackBox) Reboot(method syspb.RebootMethod, _ string) error {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return errors.New("gnoi loopback box: closed")
	}
	g := b.grpcSrv
	b.grpcSrv, b.running = nil, false
	b.reboots = append(b.reboots, method)
	b.mu.Unlock()
	if g != nil {
		g.Stop() // closes the listener before the box listens again
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if method != syspb.RebootMethod_POWERDOWN && !b.closed {
		b.timer = time.AfterFunc(b.cfg.BootDelay, b.boot)
	}
	b.notifyLocked()
	return nil
}

func (b *LoopbackBox) boot() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed || b.running {
		return
	}
	if err := b.startLocked(); err != nil {
		b.notifyLocked() // waiters see the box stay down
	}
}

// PowerOn starts a box that is down (after POWERDOWN).
func (b *LoopbackBox) PowerOn() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return errors.New("gnoi loopback box: closed")
	}
	if b.running {
		return nil
	}
	return b.startLocked()
}

// SoftwareVersion implements Box.
func (b *LoopbackBox) SoftwareVersion() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.version
}

// SetSoftwareVersion implements Box.
func (b *LoopbackBox) SetSoftwareVersion(v string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.version = v
}

// Close stops the box and its server for good.
func (b *LoopbackBox) Close() error {
	b.server.Close()
	b.mu.Lock()
	b.closed = true
	g := b.grpcSrv
	b.grpcSrv, b.running = nil, false
	if b.timer != nil {
		b.timer.Stop()
	}
	b.notifyLocked()
	b.mu.Unlock()
	if g != nil {
		g.Stop()
	}
	return nil
}
