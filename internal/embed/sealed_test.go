package embed

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"testing"

	"edge/internal/medimg"
	"edge/internal/quality"
)

// noisy8 is the hard case for expansion: an evenly noisy 8-bit slice.
func noisy8(w, h int, seed uint64) *medimg.Image {
	im := &medimg.Image{Width: w, Height: h, Frames: 1, Channels: 1, BitsAllocated: 8, BitsStored: 8, Photometric: medimg.Monochrome2}
	r := rand.New(rand.NewPCG(seed, 3))
	im.Pix = make([]int32, w*h)
	for i := range im.Pix {
		im.Pix[i] = int32(min(255, max(0, 120+r.IntN(41)-20)))
	}
	return im
}

func TestSealedRoundTrip(t *testing.T) {
	payload, key := payload280(2), testKey(2)
	for name, im := range map[string]*medimg.Image{
		"noisy 8-bit":   noisy8(180, 200, 1),
		"all zero":      fill(64, 64, 8, 8, false, func(lo, hi int32) int32 { return lo }),
		"all full":      fill(64, 64, 16, 12, false, func(lo, hi int32) int32 { return hi }),
		"signed min":    fill(64, 64, 16, 16, true, func(lo, hi int32) int32 { return lo }),
		"1 bit stored":  fill(64, 64, 8, 1, false, func(lo, hi int32) int32 { return hi }),
		"RGB, 3 frames": synth(40, 30, 3, 3, 8, 8, false, 3),
	} {
		before := im.Clone()
		m, err := EmbedSealed(im, payload, key)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !bytes.Equal(im.RawBytes(), before.RawBytes()) {
			t.Fatalf("%s: EmbedSealed changed its input", name)
		}
		if err := m.Image.Validate(); err != nil {
			t.Fatalf("%s: marked image out of range: %v", name, err)
		}
		got, orig, err := ExtractSealed(m.Image, key, m.Restore)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !bytes.Equal(got, payload) || !bytes.Equal(orig.RawBytes(), im.RawBytes()) {
			t.Fatalf("%s: round trip not exact", name)
		}
	}
}

func TestSealedRejects(t *testing.T) {
	im := noisy8(100, 100, 2)
	payload, key := payload280(3), testKey(3)
	m, err := EmbedSealed(im, payload, key)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := ExtractSealed(m.Image, testKey(4), m.Restore); err == nil {
		t.Error("wrong key accepted")
	}
	bad := m.Image.Clone()
	for i := range bad.Pix {
		if bad.Pix[i] != im.Pix[i] {
			bad.Pix[i] ^= 1
			break
		}
	}
	if _, _, err := ExtractSealed(bad, key, m.Restore); err == nil {
		t.Error("changed carrier accepted")
	}
	rec := append([]byte(nil), m.Restore...)
	rec[len(rec)-1] ^= 0x80
	if _, _, err := ExtractSealed(m.Image, key, rec); err == nil {
		t.Error("changed restore record accepted")
	}
	for _, r := range [][]byte{nil, {1}, m.Restore[:len(m.Restore)-1], append(append([]byte(nil), m.Restore...), 0)} {
		if _, _, err := ExtractSealed(m.Image, key, r); err == nil {
			t.Errorf("restore record of %d bytes accepted", len(r))
		}
	}
	tiny := noisy8(40, 40, 3)
	if _, err := EmbedSealed(tiny, payload, key); !errors.Is(err, ErrCapacity) {
		t.Errorf("40×40 image: %v", err)
	}
}

func TestEmbedBestChoosesSelfContainedWhenGoodEnough(t *testing.T) {
	payload, key := payload280(4), testKey(4)
	smooth := synth(256, 256, 1, 1, 16, 12, false, 2)
	m, err := EmbedBest(smooth, payload, key, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if m.Restore != nil {
		t.Fatal("a smooth 12-bit image got a sealed mark")
	}
	noisy := noisy8(181, 217, 5)
	m, err = EmbedBest(noisy, payload, key, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if m.Restore == nil {
		t.Fatal("a noisy 8-bit slice kept prediction-error expansion")
	}
	if p, s := quality.PSNR(noisy, m.Image), quality.SSIM(noisy, m.Image); p < DefaultMinPSNR || s < DefaultMinSSIM {
		t.Fatalf("sealed mark PSNR %.2f SSIM %.5f", p, s)
	}
	got, orig, err := ExtractBest(m.Image, key, m.Restore)
	if err != nil || !bytes.Equal(got, payload) || !bytes.Equal(orig.RawBytes(), noisy.RawBytes()) {
		t.Fatalf("round trip: %v", err)
	}
}

// TestExtractBest: ExtractBest undoes both kinds of mark, and a restore
// record given for the wrong kind is an error, not a wrong image.
func TestExtractBest(t *testing.T) {
	payload, key := payload280(6), testKey(6)
	var records [][]byte
	for _, im := range []*medimg.Image{synth(256, 256, 1, 1, 16, 12, false, 2), noisy8(181, 217, 5)} {
		m, err := EmbedBest(im, payload, key, Options{})
		if err != nil {
			t.Fatal(err)
		}
		got, orig, err := ExtractBest(m.Image, key, m.Restore)
		if err != nil || !bytes.Equal(got, payload) || !bytes.Equal(orig.RawBytes(), im.RawBytes()) {
			t.Fatalf("%d×%d, sealed %v: round trip: %v", im.Width, im.Height, m.Restore != nil, err)
		}
		records = append(records, m.Restore)
		if m.Restore == nil {
			if _, _, err := ExtractBest(m.Image, key, []byte{sealedVersion, 0, 0, 0, 8, 0}); err == nil {
				t.Fatal("a self-contained mark read with a sealed record")
			}
		}
	}
	if records[0] != nil || records[1] == nil {
		t.Fatalf("expected one mark of each kind, got records %v", records)
	}
}

// TestExtractBestMeanwhile: for both kinds of mark, meanwhile runs once, on
// the image that is then returned as the original; a wrong key still gives
// an error and no payload, whatever meanwhile saw.
func TestExtractBestMeanwhile(t *testing.T) {
	payload, key := payload280(7), testKey(7)
	for _, im := range []*medimg.Image{synth(256, 256, 1, 1, 16, 12, false, 3), noisy8(181, 217, 6)} {
		m, err := EmbedBest(im, payload, key, Options{})
		if err != nil {
			t.Fatal(err)
		}
		var seen []*medimg.Image
		var raw []byte
		got, orig, err := ExtractBestMeanwhile(m.Image, key, m.Restore, func(o *medimg.Image) {
			seen = append(seen, o)
			raw = o.RawBytes()
		})
		if err != nil || !bytes.Equal(got, payload) || !bytes.Equal(orig.RawBytes(), im.RawBytes()) {
			t.Fatalf("sealed %v: round trip: %v", m.Restore != nil, err)
		}
		if len(seen) != 1 || seen[0] != orig || !bytes.Equal(raw, im.RawBytes()) {
			t.Fatalf("sealed %v: meanwhile ran %d times, on the original: %v", m.Restore != nil, len(seen), len(seen) == 1 && seen[0] == orig)
		}
		got, orig, err = ExtractBestMeanwhile(m.Image, testKey(8), m.Restore, func(*medimg.Image) {})
		if err == nil || got != nil || orig != nil {
			t.Fatalf("sealed %v: a wrong key gave payload %v, error %v", m.Restore != nil, got != nil, err)
		}
	}
}
