package inventory_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/p4fabric/fabric/driver"
	"github.com/p4fabric/fabric/orchestrator/inventory"
	"github.com/p4fabric/fabric/orchestrator/store"
	"github.com/p4fabric/fabric/orchestrator/store/bolt"
	"github.com/p4fabric/fabric/orchestrator/store/etcd"
	"github.com/p4fabric/fabric/orchestrator/store/etcd/etcdtest"
)

// etcdServer is one embedded etcd server shared by the package's tests;
// each test keeps its keys under its own prefix.
var etcdServer *etcdtest.Server

func TestMain(m *testing.M) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	srv, err := etcdtest.New(ctx)
	cancel()
	if err != nil {
		fmt.Fprintln(os.Stderr, "start embedded etcd:", err)
		os.Exit(1)
	}
	etcdServer = srv
	code := m.Run()
	_ = srv.Close()
	os.Exit(code)
}

// testCtx is bounded by the test's deadline, at most a minute.
func testCtx(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	if d, ok := t.Deadline(); ok {
		ctx, cancel = context.WithDeadline(context.Background(), d.Add(-5*time.Second))
	}
	t.Cleanup(cancel)
	return ctx
}

// engine opens stores of one kind. open returns a store on new data;
// reopen closes s and returns a store on the same data (an orchestrator
// restart); connect returns one more store on the same data, open at the
// same time as s (a second orchestrator), or nil when the engine has none.
type engine struct {
	name    string
	open    func(t *testing.T) store.Store
	reopen  func(t *testing.T, s store.Store) store.Store
	connect func(t *testing.T, s store.Store) store.Store
	// prefix keeps each test's keys apart on a shared server.
	prefix func(t *testing.T) inventory.Option
}

var boltEngine = engine{
	name: "bolt",
	open: func(t *testing.T) store.Store {
		s, err := bolt.Open(testCtx(t), filepath.Join(t.TempDir(), "data"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Close() })
		return s
	},
	reopen: func(t *testing.T, s store.Store) store.Store {
		path := s.(*bolt.Store).Path()
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		n, err := bolt.Open(testCtx(t), filepath.Dir(path))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = n.Close() })
		return n
	},
	connect: func(*testing.T, store.Store) store.Store { return nil },
	prefix:  func(*testing.T) inventory.Option { return nil },
}

func etcdClient(t *testing.T) store.Store {
	t.Helper()
	s, err := etcd.New(testCtx(t), etcdServer.Endpoints())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

var (
	prefixes atomic.Int64
	prefixOf sync.Map // *testing.T → its prefix
)

var etcdEngine = engine{
	name: "etcd",
	open: etcdClient,
	reopen: func(t *testing.T, s store.Store) store.Store {
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		return etcdClient(t)
	},
	connect: func(t *testing.T, _ store.Store) store.Store { return etcdClient(t) },
	prefix: func(t *testing.T) inventory.Option {
		// One per test, and unique per run: -count=N reruns a test on the
		// same server.
		p, ok := prefixOf.Load(t)
		if !ok {
			p, _ = prefixOf.LoadOrStore(t, fmt.Sprintf("/test/%s/%d/", strings.ReplaceAll(t.Name(), "/", "_"), prefixes.Add(1)))
			t.Cleanup(func() { prefixOf.Delete(t) })
		}
		return inventory.WithPrefix(p.(string))
	},
}

var engines = []engine{boltEngine, etcdEngine}

// forEngine runs f as a subtest per engine.
func forEngine(t *testing.T, f func(t *testing.T, e engine)) {
	for _, e := range engines {
		t.Run(e.name, func(t *testing.T) { f(t, e) })
	}
}

// newInventory returns an inventory on s, under e's prefix for t.
func newInventory(t *testing.T, e engine, s store.Store, opts ...inventory.Option) *inventory.Inventory {
	t.Helper()
	inv, err := inventory.New(s, nil, append([]inventory.Option{e.prefix(t)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return inv
}

// fakeDevice is an open device that reports an identity and ports, for
// tests of the allocation that need no switch (the testbed tests open
// real ones).
type fakeDevice struct {
	driver.Device
	id    driver.Identity
	ports []driver.Port // nil: the driver cannot map ports
}

func (d fakeDevice) Identity(context.Context) (driver.Identity, error) { return d.id, nil }

func (d fakeDevice) Ports(context.Context) (*driver.PortMap, error) {
	if d.ports == nil {
		return nil, driver.Unsupported(d.id.Serial, "fake", "ports")
	}
	return driver.NewPortMap(d.ports)
}

func (d fakeDevice) Close() error { return nil }

func device(serial string, nports int) fakeDevice {
	d := fakeDevice{id: driver.Identity{Vendor: "Acme", Model: "X1", Serial: serial}}
	for i := 1; i <= nports; i++ {
		d.ports = append(d.ports, driver.Port{Name: fmt.Sprintf("xe%d", i), ID: uint32(i)})
	}
	return d
}

func spec(name, addr string) inventory.BoxSpec {
	return inventory.BoxSpec{Name: name, Driver: "fake", Address: addr, Role: inventory.RoleForwarder, DeviceID: 1, Insecure: true}
}

// register registers serial from addr and returns its module.
func register(t *testing.T, ctx context.Context, inv *inventory.Inventory, serial, addr string) inventory.Box {
	t.Helper()
	b, err := inv.RegisterDevice(ctx, spec(serial, addr), device(serial, 4))
	if err != nil {
		t.Fatalf("register %s: %v", serial, err)
	}
	return b
}
