// Package linktest is a TCP proxy for tests of the uplink: it stands for the
// ambulance's mobile link (cut every few seconds) and the rural clinic's
// shared line (shaped to a rate), and counts the bytes that crossed it.
package linktest

import (
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// Proxy forwards connections from its listener to Target.
type Proxy struct {
	Target string
	// RateBits shapes each direction of the link, all connections
	// together, to this many bits per second; 0 is unshaped. Set it before
	// the first connection.
	RateBits int64

	l       net.Listener
	mu      sync.Mutex
	conns   map[net.Conn]struct{}
	closed  bool
	up      atomic.Int64 // client → target bytes
	down    atomic.Int64 // target → client bytes
	cuts    atomic.Int64
	stopCut chan struct{}
	wg      sync.WaitGroup
	pace    [2]pacer // up, down
}

// pacer is one direction of the shaped link, shared by its connections.
type pacer struct {
	mu    sync.Mutex
	start time.Time
	sent  int64
}

// wait blocks until n more bytes have had their time at bits per second.
func (p *pacer) wait(n int, bits int64) {
	p.mu.Lock()
	now := time.Now()
	if p.start.IsZero() || now.Sub(p.start.Add(dur(p.sent, bits))) > 100*time.Millisecond {
		p.start, p.sent = now, 0 // an idle link does not save up for a burst
	}
	p.sent += int64(n)
	due := p.start.Add(dur(p.sent, bits))
	p.mu.Unlock()
	time.Sleep(time.Until(due))
}

// Listen starts a proxy on addr (127.0.0.1:0 for any port) to target.
func Listen(addr, target string) (*Proxy, error) {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	p := &Proxy{Target: target, l: l, conns: map[net.Conn]struct{}{}, stopCut: make(chan struct{})}
	p.wg.Add(1)
	go p.accept()
	return p, nil
}

// Addr is the proxy's listening address.
func (p *Proxy) Addr() string { return p.l.Addr().String() }

// Up and Down are the bytes forwarded towards the target and back.
func (p *Proxy) Up() int64   { return p.up.Load() }
func (p *Proxy) Down() int64 { return p.down.Load() }

// Cuts is how many times Cut closed live connections.
func (p *Proxy) Cuts() int64 { return p.cuts.Load() }

func (p *Proxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.l.Accept()
		if err != nil {
			return
		}
		p.wg.Add(1)
		go p.serve(c)
	}
}

func (p *Proxy) track(c net.Conn, add bool) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if add {
		if p.closed {
			return false
		}
		p.conns[c] = struct{}{}
	} else {
		delete(p.conns, c)
	}
	return true
}

func (p *Proxy) serve(c net.Conn) {
	defer p.wg.Done()
	t, err := net.DialTimeout("tcp", p.Target, 5*time.Second)
	if err != nil {
		c.Close()
		return
	}
	if !p.track(c, true) || !p.track(t, true) {
		c.Close()
		t.Close()
		return
	}
	var wg sync.WaitGroup
	wg.Add(2)
	pipe := func(dst, src net.Conn, n *atomic.Int64, pc *pacer) {
		defer wg.Done()
		p.copy(dst, src, n, pc)
		// Either side ending ends both, as a dropped link does.
		dst.Close()
		src.Close()
	}
	go pipe(t, c, &p.up, &p.pace[0])
	go pipe(c, t, &p.down, &p.pace[1])
	wg.Wait()
	p.track(c, false)
	p.track(t, false)
}

// copy moves bytes, paced to RateBits when set.
func (p *Proxy) copy(dst io.Writer, src io.Reader, n *atomic.Int64, pc *pacer) {
	buf := make([]byte, 32<<10)
	piece := len(buf)
	if p.RateBits > 0 {
		piece = max(int(p.RateBits/8/50), 256) // 20 ms of the rate
	}
	for {
		k, err := src.Read(buf[:piece])
		if k > 0 {
			if p.RateBits > 0 {
				pc.wait(k, p.RateBits)
			}
			if _, werr := dst.Write(buf[:k]); werr != nil {
				return
			}
			n.Add(int64(k))
		}
		if err != nil {
			return
		}
	}
}

func dur(bytes, bits int64) time.Duration {
	return time.Duration(float64(bytes) * 8 / float64(bits) * float64(time.Second))
}

// Cut closes every live connection, as a mobile link dropping does.
func (p *Proxy) Cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for c := range p.conns {
		c.Close()
	}
	p.cuts.Add(1)
}

// CutEvery cuts the link at random intervals between lo and hi until Close.
func (p *Proxy) CutEvery(lo, hi time.Duration, rnd func(int64) int64) {
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		for {
			d := lo
			if hi > lo {
				d += time.Duration(rnd(int64(hi - lo)))
			}
			select {
			case <-p.stopCut:
				return
			case <-time.After(d):
				p.Cut()
			}
		}
	}()
}

// Close stops the proxy and closes its connections.
func (p *Proxy) Close() error {
	err := p.l.Close()
	p.mu.Lock()
	if !p.closed {
		p.closed = true
		close(p.stopCut)
	}
	p.mu.Unlock()
	p.Cut()
	p.wg.Wait()
	return err
}
