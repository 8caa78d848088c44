package login_test

import (
	"context"
	"image"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// stallExtractor is blockExtractor that, once stall is set, does not
// return until release is closed: a model or a driver that hangs.
type stallExtractor struct {
	blockExtractor
	stall   atomic.Bool
	release chan struct{}
}

func (s *stallExtractor) Features(ctx context.Context, img image.Image) ([]float32, error) {
	if s.stall.Load() {
		<-s.release
	}
	return s.blockExtractor.Features(ctx, img)
}

// TestStuck: a station waiting for nothing is not stuck; one whose model
// does not return on a captured print is, once the limit has passed; and
// it is not once the model returns.
func TestStuck(t *testing.T) {
	x := &stallExtractor{release: make(chan struct{})}
	s := newStation(t, filepath.Join(t.TempDir(), "no-sensor"), x)
	if err := s.Stuck(time.Millisecond); err != nil {
		t.Fatalf("an idle station: %v", err)
	}
	x.stall.Store(true)
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.VerifyPrint(context.Background(), "dr.nobody", asCaptured(synth(7)))
	}()
	deadline := time.Now().Add(10 * time.Second)
	for s.Stuck(50*time.Millisecond) == nil {
		if time.Now().After(deadline) {
			t.Fatal("a station whose model hangs never said it was stuck")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := s.Stuck(time.Hour); err != nil {
		t.Fatalf("stuck within the limit: %v", err)
	}
	if err := s.Stuck(50 * time.Millisecond); !strings.Contains(err.Error(), "does not return") {
		t.Fatalf("err %v", err)
	}
	close(x.release)
	<-done
	if err := s.Stuck(time.Millisecond); err != nil {
		t.Fatalf("after the model returned: %v", err)
	}
}
