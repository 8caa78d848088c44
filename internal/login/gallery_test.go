package login_test

import (
	"context"
	"errors"
	"fmt"
	"image"
	"os"
	"path/filepath"
	"testing"
	"time"

	"edge/internal/biometric"
	"edge/internal/biometric/minutiae"
	"edge/internal/login"
	"edge/internal/sensor"
)

// TestGalleryFollowsTheStore: the prepared gallery serves login after
// login without being prepared again, and is prepared again after each
// change to the store: a clinician enrolled after the station opened is
// identified, a re-enrolled one by their new finger only, a revoked one
// with their new generation, and one removed from the store not at all.
func TestGalleryFollowsTheStore(t *testing.T) {
	s := newStation(t, filepath.Join(t.TempDir(), "no-sensor"), &blockExtractor{})
	// Timestamps on the test's file system move every nanosecond; the
	// racy window is tested below.
	s.SetRacyWindow(-1)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	st := s.Store()
	enroll := func(id string, seed uint64, replace bool) {
		t.Helper()
		img := asCaptured(synth(seed))
		if _, _, err := s.EnrollPrints(ctx, id, []image.Image{img, img, img}, replace); err != nil {
			t.Fatal(err)
		}
	}
	identify := func(seed uint64) *login.Result {
		t.Helper()
		r, err := s.IdentifyPrint(ctx, asCaptured(synth(seed)))
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	expect := func(seed uint64, id string, builds int) *login.Result {
		t.Helper()
		r := identify(seed)
		if id == "" && (r.Decision.Match || r.Identity != nil) || id != "" && (!r.Decision.Match || r.Decision.ID != id || r.Identity == nil) {
			t.Fatalf("print %d: %+v, want %q", seed, r.Decision, id)
		}
		if got := s.GalleryBuilds(); got != builds {
			t.Fatalf("print %d: gallery prepared %d times, want %d", seed, got, builds)
		}
		return r
	}

	enroll("dr.a", 7, false)
	expect(7, "dr.a", 1)
	expect(7, "dr.a", 1)
	expect(40, "", 1)

	enroll("dr.b", 40, false)
	if r := expect(40, "dr.b", 2); r.Candidates != 2 {
		t.Errorf("%d candidates, want 2", r.Candidates)
	}
	expect(7, "dr.a", 2)

	// Re-enrolled with another finger: the old one no longer logs them in.
	enroll("dr.a", 55, true)
	expect(7, "", 3)
	expect(55, "dr.a", 3)

	gen := identify(40).Identity.Generation()
	if _, err := st.Revoke("dr.b"); err != nil {
		t.Fatal(err)
	}
	if r := expect(40, "dr.b", 4); r.Identity.Generation() != gen+1 {
		t.Errorf("after revoking: generation %d, want %d", r.Identity.Generation(), gen+1)
	}

	// Removed from the store by hand.
	for _, ext := range []string{".tmpl", ".mnt"} {
		if err := os.Remove(filepath.Join(st.Dir(), "dr.b"+ext)); err != nil {
			t.Fatal(err)
		}
	}
	if r := expect(40, "", 5); r.Candidates != 1 {
		t.Errorf("%d candidates after removing one of two, want 1", r.Candidates)
	}
	expect(55, "dr.a", 5)
}

// TestGalleryRacyWindow: while the store's newest file is younger than the
// racy window the gallery is prepared at every login, since a change in the
// same timestamp tick could leave the listing unchanged.
func TestGalleryRacyWindow(t *testing.T) {
	s := newStation(t, filepath.Join(t.TempDir(), "no-sensor"), &blockExtractor{})
	s.SetRacyWindow(time.Hour)
	ctx := context.Background()
	img := asCaptured(synth(7))
	if _, _, err := s.EnrollPrints(ctx, "dr.a", []image.Image{img, img, img}, false); err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 3; i++ {
		if r, err := s.IdentifyPrint(ctx, img); err != nil || !r.Decision.Match {
			t.Fatalf("identify: %+v, %v", r, err)
		}
		if got := s.GalleryBuilds(); got != i {
			t.Fatalf("login %d: gallery prepared %d times, want %d", i, got, i)
		}
	}
	s.SetRacyWindow(-1)
	for range 2 {
		if _, err := s.IdentifyPrint(ctx, img); err != nil {
			t.Fatal(err)
		}
	}
	if got := s.GalleryBuilds(); got != 4 {
		t.Errorf("gallery prepared %d times once the store aged, want 4", got)
	}
}

// BenchmarkIdentify100 is the minutiae decision of one login among 100
// enrolled clinicians (the features are the test's cheap stand-in): the
// station's gallery kept prepared, against the store's IdentifyPrint, which
// prepares every clinician's impressions at every call.
func BenchmarkIdentify100(b *testing.B) {
	dir := b.TempDir()
	st, err := biometric.CreateStore(filepath.Join(dir, "store"))
	if err != nil {
		b.Fatal(err)
	}
	x := &blockExtractor{}
	calibrate(b, st, x, 0.8)
	s, err := login.Open(login.Options{
		Open:      func() (sensor.PortCloser, error) { return nil, errors.New("no sensor") },
		Extractor: x, Store: st,
	})
	if err != nil {
		b.Fatal(err)
	}
	s.SetRacyWindow(-1)
	ctx := context.Background()
	// Some synthetic prints have too few minutiae to enroll: the next seed
	// stands in.
	var seeds []uint64
	for seed := uint64(1000); len(seeds) < 100 && seed < 1400; seed++ {
		img := asCaptured(synth(seed))
		_, _, err := s.EnrollPrints(ctx, fmt.Sprintf("dr.%03d", len(seeds)), []image.Image{img, img, img}, false)
		if errors.Is(err, minutiae.ErrNoFingerprint) {
			continue
		}
		if err != nil {
			b.Fatal(err)
		}
		seeds = append(seeds, seed)
	}
	if len(seeds) < 100 {
		b.Fatalf("only %d synthetic prints enrolled", len(seeds))
	}
	probe := asCaptured(synth(seeds[42]))
	v, err := x.Features(ctx, probe)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("station", func(b *testing.B) {
		// The first login prepares the gallery; the timed ones use it.
		if _, err := s.IdentifyPrint(ctx, probe); err != nil {
			b.Fatal(err)
		}
		for b.Loop() {
			r, err := s.IdentifyPrint(ctx, probe)
			if err != nil || r.Decision.ID != "dr.042" {
				b.Fatalf("%+v, %v", r, err)
			}
		}
		b.ReportMetric(float64(s.GalleryBuilds()), "builds")
	})
	b.Run("store", func(b *testing.B) {
		for b.Loop() {
			d, _, _, err := st.IdentifyPrint(ctx, probe, 500, x.ModelHash(), v)
			if err != nil || d.ID != "dr.042" {
				b.Fatalf("%+v, %v", d, err)
			}
		}
	})
}
