package inventory_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/p4fabric/fabric/orchestrator/inventory"
)

func TestInterfaceNameRoundTrip(t *testing.T) {
	for _, c := range []struct {
		name         string
		module, port uint32
	}{
		{"eth-1/0/1", 1, 1},
		{"eth-3/0/12", 3, 12},
		{"eth-65535/0/0", 65535, 0},
		{"eth-7/0/4294967295", 7, 4294967295},
	} {
		t.Run(c.name, func(t *testing.T) {
			m, p, err := inventory.ParseInterface(c.name)
			if err != nil || m != c.module || p != c.port {
				t.Fatalf("ParseInterface = %d, %d, %v; want %d, %d", m, p, err, c.module, c.port)
			}
			if got := inventory.FormatInterface(m, p); got != c.name {
				t.Fatalf("FormatInterface(%d, %d) = %q", m, p, got)
			}
		})
	}
}

func TestParseInterfaceErrors(t *testing.T) {
	for _, name := range []string{
		"", "eth1", "eth-", "eth-1", "eth-1/0", "eth-1/0/", "eth-/0/1", "eth-0/0/1",
		"eth-1/1/1", "eth-01/0/1", "eth-1/0/01", "eth-+1/0/1", "eth-1/0/-1", "eth-1/0/1/2",
		"ETH-1/0/1", "eth-4294967296/0/1", "eth-1/0/4294967296", "eth-1/0/x", " eth-1/0/1",
	} {
		t.Run(name, func(t *testing.T) {
			_, _, err := inventory.ParseInterface(name)
			if !errors.Is(err, inventory.ErrInvalidName) {
				t.Fatalf("err = %v, want ErrInvalidName", err)
			}
			if !strings.Contains(err.Error(), `"`+name+`"`) {
				t.Fatalf("error %q does not quote the name", err)
			}
		})
	}
}

func TestResolve(t *testing.T) {
	forEngine(t, func(t *testing.T, e engine) {
		ctx := testCtx(t)
		inv := newInventory(t, e, e.open(t))
		register(t, ctx, inv, "SN-A", "10.0.0.1:9559") // module 1, ports xe1..xe4
		register(t, ctx, inv, "SN-B", "10.0.0.2:9559") // module 2
		noPorts := fakeDevice{id: device("SN-C", 0).id}
		if b, err := inv.RegisterDevice(ctx, spec("SN-C", "10.0.0.3:9559"), noPorts); err != nil || b.Module != 3 || b.Ports != nil {
			t.Fatalf("register SN-C without ports: %+v, %v", b, err)
		}
		for _, c := range []struct {
			name, serial, devName string
			port                  uint32
			err                   error
		}{
			{"eth-1/0/1", "SN-A", "xe1", 1, nil},
			{"eth-2/0/4", "SN-B", "xe4", 4, nil},
			{"eth-3/0/99", "SN-C", "", 99, nil}, // no port map: any port
			{"eth-2/0/5", "", "", 0, inventory.ErrUnknownPort},
			{"eth-9/0/1", "", "", 0, inventory.ErrUnknownModule},
			{"eth-1/1/1", "", "", 0, inventory.ErrInvalidName},
		} {
			t.Run(c.name, func(t *testing.T) {
				got, err := inv.Resolve(ctx, c.name)
				if c.err != nil {
					if !errors.Is(err, c.err) || !strings.Contains(err.Error(), c.name) {
						t.Fatalf("err = %v, want %v naming %s", err, c.err, c.name)
					}
					return
				}
				if err != nil || got.Serial != c.serial || got.Port != c.port || got.DeviceName != c.devName || got.Name != c.name {
					t.Fatalf("Resolve = %+v, %v", got, err)
				}
				name, err := inv.InterfaceName(ctx, got.Serial, got.Port)
				if err != nil || name != c.name {
					t.Fatalf("InterfaceName(%s, %d) = %q, %v", got.Serial, got.Port, name, err)
				}
			})
		}
		if _, err := inv.InterfaceName(ctx, "SN-A", 5); !errors.Is(err, inventory.ErrUnknownPort) {
			t.Errorf("InterfaceName unknown port: %v", err)
		}
		if _, err := inv.InterfaceName(ctx, "SN-none", 1); !errors.Is(err, inventory.ErrUnknownBox) {
			t.Errorf("InterfaceName unknown box: %v", err)
		}
		ifs, err := inv.Interfaces(ctx, "SN-B")
		if err != nil || len(ifs) != 4 {
			t.Fatalf("Interfaces(SN-B) = %v, %v", ifs, err)
		}
		for i, ifc := range ifs {
			back, err := inv.Resolve(ctx, ifc.Name)
			if err != nil || back != ifc || ifc.Port != uint32(i+1) || ifc.Module != 2 {
				t.Errorf("interface %d: %+v resolves to %+v, %v", i, ifc, back, err)
			}
		}
	})
}
