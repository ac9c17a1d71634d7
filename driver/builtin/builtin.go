// Package builtin registers the drivers Fabric ships: "emulated" (the
// testbed's switch, package driver/emulated), "bmv2" (simple_switch_grpc,
// package driver/bmv2) and "stratum" (package driver/stratum). Nothing is
// registered by an init function: a program calls Register (or Registry)
// with the options its devices should have, and adds plugin drivers
// (package driver/plugin) to the same registry.
//
//	reg, err := builtin.Registry(driver.WithLogger(log))
//	dev, err := reg.Open(ctx, driver.Spec{Name: "leaf1", Driver: "stratum", ...})
package builtin

import (
	"github.com/p4fabric/fabric/driver"
	"github.com/p4fabric/fabric/driver/bmv2"
	"github.com/p4fabric/fabric/driver/emulated"
	"github.com/p4fabric/fabric/driver/stratum"
)

// Names of the built-in drivers.
const (
	Emulated = emulated.Name
	BMv2     = bmv2.Name
	Stratum  = stratum.Name
)

// Drivers returns a new instance of each built-in driver, configured with
// opts.
func Drivers(opts ...driver.Option) []driver.Driver {
	return []driver.Driver{emulated.New(opts...), bmv2.New(opts...), stratum.New(opts...)}
}

// Register adds the built-in drivers, configured with opts, to r. It
// fails if r already has a driver of the same name.
func Register(r *driver.Registry, opts ...driver.Option) error {
	for _, d := range Drivers(opts...) {
		if err := r.Register(d); err != nil {
			return err
		}
	}
	return nil
}

// Registry returns a new registry holding the built-in drivers,
// configured with opts.
func Registry(opts ...driver.Option) (*driver.Registry, error) {
	r := &driver.Registry{}
	if err := Register(r, opts...); err != nil {
		return nil, err
	}
	return r, nil
}
