package appliance_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"image"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"edge/internal/appliance"
	"edge/internal/biometric"
	"edge/internal/biometric/minutiae"
	"edge/internal/hub"
	"edge/internal/infer/prep"
	"edge/internal/sensor"
	"edge/internal/sensor/sim"
	"edge/internal/uplink"
)

// blockExtractor stands in for the model: 2048 features, the mean of each
// 8×4 block of the print, so one print always gives one vector and other
// prints differ. The hub accepts its model hash like a real model's.
type blockExtractor struct{}

func (blockExtractor) Features(_ context.Context, img image.Image) ([]float32, error) {
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
		v[i] = 1
		if n > 0 {
			v[i] += sum / n
		}
	}
	return v, nil
}

func (blockExtractor) ModelHash() [32]byte { return sha256.Sum256([]byte("block extractor")) }

func synth(seed uint64) image.Image { return prep.Synthetic(256, 288, seed) }

func asCaptured(img image.Image) *image.Gray {
	return sensor.Widen(sim.Pack(sim.Fit(img, 256, 288)), 256, 288)
}

// simulator serves a print on a pty at link until stopped.
type simulator struct {
	cancel context.CancelFunc
	done   chan struct{}
}

func startSim(t *testing.T, link string, print image.Image) *simulator {
	t.Helper()
	return startSimOpts(t, link, print, 0)
}

// startSimOpts is startSim with the first noFinger GenImg finding no finger.
func startSimOpts(t *testing.T, link string, print image.Image, noFinger int) *simulator {
	t.Helper()
	s, err := sim.New(print, sim.Options{NoFinger: noFinger})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	sm := &simulator{cancel: cancel, done: make(chan struct{})}
	go func() { defer close(sm.done); sim.Run(ctx, s, link, time.Second, nil) }()
	t.Cleanup(sm.stop)
	waitFor(t, 10*time.Second, "the simulator's link", func() bool { _, err := os.Stat(link); return err == nil })
	return sm
}

func (s *simulator) stop() {
	s.cancel()
	<-s.done
}

// enroll makes a calibrated store with clinician id enrolled from print.
func enroll(t *testing.T, dir, id string, print image.Image) {
	t.Helper()
	st, err := biometric.CreateStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	x := blockExtractor{}
	ctx := context.Background()
	var cohort [][]float32
	for seed := range uint64(6) {
		v, _ := x.Features(ctx, asCaptured(synth(100+seed)))
		cohort = append(cohort, v)
	}
	m := x.ModelHash()
	// Synthetic prints score about 1 against themselves and under 0.08
	// against other seeds with the minutiae matcher.
	cal := &biometric.Calibration{Threshold: 0.8, MinutiaeThreshold: 0.3, Rule: "test", Model: hex.EncodeToString(m[:])}
	if err := cal.FitStandardisation(cohort); err != nil {
		t.Fatal(err)
	}
	if err := st.SaveCalibration(cal); err != nil {
		t.Fatal(err)
	}
	captured := asCaptured(print)
	v, _ := x.Features(ctx, captured)
	tmpl, err := biometric.NewTemplate(m, [][]float32{v, v, v})
	if err != nil {
		t.Fatal(err)
	}
	mt, err := biometric.ExtractPrint(captured, 500)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.SavePrints(id, tmpl, []*minutiae.Template{mt, mt, mt}, false); err != nil {
		t.Fatal(err)
	}
}

// testHub is a hub on loopback, in this process.
type testHub struct {
	url, pin string
	h        *hub.Hub
	cfg      *hub.Config
}

// startHub makes a hub that accepts the block extractor's envelopes and
// trusts the device whose keys it writes into devDir.
func startHub(t *testing.T, dir, devDir string) *testHub {
	t.Helper()
	pin, err := hub.Init(dir, hub.InitOptions{Listen: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	hubPub, err := uplink.LoadHubPublicKey(filepath.Join(dir, uplink.HubPubFile))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := uplink.WriteDeviceKeys(devDir, nil, &hubPub, false); err != nil {
		t.Fatal(err)
	}
	cfg, err := hub.LoadConfig(filepath.Join(dir, hub.ConfigFile))
	if err != nil {
		t.Fatal(err)
	}
	m := blockExtractor{}.ModelHash()
	cfg.AcceptedModels = []string{hex.EncodeToString(m[:])}
	if _, err := hub.Trust(cfg, filepath.Join(devDir, uplink.DevicePubFile)); err != nil {
		t.Fatal(err)
	}
	h, err := hub.New(cfg, hub.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); h.Serve(ctx, l) }()
	t.Cleanup(func() { cancel(); <-done; h.Close() })
	return &testHub{url: "https://" + l.Addr().String(), pin: pin, h: h, cfg: cfg}
}

// stored is the hub's audit records with outcome stored.
func (th *testHub) stored(t *testing.T) []hub.Record {
	t.Helper()
	recs, err := th.h.Audit()
	if err != nil {
		t.Fatal(err)
	}
	var out []hub.Record
	for _, r := range recs {
		if r.Outcome == "stored" {
			out = append(out, r)
		}
	}
	return out
}

// runAppliance runs the appliance on cfg until the test ends.
type running struct {
	addrs appliance.Addrs
	log   *syncBuffer
	stop  func() error
}

func runAppliance(t *testing.T, cfgPath string) *running {
	t.Helper()
	return runApplianceWith(t, cfgPath, appliance.Options{})
}

func runApplianceWith(t *testing.T, cfgPath string, opt appliance.Options) *running {
	t.Helper()
	ready := make(chan appliance.Addrs, 1)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	logs := &syncBuffer{}
	go func() {
		opt.Extractor, opt.Stderr, opt.Poll = blockExtractor{}, logs, 50*time.Millisecond
		opt.Ready = func(a appliance.Addrs) { ready <- a }
		done <- appliance.Run(ctx, cfgPath, opt)
	}()
	r := &running{log: logs}
	var once sync.Once
	var runErr error
	r.stop = func() error {
		once.Do(func() {
			cancel()
			select {
			case runErr = <-done:
			case <-time.After(30 * time.Second):
				runErr = context.DeadlineExceeded
			}
		})
		return runErr
	}
	t.Cleanup(func() {
		r.stop()
		if t.Failed() {
			t.Logf("appliance log:\n%s", logs.String())
		}
	})
	select {
	case r.addrs = <-ready:
	case err := <-done:
		t.Fatalf("appliance: %v\n%s", err, logs.String())
	case <-time.After(30 * time.Second):
		t.Fatalf("appliance never ready:\n%s", logs.String())
	}
	return r
}

func (r *running) get(t *testing.T, path string) string {
	t.Helper()
	resp, err := http.Get("http://" + r.addrs.Status + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %s: %s", path, resp.Status, b)
	}
	return string(b)
}

func (r *running) health(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(r.get(t, "/healthz")), &m); err != nil {
		t.Fatal(err)
	}
	return m
}

type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func waitFor(t *testing.T, d time.Duration, what string, f func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !f() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func writeJSON(t *testing.T, path string, v any) {
	t.Helper()
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}
