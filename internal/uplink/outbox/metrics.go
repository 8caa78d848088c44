package outbox

import "github.com/prometheus/client_golang/prometheus"

// Collector exposes an outbox's Stats as Prometheus gauges, read at scrape
// time so they are never stale.
type Collector struct {
	o                                       *Outbox
	depth, bytes, oldest, full, lastErrTime *prometheus.Desc
}

// NewCollector returns a collector for o; register it with a registry.
func NewCollector(o *Outbox) *Collector {
	d := func(name, help string) *prometheus.Desc {
		return prometheus.NewDesc("edge_outbox_"+name, help, nil, nil)
	}
	return &Collector{
		o:           o,
		depth:       d("depth", "Envelopes waiting for the hub's confirmation."),
		bytes:       d("bytes", "Bytes of the envelopes waiting."),
		oldest:      d("oldest_age_seconds", "Age of the oldest envelope waiting."),
		full:        d("full", "1 while the quota refuses new envelopes."),
		lastErrTime: d("last_error_timestamp_seconds", "When the last error was recorded, 0 if never."),
	}
}

// Describe implements prometheus.Collector.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.depth, c.bytes, c.oldest, c.full, c.lastErrTime} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	s, err := c.o.Stats()
	if err != nil {
		ch <- prometheus.NewInvalidMetric(c.depth, err)
		return
	}
	full := 0.0
	if s.Full {
		full = 1
	}
	var at float64
	if !s.LastErrorAt.IsZero() {
		at = float64(s.LastErrorAt.UnixNano()) / 1e9
	}
	ch <- prometheus.MustNewConstMetric(c.depth, prometheus.GaugeValue, float64(s.Depth))
	ch <- prometheus.MustNewConstMetric(c.bytes, prometheus.GaugeValue, float64(s.Bytes))
	ch <- prometheus.MustNewConstMetric(c.oldest, prometheus.GaugeValue, s.OldestAge.Seconds())
	ch <- prometheus.MustNewConstMetric(c.full, prometheus.GaugeValue, full)
	ch <- prometheus.MustNewConstMetric(c.lastErrTime, prometheus.GaugeValue, at)
}

var _ prometheus.Collector = (*Collector)(nil)
