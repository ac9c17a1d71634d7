// Package timesync keeps the chassis's one time base: the orchestrator
// serves its clock over SNTP, configures every box's NTP client to it over
// gNMI, follows each box's clock with gNOI system.Time, raises an alarm
// when a box is too far off, and converts box timestamps to chassis time
// for the merged log.
//
//	s, err := timesync.New(timesync.WithInterval(time.Second), timesync.WithAlarm(onAlarm))
//	if err != nil { ... }
//	defer s.Close()
//	if err := s.Start(ctx); err != nil { ... } // SNTP server up, sampling on
//	_ = s.Add(timesync.Box{Name: "leaf1", Module: 3, Time: gnoiClient, Config: gnmiClient})
//	if err := s.ConfigureNTP(ctx, "leaf1"); err != nil { ... }
//	est, err := s.WaitConverged(ctx, "leaf1")
//
// # Chassis time source
//
// Start serves SNTP (RFC 4330, package internal/sntp) on UDP at the listen
// address (WithListenAddr; DefaultListenAddr is a free loopback port) from
// the chassis clock (WithClock; time.Now by default), as a stratum 1
// server. Addr is the bound address.
//
// # NTP configuration
//
// ConfigureNTP writes, in one gNMI Set, the chassis as the box's only NTP
// server — /system/ntp/servers/server[address=HOST]/config/{address,port},
// the port being openconfig-system's port leaf — and enables NTP
// (/system/ntp/config/enabled), then reads both back with a Get and fails
// (ErrReadBack) unless the box holds exactly that. HOST is the listen IP,
// or WithAdvertiseAddr's host when the server listens on all addresses or
// the boxes reach it under another name. The emulated switches of package
// testbed run a real SNTP client toward HOST:PORT as soon as the Set is
// applied, and slew their clock. WaitConverged watches the box's estimated
// offset until it is certainly under the alarm's clear level.
//
// # Estimation
//
// Every box is sampled every interval (WithInterval) with one gNOI Time
// call, bounded by WithTimeout. A sample is the offset of the box's clock
// from the chassis clock at the middle of the call, exact to within half
// the round trip: the box read its clock somewhere inside the call. The
// Service keeps the last WithWindow samples per box and derives the
// Estimate:
//
//   - Offset: NTP's clock filter — of the last WithFilter samples, the one
//     with the tightest error bound once the bound has grown with the
//     sample's age (by DispersionPPM plus three standard errors of the
//     drift, per second), carried forward by the drift to the newest
//     sample's time (Updated). ErrorBound is that grown bound.
//   - DriftPPM: the weighted least-squares slope of offset over time in the
//     window (weights 1/bound²), with its standard error DriftError.
//   - Steps: a sample whose interval (offset ± bound) does not meet the
//     estimate's, grown to the sample's time, proves the clock was stepped
//     (an operator, an NTP step, a reboot) or slewed; the window restarts
//     from it, so the estimate follows at once instead of being held back
//     by samples of the old clock.
//
// Failed samples (the box unreachable, gNOI refused) are counted in
// Estimate.Failures and Err, given to WithErrorHandler, and do not touch
// the estimate; the other boxes are sampled independently. Sample takes one
// sample on demand; Estimate, Snapshot and Wait read the estimates.
//
// # Alarms
//
// An alarm is raised for a box when its offset is certainly past the
// threshold (WithThreshold, DefaultThreshold = 1 ms):
//
//	|Offset| − ErrorBound > threshold
//
// and cleared when it is certainly back under the threshold by the
// hysteresis (WithHysteresis, by default DefaultHysteresisFraction of the
// threshold):
//
//	|Offset| + ErrorBound ≤ threshold − hysteresis
//
// In between nothing changes: an offset known only roughly (a large round
// trip) neither raises nor clears, and an offset wandering around the
// threshold by less than the hysteresis does not flap. Raises and clears
// are delivered, in order, to the WithAlarm callback as Alarm values; a
// box removed with its alarm raised gets a clear. The callback runs on a
// goroutine of the Service, so it may publish to an event bus (the
// orchestrator's events package has TimeAlarmRaised and TimeAlarmCleared
// kinds for them) without delaying the sampling.
//
// # Normalizing timestamps
//
// Normalize turns a timestamp read on a box's clock into chassis time:
// t − offset, with the offset carried by the drift to t, for at most the
// window's span (or one interval) either side of Updated.
package timesync
