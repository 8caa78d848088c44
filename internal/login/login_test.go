package login_test

import (
	"context"
	"errors"
	"image"
	"os"
	"path/filepath"
	"testing"
	"time"

	"edge/internal/biometric"
	"edge/internal/login"
	"edge/internal/sensor/sim"
)

// TestEnrollIdentifyThroughPTY enrolls a clinician from three captures of
// the simulated module, then identifies them, and refuses another finger,
// with every print only in memory: the temporary folder stays empty.
func TestEnrollIdentifyThroughPTY(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	link := filepath.Join(t.TempDir(), "sensor")
	simA, stop := startSim(t, link, []image.Image{synth(7)}, sim.Options{NoFinger: 1})
	x := &blockExtractor{}
	s := newStation(t, link, x)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	if _, err := s.Identify(ctx); !errors.Is(err, login.ErrNoStore) {
		t.Fatalf("identify with nobody enrolled: %v", err)
	}
	lifts := 0
	_, scores, err := s.Enroll(ctx, "dr.a", 3, false, func(context.Context, int) error { lifts++; return nil })
	if err != nil {
		t.Fatal(err)
	}
	if len(scores) != 3 || lifts != 2 {
		t.Errorf("enrollment: %d scores, %d lifts asked", len(scores), lifts)
	}
	if _, _, err := s.Enroll(ctx, "dr.a", 3, false, nil); !errors.Is(err, biometric.ErrExists) {
		t.Errorf("second enrollment without replace: %v", err)
	}
	r, err := s.Identify(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !r.Decision.Match || r.Decision.ID != "dr.a" || r.Identity == nil || !r.Identity.Verified() || r.Identity.ClinicianID() != "dr.a" || r.Candidates != 1 {
		t.Fatalf("identify: %+v", r)
	}
	if r.Identity.Model() != x.ModelHash() {
		t.Error("identity does not carry the model hash")
	}
	v, err := s.Verify(ctx, "dr.a")
	if err != nil || !v.Decision.Match || v.Identity == nil {
		t.Fatalf("verify: %+v, %v", v, err)
	}
	if st := s.Sensor(); !st.Connected || st.Baud != 115200 || st.PacketSize != 128 {
		t.Errorf("sensor state %+v", st)
	}
	if got := simA.Stats().Uploads; got != 5 {
		t.Errorf("simulator served %d uploads, want 5", got)
	}

	// Another finger on the same link: no match, and no name given.
	stop()
	startSim(t, link, []image.Image{synth(40)}, sim.Options{})
	r, err = s.Identify(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if r.Decision.Match || r.Identity != nil || r.Decision.ID != "" {
		t.Errorf("another finger: %+v", r)
	}
	if ents, _ := os.ReadDir(tmp); len(ents) != 0 {
		t.Errorf("files left in the temporary folder: %v", ents)
	}
}

// TestSensorLostAndFound kills the simulator mid-session: the station says
// the sensor is lost, and finds it again when it comes back at the link.
func TestSensorLostAndFound(t *testing.T) {
	link := filepath.Join(t.TempDir(), "sensor")
	_, stop := startSim(t, link, []image.Image{synth(7)}, sim.Options{})
	s := newStation(t, link, &blockExtractor{})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if ok, err := s.FingerPresent(ctx); err != nil || !ok {
		t.Fatalf("finger present: %v %v", ok, err)
	}
	stop()
	if _, err := s.FingerPresent(ctx); err == nil {
		t.Fatal("no error with the simulator gone")
	}
	if st := s.Sensor(); st.Connected || st.LastError == "" {
		t.Fatalf("after the simulator died: %+v", st)
	}
	if _, err := s.Capture(ctx); err == nil {
		t.Fatal("capture with no sensor")
	}
	startSim(t, link, []image.Image{synth(7)}, sim.Options{})
	img, err := s.Capture(ctx)
	if err != nil {
		t.Fatalf("capture after the sensor came back: %v", err)
	}
	if want := asCaptured(synth(7)); string(img.Pix) != string(want.Pix) {
		t.Error("print after reconnecting differs from the one served")
	}
	if st := s.Sensor(); !st.Connected {
		t.Errorf("after the sensor came back: %+v", st)
	}
}
