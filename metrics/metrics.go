// Package metrics exposes the service's figures in the Prometheus text
// format (prometheus/client_golang: a well-kept library rather than a
// hand-written exposition format).
package metrics

import (
	"context"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"sorabot/core"
)

// Metrics implements core.Metrics on its own registry.
type Metrics struct {
	reg         *prometheus.Registry
	transitions *prometheus.CounterVec
	latency     *prometheus.HistogramVec
	errors      *prometheus.CounterVec
	charged     prometheus.Counter
	refunded    prometheus.Counter
	deliveries  *prometheus.CounterVec
}

var _ core.Metrics = (*Metrics)(nil)

// Source gives the gauges read at scrape time.
type Source struct {
	Stats    func(ctx context.Context) (core.Stats, error)
	QueueLen func() int
	// Providers gives each provider's jobs in flight and state.
	Providers func() []core.ProviderStatus
}

// New registers every metric, with gauges read from src at scrape time.
func New(src Source) *Metrics {
	m := &Metrics{reg: prometheus.NewRegistry()}
	m.transitions = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "sorabot_job_transitions_total", Help: "Jobs entering each state."}, []string{"state"})
	m.latency = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "sorabot_provider_request_duration_seconds", Help: "Provider call latency.",
		Buckets: []float64{.05, .1, .25, .5, 1, 2.5, 5, 10, 30}}, []string{"provider", "op"})
	m.errors = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "sorabot_provider_errors_total", Help: "Failed provider calls."}, []string{"provider", "op", "code"})
	m.charged = prometheus.NewCounter(prometheus.CounterOpts{Name: "sorabot_credits_charged_total", Help: "Credits charged for accepted jobs."})
	m.refunded = prometheus.NewCounter(prometheus.CounterOpts{Name: "sorabot_credits_refunded_total", Help: "Credits refunded for failed or canceled jobs."})
	m.deliveries = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "sorabot_deliveries_total", Help: "Videos delivered, by how."}, []string{"via"})
	m.reg.MustRegister(m.transitions, m.latency, m.errors, m.charged, m.refunded, m.deliveries,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if src.QueueLen != nil {
		m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "sorabot_queue_length", Help: "Jobs waiting for a provider slot."}, func() float64 { return float64(src.QueueLen()) }))
	}
	if src.Providers != nil {
		m.reg.MustRegister(&providersCollector{providers: src.Providers})
	}
	if src.Stats != nil {
		m.reg.MustRegister(&jobsCollector{stats: src.Stats})
	}
	return m
}

// Handler serves /metrics.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

func (m *Metrics) JobState(from, to core.State) { m.transitions.WithLabelValues(string(to)).Inc() }

func (m *Metrics) ProviderCall(provider, op string, d time.Duration, err error) {
	m.latency.WithLabelValues(provider, op).Observe(d.Seconds())
	if err != nil {
		m.errors.WithLabelValues(provider, op, core.ErrorCode(err)).Inc()
	}
}

func (m *Metrics) Charged(credits int)  { m.charged.Add(float64(credits)) }
func (m *Metrics) Refunded(credits int) { m.refunded.Add(float64(credits)) }
func (m *Metrics) Delivered(via string) { m.deliveries.WithLabelValues(via).Inc() }

// jobsCollector reports jobs by state from the store at scrape time.
type jobsCollector struct {
	stats func(ctx context.Context) (core.Stats, error)
}

var (
	jobsDesc      = prometheus.NewDesc("sorabot_jobs", "Jobs by state.", []string{"state"}, nil)
	soldDesc      = prometheus.NewDesc("sorabot_credits_sold_total", "Credits granted by purchases (Telegram Stars packs, Discord SKUs).", nil, nil)
	purchasesDesc = prometheus.NewDesc("sorabot_purchases_total", "Purchases granted.", nil, nil)
)

func (c *jobsCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- jobsDesc
	ch <- soldDesc
	ch <- purchasesDesc
}

func (c *jobsCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	s, err := c.stats(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(jobsDesc, err)
		return
	}
	for state, n := range s.Jobs {
		ch <- prometheus.MustNewConstMetric(jobsDesc, prometheus.GaugeValue, float64(n), string(state))
	}
	// Counted in the store, so they survive restarts.
	ch <- prometheus.MustNewConstMetric(soldDesc, prometheus.CounterValue, float64(s.PurchaseCredits))
	ch <- prometheus.MustNewConstMetric(purchasesDesc, prometheus.CounterValue, float64(s.Purchases))
}

// providersCollector reports each provider's jobs in flight and whether it
// is up, read at scrape time.
type providersCollector struct {
	providers func() []core.ProviderStatus
}

var (
	inflightDesc = prometheus.NewDesc("sorabot_provider_inflight", "Jobs at the provider (being submitted or made).", []string{"provider"}, nil)
	upDesc       = prometheus.NewDesc("sorabot_provider_up", "1 when the provider takes jobs, 0 when it is down or disabled.", []string{"provider"}, nil)
)

func (c *providersCollector) Describe(ch chan<- *prometheus.Desc) { ch <- inflightDesc; ch <- upDesc }

func (c *providersCollector) Collect(ch chan<- prometheus.Metric) {
	for _, p := range c.providers() {
		up := 0.0
		if p.State == core.ProviderUp {
			up = 1
		}
		ch <- prometheus.MustNewConstMetric(inflightDesc, prometheus.GaugeValue, float64(p.Inflight), p.Name)
		ch <- prometheus.MustNewConstMetric(upDesc, prometheus.GaugeValue, up, p.Name)
	}
}
