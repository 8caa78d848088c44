package tus

import (
	"context"
	"io"
	"sync"
	"time"
)

// limiter spreads body bytes over time so that the upload stays under a
// rate, for a rural link shared with everything else. It paces across
// requests; a pause longer than a second is not made up for by a burst.
type limiter struct {
	bitsPerSec int64

	mu    sync.Mutex
	start time.Time
	sent  int64 // bytes since start
}

func newLimiter(bitsPerSec int64) *limiter { return &limiter{bitsPerSec: bitsPerSec} }

// piece is the most a Read passes at once: a tenth of a second of the rate,
// at least 512 bytes, so the pace is smooth on the wire.
func (l *limiter) piece() int {
	p := int(l.bitsPerSec / 8 / 10)
	return max(p, 512)
}

// wait blocks until n more bytes fit under the rate.
func (l *limiter) wait(ctx context.Context, n int) error {
	l.mu.Lock()
	now := time.Now()
	if l.start.IsZero() || now.Sub(l.at(l.sent)) > time.Second {
		l.start, l.sent = now, 0
	}
	l.sent += int64(n)
	due := l.at(l.sent)
	l.mu.Unlock()
	if d := time.Until(due); d > 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
	return nil
}

// at is when the first sent bytes since start have had their time on the wire.
func (l *limiter) at(sent int64) time.Time {
	return l.start.Add(time.Duration(float64(sent) * 8 / float64(l.bitsPerSec) * float64(time.Second)))
}

func (l *limiter) reader(ctx context.Context, r io.Reader) io.Reader {
	return &limitedReader{ctx: ctx, r: r, l: l}
}

type limitedReader struct {
	ctx context.Context
	r   io.Reader
	l   *limiter
}

func (lr *limitedReader) Read(p []byte) (int, error) {
	if n := lr.l.piece(); len(p) > n {
		p = p[:n]
	}
	n, err := lr.r.Read(p)
	if n > 0 {
		if werr := lr.l.wait(lr.ctx, n); werr != nil {
			return 0, werr
		}
	}
	return n, err
}
