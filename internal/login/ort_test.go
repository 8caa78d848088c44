//go:build cgo

package login_test

import (
	"context"
	"image"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"edge/internal/biometric"
	"edge/internal/infer"
	"edge/internal/infer/resnet"
	"edge/internal/login"
	"edge/internal/sensor"
	"edge/internal/sensor/sim"
	"edge/internal/testenv"
)

// wideModel is a one-block-per-stage network from the ResNet152 builder
// with the full model's 2048 features, so the real ONNX Runtime path runs
// in seconds. Its path is cached for the test binary's run.
func wideModel(t testing.TB) string {
	t.Helper()
	if _, err := infer.LibraryPath(""); err != nil {
		root, _ := testenv.ModuleRoot()
		testenv.Missing(t, filepath.Join(root, "third_party", "onnxruntime", "linux-"+runtime.GOARCH, infer.LibName),
			"make ort or sh scripts/fetch-ort.sh", err)
	}
	m, err := resnet.Build(resnet.Config{Blocks: [4]int{1, 1, 1, 1}, Width: 64, Size: 64, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "wide.onnx")
	if err := os.WriteFile(p, m.Marshal(), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// openModel opens the small network, or the model EDGE_BENCH_MODEL names
// (the int8 ResNet152 for the README's figures).
func openModel(t testing.TB) *infer.Extractor {
	t.Helper()
	path := os.Getenv("EDGE_BENCH_MODEL")
	if path == "" {
		path = wideModel(t)
	}
	x, err := infer.Open(context.Background(), infer.Options{ModelPath: path})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { x.Close() })
	return x
}

// TestLoginWithModel enrolls and identifies through the simulator and the
// real ONNX Runtime path, one extractor for every login.
func TestLoginWithModel(t *testing.T) {
	link := filepath.Join(t.TempDir(), "sensor")
	startSim(t, link, []image.Image{synth(7)}, sim.Options{})
	x := openModel(t)
	s := newStation(t, link, x)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if _, _, err := s.Enroll(ctx, "dr.m", 3, false, nil); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		r, err := s.Identify(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if !r.Decision.Match || r.Identity == nil || r.Identity.Model() != x.ModelHash() || len(r.Identity.KeyMaterial()) == 0 {
			t.Fatalf("identify: %+v", r.Decision)
		}
		t.Logf("capture %v, features %v, score %.4f", r.Capture, r.Features, r.Decision.Score)
	}
}

// BenchmarkTouchToLogin is touch → logged in (capture, features, match)
// through the simulator paced at the module's line rate, with the model
// loaded once and the gallery prepared once. The line-rate floor is the
// GenImg and UpImage acknowledgements and the image's 36,864 bytes as
// 128-byte packets, 10 bits a byte, at the rate the line runs at after the
// station's handshake; capture_s minus that is protocol overhead. In the
// switched case the module starts at 57,600 and the station moves it to
// 115,200 at its first handshake: first_login_s is that first login
// (handshake, switch, first gallery), the rest are timed.
func BenchmarkTouchToLogin(b *testing.B) {
	for _, c := range []struct {
		name                    string
		simBaud, openAt, maxAdp int
	}{
		{"57600", 57600, 57600, 57600},
		{"115200", 115200, 115200, 115200},
		{"57600-switched-to-115200", 57600, 57600, 0},
	} {
		b.Run(c.name, func(b *testing.B) {
			link := filepath.Join(b.TempDir(), "sensor")
			startSimB(b, link, c.simBaud)
			x := openModel(b)
			st, err := biometric.CreateStore(filepath.Join(b.TempDir(), "store"))
			if err != nil {
				b.Fatal(err)
			}
			calibrate(b, st, x, 0.8)
			s, err := login.Open(login.Options{
				Open:      func() (sensor.PortCloser, error) { return sensor.OpenSerial(link, c.openAt) },
				Extractor: x, Store: st, MaxBaud: c.maxAdp,
			})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			ctx := context.Background()
			img := asCaptured(synth(7))
			if _, _, err := s.EnrollPrints(ctx, "dr.b", []image.Image{img, img, img}, false); err != nil {
				b.Fatal(err)
			}
			t0 := time.Now()
			if r, err := s.Identify(ctx); err != nil || !r.Decision.Match {
				b.Fatalf("first identify: %v %+v", err, r)
			}
			first := time.Since(t0)
			baud := s.Sensor().Baud
			var capture, features, match time.Duration
			b.ResetTimer()
			for b.Loop() {
				r, err := s.Identify(ctx)
				if err != nil || !r.Decision.Match {
					b.Fatalf("identify: %v %+v", err, r)
				}
				capture += r.Capture
				features += r.Features
				match += r.Match
			}
			n := float64(b.N)
			// Two 12-byte acknowledgements, then 288 packets of 128 bytes and
			// 11 bytes of framing each.
			line := float64((2*12+36864+36864/128*11)*10) / float64(baud)
			b.ReportMetric(float64(baud), "baud")
			b.ReportMetric(capture.Seconds()/n, "capture_s")
			b.ReportMetric(line, "line_floor_s")
			b.ReportMetric(features.Seconds()/n, "features_s")
			b.ReportMetric(match.Seconds()/n, "match_s")
			b.ReportMetric(first.Seconds(), "first_login_s")
		})
	}
}

func startSimB(b *testing.B, link string, baud int) {
	s, err := sim.New(synth(7), sim.Options{Baud: baud})
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); sim.Run(ctx, s, link, time.Second, nil) }()
	b.Cleanup(func() { cancel(); <-done })
	for i := 0; i < 1000; i++ {
		if _, err := os.Stat(link); err == nil {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	b.Fatal("simulator never made its link")
}
