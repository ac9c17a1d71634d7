package discovery

import "time"

// SetVerdictHook makes d call f with the fate of every packet-in it
// handles ("probe", "foreign", "unknown", "malformed", "other") and, for
// probes, when they were sent. Set it before adding devices.
func SetVerdictHook(d *Discovery, f func(device, verdict string, sent time.Time)) {
	d.verdict.Store(&f)
}
