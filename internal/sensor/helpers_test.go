package sensor_test

import (
	"context"
	"image"
	"path/filepath"
	"testing"
	"time"

	"edge/internal/sensor"
	"edge/internal/sensor/sim"
)

// synthPrint draws a whorl-like ridge pattern with integer arithmetic only,
// so it is the same on every architecture.
func synthPrint(w, h int) *image.Gray {
	g := image.NewGray(image.Rect(0, 0, w, h))
	cx, cy := w/2, h*2/5
	for y := range h {
		for x := range w {
			dx, dy := x-cx, (y-cy)*4/5
			r := dx*dx + dy*dy + dx*dy/3
			v := 255
			if (r/90)%9 < 5 {
				v = 30 + (x*7+y*3)%60
			}
			g.Pix[y*w+x] = uint8(v)
		}
	}
	return g
}

// startSim serves print on a fresh pty and returns the link to its slave.
// back > 0 brings the line back after a hang-up.
func startSim(t testing.TB, print image.Image, o sim.Options, back time.Duration) (string, *sim.Sim) {
	t.Helper()
	s, err := sim.New(print, o)
	if err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(t.TempDir(), "ttySIM")
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan struct{}, 8)
	done := make(chan error, 1)
	go func() { done <- sim.Run(ctx, s, link, back, func(*sim.PTY) { ready <- struct{}{} }) }()
	select {
	case <-ready:
	case err := <-done:
		cancel()
		t.Fatalf("simulator: %v", err)
	}
	t.Cleanup(func() {
		cancel()
		<-done
	})
	return link, s
}

// openDev opens the simulator's link as a serial port at baud.
func openDev(t testing.TB, link string, baud int, o *sensor.Opts) (*sensor.Dev, sensor.PortCloser) {
	t.Helper()
	p, err := sensor.OpenSerial(link, baud)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	d, err := sensor.New(p, o)
	if err != nil {
		t.Fatal(err)
	}
	return d, p
}

// want8 is the simulator's image widened as the driver must return it.
func want8(s *sim.Sim) []byte {
	px := s.Pixels()
	out := make([]byte, len(px))
	for i, v := range px {
		out[i] = 17 * v
	}
	return out
}

func firstDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	if len(a) != len(b) {
		return min(len(a), len(b))
	}
	return -1
}
