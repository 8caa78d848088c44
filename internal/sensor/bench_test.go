package sensor_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"edge/internal/sensor/sim"
)

// BenchmarkCapture times GenImg + UpImage through a real pty against the
// simulator pacing its output at the line rate, and reports the line-rate
// limit for the same bytes: the wire bytes of the acknowledgements and image
// packets, 10 bits each. A pty itself moves bytes as fast as they are read,
// so without the pacing the figure would mean nothing. 9,600 baud takes
// about 45 s an iteration: run with -benchtime 1x. With corruption the
// limit is still that of one clean upload: the ratio is the cost of the
// retries.
func BenchmarkCapture(b *testing.B) {
	for _, c := range []struct {
		baud, ps int
		corrupt  float64
	}{
		{9600, 128, 0}, {57600, 128, 0}, {115200, 128, 0}, {57600, 32, 0}, {57600, 256, 0}, {57600, 128, 0.01},
	} {
		b.Run(fmt.Sprintf("baud=%d/packet=%d/corrupt=%g", c.baud, c.ps, c.corrupt), func(b *testing.B) {
			link, _ := startSim(b, synthPrint(256, 288), sim.Options{Baud: c.baud, PacketSize: c.ps, CorruptRate: c.corrupt, Seed: 3}, 0)
			d, _ := openDev(b, link, c.baud, nil)
			ctx := context.Background()
			if _, err := d.ReadSysPara(ctx); err != nil {
				b.Fatal(err)
			}
			total := d.ImageBytes()
			frames := total / c.ps
			// Two 12-byte acknowledgements (GenImg, UpImage), then the packets.
			wire := 2*12 + frames*(c.ps+11)
			limit := time.Duration(wire) * 10 * time.Second / time.Duration(c.baud)
			b.SetBytes(int64(total))
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				if _, err := d.Capture(ctx, nil, nil); err != nil {
					b.Fatal(err)
				}
			}
			per := b.Elapsed() / time.Duration(b.N)
			b.ReportMetric(limit.Seconds(), "limit-s")
			b.ReportMetric(per.Seconds(), "s/capture")
			b.ReportMetric(float64(per)/float64(limit), "x-limit")
		})
	}
}
