package hub

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/tus/tusd/v2/pkg/prometheuscollector"
)

type metrics struct {
	outcomes       *prometheus.CounterVec
	forwards       *prometheus.CounterVec
	processSeconds prometheus.Histogram
	refusedTLS     prometheus.Counter
	refusedCreate  prometheus.Counter
	abandoned      prometheus.Counter
}

// newMetrics makes the hub's own registry: no global state, so two hubs in
// one test process count apart.
func (h *Hub) newMetrics() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	h.m = metrics{
		outcomes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "edge_hub_envelopes_total", Help: "Processed uploads by outcome (stored, duplicate, rejected).",
		}, []string{"outcome"}),
		forwards: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "edge_hub_forwards_total", Help: "Attempts to hand a DICOM file to the PACS, by result.",
		}, []string{"result"}),
		processSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "edge_hub_process_seconds", Help: "Time to verify, open, restore and store one envelope.",
			Buckets: prometheus.ExponentialBuckets(0.01, 2, 12),
		}),
		refusedTLS: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "edge_hub_refused_devices_total", Help: "TLS handshakes refused for an untrusted client key.",
		}),
		refusedCreate: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "edge_hub_refused_uploads_total", Help: "Upload creations refused for their metadata or length.",
		}),
	}
	for _, o := range []string{"stored", "duplicate", "rejected"} {
		h.m.outcomes.WithLabelValues(o)
	}
	h.m.abandoned = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "edge_hub_abandoned_uploads_removed_total", Help: "Incomplete uploads removed after limits.abandoned_upload_hours untouched.",
	})
	reg.MustRegister(h.m.outcomes, h.m.forwards, h.m.processSeconds, h.m.refusedTLS, h.m.refusedCreate, h.m.abandoned,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "edge_hub_stored", Help: "Envelopes stored."}, func() float64 {
			c, _ := h.idx.counts()
			return float64(c.stored)
		}),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "edge_hub_forward_pending", Help: "Stored DICOM files not yet confirmed by the PACS."}, func() float64 {
			c, _ := h.idx.counts()
			return float64(c.pending)
		}),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "edge_hub_forward_refused", Help: "Stored DICOM files the PACS refused for what they are; sent again when the hub next starts."}, func() float64 {
			c, _ := h.idx.counts()
			return float64(c.refused)
		}),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "edge_hub_trusted_devices", Help: "Device keys in the trusted folder."}, func() float64 {
			return float64(h.trust.count())
		}),
		prometheuscollector.New(h.tus.Metrics),
		collectors.NewGoCollector(),
	)
	return reg
}

func (h *Hub) metricsHandler() http.Handler {
	return promhttp.HandlerFor(h.reg, promhttp.HandlerOpts{})
}
