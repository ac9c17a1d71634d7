// Package metrics exports an orchestrator's health to Prometheus: a
// prometheus.Collector over an *orchestrator.Orchestrator, to register in
// the caller's registry and serve with Handler (promhttp).
//
//	c, err := metrics.New(o)
//	if err != nil { ... }
//	defer c.Close()
//	reg := prometheus.NewRegistry()
//	reg.MustRegister(c)
//	http.Handle("/metrics", metrics.Handler(reg))
//
// # Metrics
//
//	fabric_commits_total{outcome}                  counter   transactions committed / aborted (the bus's counts of Committed and Aborted events)
//	fabric_commit_duration_seconds{outcome}        histogram journal Started → Ended of each transaction seen since New
//	fabric_events_total{kind}                      counter   events published on the bus, per kind
//	fabric_events_dropped_total                    counter   events dropped by slow bus subscribers
//	fabric_event_delivery_seconds{kind,quantile}   gauge     publish → delivery latency (0.5, 0.99, 1 = max)
//	fabric_event_source_latency_seconds{kind,quantile} gauge source time → observed time latency
//	fabric_drift_repairs_total{module}             counter   reconcile passes that repaired a box (DriftRepaired events since New)
//	fabric_clock_offset_seconds{module,box}        gauge     box clock − chassis clock (time sync on)
//	fabric_clock_error_bound_seconds{module,box}   gauge     error bound of that offset
//	fabric_clock_alarm{module,box}                 gauge     1 while the box's time alarm is raised
//	fabric_boxes_registered                        gauge     boxes in the inventory
//	fabric_boxes_connected                         gauge     boxes the orchestrator holds open
//
// Counts and latencies of events come from the bus's own statistics
// (events.Bus.Stats), so they cover everything since the bus started. The
// commit duration is measured from the journal: for every Committed or
// Aborted event the collector reads the transaction's record
// (Orchestrator.Transaction) and observes Ended − Started, the whole
// transaction as the coordinator timed it, queueing in an RPC excluded.
// The event latency quantiles are the bus's HDR histograms summarised,
// exported as gauges: the bus keeps no sum, which a Prometheus summary
// needs.
package metrics
