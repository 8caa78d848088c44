package appliance

import (
	"context"
	"log/slog"
	"sync/atomic"
	"time"
)

// clock knows whether the system time can be believed. Boards without a
// real-time clock boot in 1970 and set the time from the network later;
// until then an envelope's timestamp and the TLS certificates' validity
// would be nonsense, so images are held (not sealed) and the uplink waits.
type clock struct {
	notBefore time.Time
	now       func() time.Time
	log       *slog.Logger
	wasSane   atomic.Bool
}

func (c *clock) sane() bool {
	ok := !c.now().Before(c.notBefore)
	if ok && !c.wasSane.Swap(true) {
		c.log.Info("appliance: clock is set", "now", c.now().UTC().Format(time.RFC3339))
	}
	return ok
}

// wait returns once the clock is sane, or when ctx ends.
func (c *clock) wait(ctx context.Context) error {
	if c.sane() {
		return nil
	}
	c.log.Warn("appliance: clock not set; waiting before timestamps and TLS", "now", c.now().UTC().Format(time.RFC3339), "not_before", c.notBefore.Format("2006-01-02"))
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
			if c.sane() {
				return nil
			}
		}
	}
}
