package login_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"image"
	"os"
	"path/filepath"
	"testing"
	"time"

	"edge/internal/biometric"
	"edge/internal/infer/prep"
	"edge/internal/login"
	"edge/internal/sensor"
	"edge/internal/sensor/sim"
)

// blockExtractor stands in for the model where ONNX Runtime is not needed:
// 2048 features, the mean of each 8×4 block of a 256×288 print (and zero
// padding), so the same print gives the same vector and different prints
// differ.
type blockExtractor struct{ calls int }

func (b *blockExtractor) Features(_ context.Context, img image.Image) ([]float32, error) {
	b.calls++
	r := img.Bounds()
	v := make([]float32, 2048)
	for i := range v {
		bx, by := i%32, i/32
		var sum, n float32
		for y := by * 4; y < by*4+4 && y < r.Dy(); y++ {
			for x := bx * 8; x < bx*8+8 && x < r.Dx(); x++ {
				g, _, _, _ := img.At(r.Min.X+x, r.Min.Y+y).RGBA()
				sum += float32(g >> 8)
				n++
			}
		}
		if n > 0 {
			v[i] = sum/n + 1
		} else {
			v[i] = 1
		}
	}
	return v, nil
}

func (b *blockExtractor) ModelHash() [32]byte { return sha256.Sum256([]byte("block extractor")) }

// startSim serves prints on a pty linked at a new path until the test
// ends or stop is called.
func startSim(t *testing.T, link string, prints []image.Image, o sim.Options) (s *sim.Sim, stop func()) {
	t.Helper()
	s, err := sim.NewMulti(prints, o)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		sim.Run(ctx, s, link, time.Second, nil)
	}()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, err := os.Stat(link); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("simulator never made its link")
		}
		time.Sleep(10 * time.Millisecond)
	}
	var stopped bool
	stop = func() {
		if !stopped {
			stopped = true
			cancel()
			<-done
		}
	}
	t.Cleanup(stop)
	return s, stop
}

func synth(seed uint64) image.Image { return prep.Synthetic(256, 288, seed) }

// asCaptured is img as the module gives it back: fitted, 4 bits a pixel.
func asCaptured(img image.Image) *image.Gray {
	return sensor.Widen(sim.Pack(sim.Fit(img, 256, 288)), 256, 288)
}

// calibrate gives the store a calibration for model fitted on a cohort of
// synthetic prints' features.
func calibrate(t testing.TB, st *biometric.Store, x login.Extractor, threshold float64) {
	t.Helper()
	var cohort [][]float32
	for seed := range uint64(6) {
		v, err := x.Features(context.Background(), asCaptured(synth(100+seed)))
		if err != nil {
			t.Fatal(err)
		}
		cohort = append(cohort, v)
	}
	m := x.ModelHash()
	// Synthetic prints score about 1 against themselves and under 0.08
	// against other seeds with the minutiae matcher.
	cal := &biometric.Calibration{Threshold: threshold, MinutiaeThreshold: 0.3, Rule: "test", Model: hex.EncodeToString(m[:])}
	if err := cal.FitStandardisation(cohort); err != nil {
		t.Fatal(err)
	}
	if err := st.SaveCalibration(cal); err != nil {
		t.Fatal(err)
	}
}

func newStation(t *testing.T, link string, x login.Extractor) *login.Station {
	t.Helper()
	st, err := biometric.CreateStore(filepath.Join(t.TempDir(), "store"))
	if err != nil {
		t.Fatal(err)
	}
	calibrate(t, st, x, 0.8)
	o := sensor.DefaultOpts
	o.Timeout = 500 * time.Millisecond
	o.Retries = 1
	s, err := login.Open(login.Options{
		Open:      func() (sensor.PortCloser, error) { return sensor.OpenSerial(link, 57600) },
		Sensor:    &o,
		Extractor: x,
		Store:     st,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}
