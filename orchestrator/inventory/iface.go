package inventory

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Interface is one port of the chassis: its chassis-wide name and the box
// port it stands for.
type Interface struct {
	// Name is the chassis-wide name, "eth-<module>/0/<port>".
	Name string
	// Module is the module ID of the box.
	Module uint32
	// Serial is the serial of the box.
	Serial string
	// Port is the P4Runtime port ID on the box.
	Port uint32
	// DeviceName is the port's name on the box ("eth12", "Ethernet0"),
	// empty when the box's driver cannot map ports.
	DeviceName string
}

const ifacePrefix = "eth-"

// FormatInterface returns the chassis-wide name of P4Runtime port port of
// module module: "eth-<module>/0/<port>".
func FormatInterface(module, port uint32) string {
	return ifacePrefix + strconv.FormatUint(uint64(module), 10) + "/0/" + strconv.FormatUint(uint64(port), 10)
}

// ParseInterface splits a chassis-wide name "eth-<module>/0/<port>" into
// its module ID (≥ 1) and P4Runtime port ID. Numbers are decimal without
// signs or leading zeros, so every interface has exactly one name. A
// malformed name fails with an error wrapping ErrInvalidName that quotes
// it.
func ParseInterface(name string) (module, port uint32, err error) {
	bad := func(why string) (uint32, uint32, error) {
		return 0, 0, fmt.Errorf("%w %q: %s (want eth-<module>/0/<port>)", ErrInvalidName, name, why)
	}
	rest, ok := strings.CutPrefix(name, ifacePrefix)
	if !ok {
		return bad("does not start with " + ifacePrefix)
	}
	parts := strings.Split(rest, "/")
	if len(parts) != 3 {
		return bad(fmt.Sprintf("%d parts after %s, want 3", len(parts), ifacePrefix))
	}
	if parts[1] != "0" {
		return bad(fmt.Sprintf("sub-slot %q, want 0", parts[1]))
	}
	m, err := number(parts[0])
	if err != nil {
		return bad("module: " + err.Error())
	}
	if m == 0 {
		return bad("module 0: module IDs start at 1")
	}
	p, err := number(parts[2])
	if err != nil {
		return bad("port: " + err.Error())
	}
	return m, p, nil
}

// number parses a canonical decimal uint32.
func number(s string) (uint32, error) {
	if s == "" {
		return 0, errors.New("empty")
	}
	if len(s) > 1 && s[0] == '0' {
		return 0, fmt.Errorf("%q has a leading zero", s)
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return 0, fmt.Errorf("%q is not a decimal number", s)
		}
	}
	n, err := strconv.ParseUint(s, 10, 32)
	if err != nil {
		return 0, fmt.Errorf("%q is out of range", s)
	}
	return uint32(n), nil
}

// Resolve returns the box and P4Runtime port the chassis-wide interface
// name stands for. It fails with ErrInvalidName for a malformed name,
// ErrUnknownModule when no box holds the module and ErrUnknownPort when the
// box's port map has no such port.
func (inv *Inventory) Resolve(ctx context.Context, name string) (Interface, error) {
	module, port, err := ParseInterface(name)
	if err != nil {
		return Interface{}, err
	}
	b, err := inv.ByModule(ctx, module)
	if err != nil {
		return Interface{}, fmt.Errorf("interface %q: %w", name, err)
	}
	p, ok := b.Port(port)
	if !ok {
		return Interface{}, fmt.Errorf("interface %q: box %s (module %d) has no port %d: %w", name, b.Serial, module, port, ErrUnknownPort)
	}
	return Interface{Name: name, Module: module, Serial: b.Serial, Port: port, DeviceName: p.Name}, nil
}

// InterfaceName returns the chassis-wide name of P4Runtime port port of the
// box with serial. It fails with ErrUnknownBox or ErrUnknownPort.
func (inv *Inventory) InterfaceName(ctx context.Context, serial string, port uint32) (string, error) {
	b, err := inv.Get(ctx, serial)
	if err != nil {
		return "", err
	}
	if _, ok := b.Port(port); !ok {
		return "", fmt.Errorf("inventory: box %s (module %d) has no port %d: %w", serial, b.Module, port, ErrUnknownPort)
	}
	return FormatInterface(b.Module, port), nil
}

// Interfaces returns the chassis-wide interfaces of the box with serial,
// sorted by port ID: one per port of its port map (none when its driver
// cannot map ports).
func (inv *Inventory) Interfaces(ctx context.Context, serial string) ([]Interface, error) {
	b, err := inv.Get(ctx, serial)
	if err != nil {
		return nil, err
	}
	return b.Interfaces(), nil
}

// Interfaces returns the box's chassis-wide interfaces, sorted by port ID.
func (b Box) Interfaces() []Interface {
	out := make([]Interface, 0, len(b.Ports))
	for _, p := range b.Ports {
		out = append(out, Interface{Name: FormatInterface(b.Module, p.ID), Module: b.Module, Serial: b.Serial, Port: p.ID, DeviceName: p.Name})
	}
	return out
}
