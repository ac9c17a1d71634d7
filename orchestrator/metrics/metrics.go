package metrics

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/p4fabric/fabric/orchestrator"
	"github.com/p4fabric/fabric/orchestrator/events"
)

// ErrInvalid is returned by New for a nil orchestrator or invalid options.
var ErrInvalid = errors.New("metrics: invalid argument")

// DefaultBuckets are the commit duration histogram's buckets, in seconds:
// from 5 ms (a commit that changes nothing) to a minute (many boxes, a
// restore).
var DefaultBuckets = []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60}

// DefaultScrapeTimeout bounds the store reads of one Collect.
const DefaultScrapeTimeout = 5 * time.Second

// Option configures New.
type Option func(*options)

type options struct {
	buckets []float64
	timeout time.Duration
	log     *slog.Logger
	hook    func(events.Event)
}

// WithBuckets sets the commit duration histogram's buckets (seconds,
// increasing). An empty list is ignored.
func WithBuckets(b ...float64) Option {
	return func(o *options) {
		if len(b) > 0 {
			o.buckets = append([]float64(nil), b...)
		}
	}
}

// WithScrapeTimeout bounds the store reads of one Collect (default
// DefaultScrapeTimeout). Values ≤ 0 are ignored.
func WithScrapeTimeout(d time.Duration) Option {
	return func(o *options) {
		if d > 0 {
			o.timeout = d
		}
	}
}

// WithLogger sends the collector's records (a journal read that failed) to
// l. A nil l is ignored; the default discards.
func WithLogger(l *slog.Logger) Option {
	return func(o *options) {
		if l != nil {
			o.log = l
		}
	}
}

// withHook calls f after each event the collector has handled (tests wait
// on it instead of sleeping).
func withHook(f func(events.Event)) Option { return func(o *options) { o.hook = f } }

// Collector is a prometheus.Collector of an orchestrator's metrics. It
// follows the event bus from New to Close.
type Collector struct {
	o       *orchestrator.Orchestrator
	timeout time.Duration
	log     *slog.Logger
	hook    func(events.Event)

	commitDur *prometheus.HistogramVec
	drift     *prometheus.CounterVec

	commits, evTotal, evDropped, evDeliver, evSource *prometheus.Desc
	offset, bound, alarm, registered, connected      *prometheus.Desc

	sub       *events.Subscription
	cancel    context.CancelFunc
	done      chan struct{}
	closeOnce sync.Once
}

// New returns a collector of o; it subscribes to o's event bus at once.
// Close it when done.
func New(o *orchestrator.Orchestrator, opts ...Option) (*Collector, error) {
	if o == nil {
		return nil, fmt.Errorf("metrics: nil orchestrator: %w", ErrInvalid)
	}
	cfg := options{buckets: DefaultBuckets, timeout: DefaultScrapeTimeout, log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	for _, opt := range opts {
		if opt != nil {
			opt(&cfg)
		}
	}
	for i := 1; i < len(cfg.buckets); i++ {
		if cfg.buckets[i] <= cfg.buckets[i-1] {
			return nil, fmt.Errorf("metrics: buckets %v: not increasing: %w", cfg.buckets, ErrInvalid)
		}
	}
	c := &Collector{o: o, timeout: cfg.timeout, log: cfg.log, hook: cfg.hook, done: make(chan struct{})}
	c.commitDur = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "fabric_commit_duration_seconds", Buckets: cfg.buckets,
		Help: "Duration of chassis transactions, journal start to end, by outcome (committed, aborted).",
	}, []string{"outcome"})
	c.drift = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "fabric_drift_repairs_total",
		Help: "Reconcile passes that repaired a box drifted from its goal, by module.",
	}, []string{"module"})
	c.commits = prometheus.NewDesc("fabric_commits_total", "Chassis transactions ended, by outcome (committed, aborted).", []string{"outcome"}, nil)
	c.evTotal = prometheus.NewDesc("fabric_events_total", "Events published on the orchestrator's bus, by kind.", []string{"kind"}, nil)
	c.evDropped = prometheus.NewDesc("fabric_events_dropped_total", "Events dropped because a bus subscriber's buffer was full.", nil, nil)
	c.evDeliver = prometheus.NewDesc("fabric_event_delivery_seconds", "Publish to delivery latency of bus events, by kind: quantiles 0.5, 0.99 and 1 (max).", []string{"kind", "quantile"}, nil)
	c.evSource = prometheus.NewDesc("fabric_event_source_latency_seconds", "Source time to observed time of bus events (box clock offset removed), by kind: quantiles 0.5, 0.99 and 1 (max).", []string{"kind", "quantile"}, nil)
	c.offset = prometheus.NewDesc("fabric_clock_offset_seconds", "Box clock minus chassis clock, as time sync estimates it.", []string{"module", "box"}, nil)
	c.bound = prometheus.NewDesc("fabric_clock_error_bound_seconds", "Error bound of the box's clock offset estimate.", []string{"module", "box"}, nil)
	c.alarm = prometheus.NewDesc("fabric_clock_alarm", "1 while the box's time alarm is raised.", []string{"module", "box"}, nil)
	c.registered = prometheus.NewDesc("fabric_boxes_registered", "Boxes registered in the inventory.", nil, nil)
	c.connected = prometheus.NewDesc("fabric_boxes_connected", "Registered boxes the orchestrator holds open.", nil, nil)

	ctx, cancel := context.WithCancel(context.Background())
	sub, err := o.Events().Subscribe(ctx, events.Filter{Kinds: []events.Kind{events.Committed, events.Aborted, events.DriftRepaired}},
		events.WithName("metrics"), events.WithSubscriptionBuffer(4096))
	if err != nil {
		cancel()
		return nil, fmt.Errorf("metrics: subscribe: %w", err)
	}
	c.sub, c.cancel = sub, cancel
	go c.follow(ctx)
	return c, nil
}

