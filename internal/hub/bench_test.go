package hub_test

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"edge/internal/hub"
	"edge/internal/protect"
	"edge/internal/uplink"
	"edge/internal/uplink/linktest"
	"edge/internal/uplink/outbox"
	"edge/internal/uplink/tus"
)

// benchRig is an in-process hub behind a proxy, and a device sending to it.
type benchRig struct {
	th    *testHub
	proxy *linktest.Proxy
	dev   *device
}

func newBenchRig(b *testing.B, hubKey []byte, hubPubFile []byte, devKey uplink.DeviceKey, rateBits int64) *benchRig {
	dir := newHubDir(b, devKey)
	if err := os.WriteFile(filepath.Join(dir, uplink.HubKeyFile), hubKey, 0o600); err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, uplink.HubPubFile), hubPubFile, 0o644); err != nil {
		b.Fatal(err)
	}
	th := startHub(b, dir, hub.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	p, err := linktest.Listen("127.0.0.1:0", th.url[len("https://"):])
	if err != nil {
		b.Fatal(err)
	}
	p.RateBits = rateBits
	b.Cleanup(func() { p.Close() })
	o, err := outbox.Open(b.TempDir(), outbox.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { o.Close() })
	cert, _ := devKey.TLSCertificate(time.Now())
	hc, err := tus.NewHTTPClient(th.pin, cert)
	if err != nil {
		b.Fatal(err)
	}
	d := &device{key: devKey, outbox: o, client: &tus.Client{Hub: "https://" + p.Addr(), HTTP: hc, DeviceID: devKey.ID(), ChunkSize: 64 << 10}}
	return &benchRig{th: th, proxy: p, dev: d}
}

func (r *benchRig) drain(b *testing.B) {
	s := &tus.Sender{Client: r.dev.client, Outbox: r.dev.outbox, Once: true,
		Backoff: uplink.Backoff{Min: 10 * time.Millisecond, Max: 100 * time.Millisecond},
		Logger:  slog.New(slog.NewTextHandler(io.Discard, nil))}
	if err := s.Run(context.Background()); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkEndToEndLoopback sends every sample image edge protect supports
// from a full outbox through tus to a hub on loopback that verifies,
// restores and stores each (forwarding to a PACS is asynchronous and left
// out). It reports images per minute and the bytes that crossed the link
// against the original files' bytes and the raw pixel bytes.
func BenchmarkEndToEndLoopback(b *testing.B) {
	c := sealCorpus(b)
	var orig, raw int64
	for _, it := range c.items {
		orig += int64(len(it.file))
		raw += int64(it.image.RawSize())
	}
	var wire int64
	var elapsed time.Duration
	for b.Loop() {
		b.StopTimer()
		r := newBenchRig(b, c.hubKey, c.hubPub, c.dev, 0)
		for _, it := range c.items {
			if _, err := r.dev.outbox.Enqueue(context.Background(), it.env); err != nil {
				b.Fatal(err)
			}
		}
		start := time.Now()
		b.StartTimer()
		r.drain(b)
		b.StopTimer()
		elapsed += time.Since(start)
		wire += r.proxy.Up() + r.proxy.Down()
		r.th.stop()
		b.StartTimer()
	}
	n := float64(b.N)
	b.ReportMetric(float64(len(c.items))*n/elapsed.Minutes(), "images/min")
	b.ReportMetric(float64(wire)/n/float64(orig), "wire/file")
	b.ReportMetric(float64(wire)/n/float64(raw), "wire/raw")
	b.ReportMetric(float64(wire)/n, "wire-bytes")
}

// BenchmarkDrain256k drains a 100-image outbox (96×96 12-bit images)
// through the proxy shaped to 256 kbit/s each way and reports the drain
// time against the wire limit: the time the envelopes' bytes alone take at
// that rate. Run with -benchtime=1x; one drain is about half a minute.
func BenchmarkDrain256k(b *testing.B) { benchDrain(b, 256_000) }

// BenchmarkDrainUnshaped is the same drain with the proxy unshaped: what
// the device and hub themselves cost per image.
func BenchmarkDrainUnshaped(b *testing.B) { benchDrain(b, 0) }

func benchDrain(b *testing.B, rate int64) {
	keys := b.TempDir()
	hk, dev, err := writeKeysTogether(keys, nil, false)
	if err != nil {
		b.Fatal(err)
	}
	var envs [][]byte
	var envBytes int64
	s := &protect.Sealer{Hub: hk.Public(), Device: dev}
	for i := range 100 {
		p, err := s.Protect(context.Background(), &protect.Request{Image: synthetic(96, 96, uint64(i)), Identity: identity(3, "dr-bench")})
		if err != nil {
			b.Fatal(err)
		}
		envs = append(envs, p.Envelope)
		envBytes += int64(len(p.Envelope))
	}
	hubKeyPEM, err := os.ReadFile(filepath.Join(keys, uplink.HubKeyFile))
	if err != nil {
		b.Fatal(err)
	}
	hubPubPEM, err := os.ReadFile(filepath.Join(keys, uplink.HubPubFile))
	if err != nil {
		b.Fatal(err)
	}
	var ratio, wireRatio float64
	for b.Loop() {
		b.StopTimer()
		r := newBenchRig(b, hubKeyPEM, hubPubPEM, dev, rate)
		for _, e := range envs {
			if _, err := r.dev.outbox.Enqueue(context.Background(), e); err != nil {
				b.Fatal(err)
			}
		}
		start := time.Now()
		b.StartTimer()
		r.drain(b)
		b.StopTimer()
		took := time.Since(start)
		var limit time.Duration
		if rate > 0 {
			limit = time.Duration(float64(envBytes) * 8 / float64(rate) * float64(time.Second))
			ratio += took.Seconds() / limit.Seconds()
		}
		wireRatio += float64(r.proxy.Up()) / float64(envBytes)
		b.Logf("100 envelopes, %d bytes: drained in %v, wire limit %v; %d bytes up, %d down", envBytes, took.Round(time.Millisecond), limit.Round(time.Millisecond), r.proxy.Up(), r.proxy.Down())
		r.th.stop()
		b.StartTimer()
	}
	if rate > 0 {
		b.ReportMetric(ratio/float64(b.N), "drain/limit")
	}
	b.ReportMetric(wireRatio/float64(b.N), "up/envelope")
}
