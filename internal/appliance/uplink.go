package appliance

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"edge/internal/uplink"
	"edge/internal/uplink/outbox"
	"edge/internal/uplink/tus"
)

// link is what the status page says of the uplink.
type link struct {
	mu         sync.Mutex
	lastUpload time.Time
	lastStatus string
	uploads    int
}

func (l *link) receipt(_ outbox.Entry, rc *uplink.Receipt) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lastUpload, l.lastStatus = time.Now(), rc.Outcome
	l.uploads++
}

func (l *link) snapshot() (time.Time, string, int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.lastUpload, l.lastStatus, l.uploads
}

// runUplink drains the outbox to the hub in the background. It waits for
// a sane clock before TLS (a certificate made in 1970 is not yet valid),
// and an attempt that ends in an error is logged and retried after a
// capped, jittered backoff: the link coming and going is normal.
func (a *Appliance) runUplink(ctx context.Context) error {
	if err := a.clock.wait(ctx); err != nil {
		return nil
	}
	cert, err := a.device.TLSCertificate(a.now())
	if err != nil {
		return fmt.Errorf("appliance: uplink: %w", err)
	}
	hc, err := tus.NewHTTPClient(a.cfg.Uplink.Pin, cert)
	if err != nil {
		return fmt.Errorf("appliance: uplink: %w", err)
	}
	s := &tus.Sender{
		Client:    &tus.Client{Hub: a.cfg.Uplink.Hub, HTTP: hc, DeviceID: a.device.ID(), RateBits: a.cfg.Uplink.RateBits, Logger: a.log},
		Outbox:    a.out,
		Backoff:   a.backoff,
		Parallel:  a.cfg.Uplink.Parallel,
		Poll:      a.poll,
		Logger:    a.log,
		OnReceipt: func(e outbox.Entry, rc *uplink.Receipt) { a.link.receipt(e, rc); a.metrics.uploads.Inc() },
	}
	for attempt := 0; ; attempt++ {
		err := s.Run(ctx)
		if ctx.Err() != nil {
			return nil
		}
		if err == nil || errors.Is(err, context.Canceled) {
			attempt = -1
			continue
		}
		a.out.RecordError(err)
		d := a.backoff.Delay(attempt, nil)
		a.log.Warn("appliance: uplink stopped; starting again", "err", err, "in", d)
		t := time.NewTimer(d)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
	}
}
