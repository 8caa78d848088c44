package main

import (
	"bytes"
	"context"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"edge/internal/sensor/sim"
)

// syncBuf is a bytes.Buffer the simulator and the test may both touch.
type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuf) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// ridges draws a test print without the shared samples.
func ridges(w, h int) *image.Gray {
	g := image.NewGray(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			dx, dy := x-w/2, y-h/2
			if (dx*dx+dy*dy)/70%7 < 4 {
				g.Pix[y*w+x] = uint8(20 + (x+y)%50)
			} else {
				g.Pix[y*w+x] = 250
			}
		}
	}
	return g
}

// simulate runs "edge sensor simulate" in-process on a real pty and returns
// the link and the 4-bit image it serves.
func simulate(t testing.TB, print image.Image, args ...string) (string, []byte) {
	t.Helper()
	dir := t.TempDir()
	fp := filepath.Join(dir, "print.png")
	f, err := os.Create(fp)
	if err != nil {
		t.Fatal(err)
	}
	if err := png.Encode(f, print); err != nil {
		t.Fatal(err)
	}
	f.Close()
	link := filepath.Join(dir, "ttyFP")
	ctx, cancel := context.WithCancel(context.Background())
	var stderr syncBuf
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, env{&bytes.Buffer{}, &stderr}, append([]string{"sensor", "simulate", "--print", fp, "--link", link}, args...))
	}()
	t.Cleanup(func() {
		cancel()
		if code := <-done; code != 0 {
			t.Errorf("simulate exit %d: %s", code, stderr.String())
		}
		if _, err := os.Lstat(link); err == nil {
			t.Errorf("simulate left its link %s behind", link)
		}
	})
	for deadline := time.Now().Add(10 * time.Second); ; {
		if _, err := os.Lstat(link); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("simulator never made %s: %s", link, stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	img, err := sim.LoadPrint(fp)
	if err != nil {
		t.Fatal(err)
	}
	return link, sim.Fit(img, 256, 288)
}

func runCLI(args ...string) (int, string, string) {
	var o, e bytes.Buffer
	code := run(context.Background(), env{&o, &e}, args)
	return code, o.String(), e.String()
}

func checkCapture(t *testing.T, out string, want4 []byte) {
	t.Helper()
	f, err := os.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	g, ok := img.(*image.Gray)
	if !ok || g.Rect.Dx() != 256 || g.Rect.Dy() != 288 {
		t.Fatalf("capture is %T %v, want 256×288 gray", img, img.Bounds())
	}
	for i, v := range want4 {
		if g.Pix[i] != 17*v {
			t.Fatalf("pixel (%d,%d) = %d, want 17×%d", i%256, i/256, g.Pix[i], v)
		}
	}
}

func TestSensorCaptureAt57600(t *testing.T) {
	if testing.Short() {
		t.Skip("a paced 57,600-baud capture takes about 7 s")
	}
	link, want := simulate(t, ridges(300, 320), "--baud", "57600", "--no-finger", "2")
	out := filepath.Join(t.TempDir(), "fp.png")
	code, _, stderr := runCLI("sensor", "capture", "--port", link, "--baud", "57600", "--out", out)
	if code != 0 {
		t.Fatalf("capture exit %d: %s", code, stderr)
	}
	checkCapture(t, out, want)
	if !strings.Contains(stderr, "36864/36864 bytes") {
		t.Errorf("no upload progress on stderr:\n%s", stderr)
	}
}

func TestSensorCaptureWithCorruption(t *testing.T) {
	if testing.Short() {
		t.Skip("paced 57,600-baud captures with retries take 10–20 s")
	}
	for _, seed := range []string{"1", "2"} {
		link, want := simulate(t, ridges(200, 400), "--baud", "57600", "--corrupt-rate", "0.01", "--seed", seed)
		out := filepath.Join(t.TempDir(), "fp.png")
		code, _, stderr := runCLI("sensor", "capture", "--port", link, "--baud", "57600", "--timeout", "90s", "--out", out)
		if code != 0 {
			t.Fatalf("seed %s: capture exit %d: %s", seed, code, stderr)
		}
		checkCapture(t, out, want)
	}
}

func TestSensorCaptureUnpacedSizes(t *testing.T) {
	for _, sz := range [][2]int{{100, 100}, {256, 288}, {500, 600}} {
		link, want := simulate(t, ridges(sz[0], sz[1]), "--baud", "0", "--packet-size", "32")
		out := filepath.Join(t.TempDir(), "fp.png")
		code, _, stderr := runCLI("sensor", "capture", "--port", link, "--out", out)
		if code != 0 {
			t.Fatalf("%v: capture exit %d: %s", sz, code, stderr)
		}
		checkCapture(t, out, want)
	}
}

func TestSensorCaptureDisconnectLeavesNoFile(t *testing.T) {
	link, _ := simulate(t, ridges(256, 288), "--baud", "115200", "--disconnect-after", "12000")
	dir := t.TempDir()
	out := filepath.Join(dir, "fp.png")
	code, _, stderr := runCLI("sensor", "capture", "--port", link, "--timeout", "20s", "--out", out)
	if code != 1 {
		t.Fatalf("capture on a line that hung up: exit %d: %s", code, stderr)
	}
	// The hang-up is what ended it, not the timeout: how soon it ends is
	// BenchmarkSensorCaptureDisconnect's.
	if !strings.Contains(stderr, "UpImage") || !strings.Contains(stderr, "adapter unplugged") || strings.Contains(stderr, "timed out") {
		t.Errorf("error does not say the adapter was unplugged during UpImage: %s", stderr)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Errorf("files left after a failed capture: %v", ents)
	}
}

// BenchmarkSensorCaptureDisconnect: how long a capture takes to give up on a
// line that hangs up 12,000 bytes into the image at 115,200 baud.
func BenchmarkSensorCaptureDisconnect(b *testing.B) {
	for b.Loop() {
		b.StopTimer()
		link, _ := simulate(b, ridges(256, 288), "--baud", "115200", "--disconnect-after", "12000")
		out := filepath.Join(b.TempDir(), "fp.png")
		b.StartTimer()
		if code, _, stderr := runCLI("sensor", "capture", "--port", link, "--timeout", "20s", "--out", out); code != 1 {
			b.Fatalf("capture on a line that hung up: exit %d: %s", code, stderr)
		}
	}
}

func TestSensorInfoLEDList(t *testing.T) {
	link, _ := simulate(t, ridges(64, 64), "--baud", "0", "--packet-size", "256", "--password", "0x2a")
	code, out, stderr := runCLI("sensor", "info", "--port", link, "--password", "42")
	if code != 0 {
		t.Fatalf("info exit %d: %s", code, stderr)
	}
	for _, want := range []string{"library size    300", "packet size     256 bytes", "address         0xffffffff", "password verified true"} {
		if !strings.Contains(out, want) {
			t.Errorf("info output lacks %q:\n%s", want, out)
		}
	}
	if code, _, stderr := runCLI("sensor", "info", "--port", link); code != 1 || !strings.Contains(stderr, "wrong password") {
		t.Errorf("info with the wrong password: exit %d: %s", code, stderr)
	}
	if code, _, stderr := runCLI("sensor", "led", "--port", link, "--password", "42", "--mode", "breathing", "--color", "purple", "--count", "3"); code != 0 {
		t.Errorf("led exit %d: %s", code, stderr)
	}
	if code, _, _ := runCLI("sensor", "led", "--port", link, "--mode", "disco"); code != 2 {
		t.Errorf("led with mode disco: exit %d, want 2", code)
	}
	code, out, stderr = runCLI("sensor", "list", "--port", link, "--password", "42")
	if code != 0 || !strings.Contains(out, link) || !strings.Contains(out, "module answered") {
		t.Errorf("list exit %d:\n%s%s", code, out, stderr)
	}
}
