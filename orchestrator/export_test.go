package orchestrator

import "github.com/p4fabric/fabric/driver"

// DeviceOf returns the open device of the box with serial (nil when none),
// for tests that read boxes back.
func (o *Orchestrator) DeviceOf(serial string) driver.Device {
	o.mu.RLock()
	defer o.mu.RUnlock()
	if c, ok := o.conns[serial]; ok {
		return c.dev
	}
	return nil
}

// Compiles returns how many configs o has compiled.
func (o *Orchestrator) Compiles() int64 { return o.compiles.Load() }
