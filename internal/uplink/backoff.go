package uplink

import (
	"math/rand/v2"
	"time"
)

// Backoff spaces retries: doubling from Min up to Max, each delay drawn
// uniformly from its upper half so that devices cut off together do not come
// back together. The zero value means 1 s to 5 min.
type Backoff struct {
	Min, Max time.Duration
}

// Delay is the wait before retry number attempt (0 for the first retry).
// r supplies the jitter; nil means the runtime's generator.
func (b Backoff) Delay(attempt int, r *rand.Rand) time.Duration {
	lo, hi := b.Min, b.Max
	if lo <= 0 {
		lo = time.Second
	}
	if hi < lo {
		hi = 5 * time.Minute
		if hi < lo {
			hi = lo
		}
	}
	d := lo
	for i := 0; i < attempt && d < hi; i++ {
		d *= 2
	}
	if d > hi {
		d = hi
	}
	half := int64(d / 2)
	var j int64
	if half > 0 {
		if r != nil {
			j = r.Int64N(half + 1)
		} else {
			j = rand.Int64N(half + 1)
		}
	}
	return time.Duration(int64(d) - half + j)
}
