package appliance

import (
	"github.com/prometheus/client_golang/prometheus"

	"edge/internal/uplink/outbox"
)

// metrics are the appliance's Prometheus series beside the outbox's.
type metrics struct {
	reg       *prometheus.Registry
	protected prometheus.Counter
	held      prometheus.Counter
	uploads   prometheus.Counter
	logins    *prometheus.CounterVec
}

func newMetrics(a *Appliance) *metrics {
	m := &metrics{
		reg:       prometheus.NewRegistry(),
		protected: prometheus.NewCounter(prometheus.CounterOpts{Name: "edge_images_protected_total", Help: "Images protected and queued in the outbox."}),
		held:      prometheus.NewCounter(prometheus.CounterOpts{Name: "edge_images_held_total", Help: "Images held in the pending folder because nobody was logged in or the clock was not set."}),
		uploads:   prometheus.NewCounter(prometheus.CounterOpts{Name: "edge_uploads_total", Help: "Envelopes the hub answered for (stored, duplicate or rejected)."}),
		logins:    prometheus.NewCounterVec(prometheus.CounterOpts{Name: "edge_logins_total", Help: "Fingerprint logins by result."}, []string{"result"}),
	}
	m.reg.MustRegister(m.protected, m.held, m.uploads, m.logins, outbox.NewCollector(a.out),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "edge_session_active", Help: "1 while a clinician is logged in."}, func() float64 {
			if a.session.Info().Clinician != "" {
				return 1
			}
			return 0
		}),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "edge_sensor_connected", Help: "1 while the fingerprint module answers."}, func() float64 {
			if a.station != nil && a.station.Sensor().Connected {
				return 1
			}
			return 0
		}),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "edge_pending_images", Help: "Images held until a clinician logs in."}, func() float64 {
			return float64(a.pendingCount())
		}),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "edge_clock_sane", Help: "1 once the system clock is past clock.not_before."}, func() float64 {
			if a.clock.sane() {
				return 1
			}
			return 0
		}),
	)
	return m
}