// Close stops following the bus. Collect keeps working. Close is
// idempotent.
func (c *Collector) Close() error {
	c.closeOnce.Do(func() {
		c.cancel()
		c.sub.Cancel()
		<-c.done
	})
	return nil
}

// follow observes the commit durations and counts the drift repairs.
func (c *Collector) follow(ctx context.Context) {
	defer close(c.done)
	for e := range c.sub.C() {
		switch e.Kind {
		case events.Committed, events.Aborted:
			c.observeCommit(ctx, e)
		case events.DriftRepaired:
			c.drift.WithLabelValues(strconv.FormatUint(uint64(e.Module), 10)).Inc()
		}
		if c.hook != nil {
			c.hook(e)
		}
	}
}

func (c *Collector) observeCommit(ctx context.Context, e events.Event) {
	outcome := "committed"
	if e.Kind == events.Aborted {
		outcome = "aborted"
	}
	if e.OpID == "" {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	rec, err := c.o.Transaction(ctx, e.OpID)
	if err != nil {
		c.log.Debug("metrics: commit duration unknown", "op", e.OpID, "err", err)
		return
	}
	end := rec.Ended
	if end.IsZero() {
		end = e.ObservedTime
	}
	if rec.Started.IsZero() || end.Before(rec.Started) {
		return
	}
	c.commitDur.WithLabelValues(outcome).Observe(end.Sub(rec.Started).Seconds())
}

// Describe implements prometheus.Collector.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	c.commitDur.Describe(ch)
	c.drift.Describe(ch)
	for _, d := range []*prometheus.Desc{c.commits, c.evTotal, c.evDropped, c.evDeliver, c.evSource,
		c.offset, c.bound, c.alarm, c.registered, c.connected} {
		ch <- d
	}
}

// Collect implements prometheus.Collector. It reads the inventory from the
// store, bounded by the scrape timeout; a failure there is reported as an
// invalid metric, the others are still collected.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	c.commitDur.Collect(ch)
	c.drift.Collect(ch)

	st := c.o.Events().Stats()
	var committed, aborted uint64
	for _, k := range st.Kinds {
		kind := k.Kind.String()
		switch k.Kind {
		case events.Committed:
			committed = k.Published
		case events.Aborted:
			aborted = k.Published
		}
		ch <- prometheus.MustNewConstMetric(c.evTotal, prometheus.CounterValue, float64(k.Published), kind)
		for _, q := range []struct {
			s    events.Summary
			desc *prometheus.Desc
		}{{k.PublishToDelivery, c.evDeliver}, {k.SourceToObserved, c.evSource}} {
			if q.s.Count == 0 {
				continue
			}
			ch <- prometheus.MustNewConstMetric(q.desc, prometheus.GaugeValue, q.s.P50.Seconds(), kind, "0.5")
			ch <- prometheus.MustNewConstMetric(q.desc, prometheus.GaugeValue, q.s.P99.Seconds(), kind, "0.99")
			ch <- prometheus.MustNewConstMetric(q.desc, prometheus.GaugeValue, q.s.Max.Seconds(), kind, "1")
		}
	}
	ch <- prometheus.MustNewConstMetric(c.commits, prometheus.CounterValue, float64(committed), "committed")
	ch <- prometheus.MustNewConstMetric(c.commits, prometheus.CounterValue, float64(aborted), "aborted")
	ch <- prometheus.MustNewConstMetric(c.evDropped, prometheus.CounterValue, float64(st.Dropped))

	if ts := c.o.TimeSync(); ts != nil {
		for _, e := range ts.Snapshot() {
			if !e.Valid() {
				continue
			}
			labels := []string{strconv.FormatUint(uint64(e.Module), 10), e.Box}
			alarm := 0.0
			if e.Alarm {
				alarm = 1
			}
			ch <- prometheus.MustNewConstMetric(c.offset, prometheus.GaugeValue, e.Offset.Seconds(), labels...)
			ch <- prometheus.MustNewConstMetric(c.bound, prometheus.GaugeValue, e.ErrorBound.Seconds(), labels...)
			ch <- prometheus.MustNewConstMetric(c.alarm, prometheus.GaugeValue, alarm, labels...)
		}
	}

	ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
	defer cancel()
	boxes, err := c.o.Boxes(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(c.registered, fmt.Errorf("metrics: boxes: %w", err))
		return
	}
	connected := 0
	for _, b := range boxes {
		if c.o.Connected(b.Serial) {
			connected++
		}
	}
	ch <- prometheus.MustNewConstMetric(c.registered, prometheus.GaugeValue, float64(len(boxes)))
	ch <- prometheus.MustNewConstMetric(c.connected, prometheus.GaugeValue, float64(connected))
}

// Handler serves the metrics of g in the Prometheus exposition format
// (promhttp.HandlerFor); errors of a scrape are reported in the response.
func Handler(g prometheus.Gatherer) http.Handler {
	return promhttp.HandlerFor(g, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError})
}
