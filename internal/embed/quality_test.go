package embed

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"math"
	"testing"
	"time"

	"edge/internal/quality"
)

// payload280 is a stand-in for the real payload: 280 bytes that look random.
func payload280(seed byte) []byte {
	var p []byte
	for i := byte(0); len(p) < 280; i++ {
		s := sha256.Sum256([]byte{seed, i})
		p = append(p, s[:]...)
	}
	return p[:280]
}

func testKey(seed byte) []byte {
	s := sha256.Sum256([]byte{'k', seed})
	return s[:]
}

// TestSampleImages marks every shared sample image with a 280-byte payload
// the way the product does (EmbedBest), checks the exact round trip and the
// quality targets on every image, and logs the table.
func TestSampleImages(t *testing.T) {
	ss := samples(t)
	payload, key := payload280(1), testKey(1)
	var sum float64
	t.Logf("%-30s %12s %4s %8s %9s %7s %9s %6s %s", "image", "geometry", "bits", "PSNR dB", "SSIM", "changed", "capacity", "ms", "mark")
	for _, s := range ss {
		start := time.Now()
		mk, err := EmbedBest(s.im, payload, key, Options{})
		if err != nil {
			t.Errorf("%s: %v", s.name, err)
			continue
		}
		ms := time.Since(start).Milliseconds()
		m := mk.Image
		kind := "self-contained"
		if mk.Restore != nil {
			kind = fmt.Sprintf("sealed, %d-byte record", len(mk.Restore))
		}
		got, orig, err := ExtractBest(m, key, mk.Restore)
		if err != nil {
			t.Errorf("%s: extract: %v", s.name, err)
			continue
		}
		if !bytes.Equal(got, payload) || !bytes.Equal(orig.RawBytes(), s.im.RawBytes()) {
			t.Errorf("%s: round trip not exact", s.name)
		}
		psnr, ssim := quality.PSNR(s.im, m), quality.SSIM(s.im, m)
		changed := 0
		for i, v := range m.Pix {
			if v != s.im.Pix[i] {
				changed++
			}
		}
		capacity, err := Capacity(s.im, key)
		if err != nil {
			t.Errorf("%s: capacity: %v", s.name, err)
		}
		sum += psnr
		t.Logf("%-30s %12s %4d %8.2f %9.6f %7d %9d %6d %s", s.name,
			fmt.Sprintf("%dx%dx%d", s.im.Width, s.im.Height, s.im.Channels), s.im.BitsStored, psnr, ssim, changed, capacity, ms, kind)
		const wantPSNR, wantSSIM = 54.0, 0.999
		if psnr < wantPSNR || math.IsNaN(psnr) {
			t.Errorf("%s: PSNR %.2f dB < %.1f", s.name, psnr, wantPSNR)
		}
		if ssim < wantSSIM || math.IsNaN(ssim) {
			t.Errorf("%s: SSIM %.6f < %.4f", s.name, ssim, wantSSIM)
		}
	}
	avg := sum / float64(len(ss))
	t.Logf("mean PSNR %.2f dB over %d images", avg, len(ss))
	if avg < 58 {
		t.Errorf("mean PSNR %.2f dB < 58", avg)
	}
}
