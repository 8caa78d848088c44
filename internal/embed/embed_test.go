package embed

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"edge/internal/medimg"
)

var update = flag.Bool("update", false, "rewrite testdata/golden.txt")

// synth makes a deterministic test image: a smooth ramp plus low-level noise
// from an integer generator, clipped to the range.
func synth(w, h, frames, channels, bitsAlloc, bitsStored int, signed bool, noise int32) *medimg.Image {
	im := &medimg.Image{Width: w, Height: h, Frames: frames, Channels: channels, BitsAllocated: bitsAlloc,
		BitsStored: bitsStored, Signed: signed, Photometric: medimg.Monochrome2}
	if channels == 3 {
		im.Photometric = medimg.RGB
	}
	lo, hi := im.Range()
	span := int64(hi) - int64(lo)
	state := uint32(12345)
	for f := range frames {
		for y := range h {
			for x := range w {
				for c := range channels {
					state = state*1664525 + 1013904223
					n := int32(state>>16)%(2*noise+1) - noise
					if noise == 0 {
						n = 0
					}
					v := int32(int64(lo) + span*int64(x+2*y+3*c+5*f)/int64(w+2*h+3*channels+5*frames+1) + int64(n))
					im.Pix = append(im.Pix, min(max(v, lo), hi))
				}
			}
		}
	}
	return im
}

func fill(w, h int, bitsAlloc, bitsStored int, signed bool, v func(lo, hi int32) int32) *medimg.Image {
	im := synth(w, h, 1, 1, bitsAlloc, bitsStored, signed, 0)
	lo, hi := im.Range()
	for i := range im.Pix {
		im.Pix[i] = v(lo, hi)
	}
	return im
}

func roundTrip(t *testing.T, name string, im *medimg.Image, payload, key []byte) {
	t.Helper()
	before := im.Clone()
	m, err := Embed(im, payload, key)
	if !bytes.Equal(before.RawBytes(), im.RawBytes()) {
		t.Fatalf("%s: Embed changed its input", name)
	}
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if err := m.Validate(); err != nil {
		t.Fatalf("%s: marked image invalid: %v", name, err)
	}
	if bytes.Equal(m.RawBytes(), im.RawBytes()) && len(payload) > 0 {
		t.Errorf("%s: marked image equals the original", name)
	}
	got, orig, err := Extract(m, key)
	if err != nil {
		t.Fatalf("%s: extract: %v", name, err)
	}
	if !bytes.Equal(got, payload) {
		t.Errorf("%s: payload %x, want %x", name, got, payload)
	}
	if !bytes.Equal(orig.RawBytes(), im.RawBytes()) || orig.BitsStored != im.BitsStored || orig.Signed != im.Signed {
		t.Errorf("%s: restored image differs from the original", name)
	}
}

func TestRoundTripKinds(t *testing.T) {
	p := payload280(2)
	key := testKey(2)
	cases := []struct {
		name string
		im   *medimg.Image
	}{
		{"8-bit gray", synth(96, 80, 1, 1, 8, 8, false, 3)},
		{"8-bit RGB", synth(64, 48, 1, 3, 8, 8, false, 2)},
		{"16-bit signed", synth(64, 64, 1, 1, 16, 16, true, 40)},
		{"12 of 16 bits", synth(80, 64, 1, 1, 16, 12, false, 6)},
		{"14 of 16 bits signed", synth(64, 64, 1, 1, 16, 14, true, 9)},
		{"10 of 16 bits", synth(70, 70, 1, 1, 16, 10, false, 2)},
		{"6 of 8 bits", synth(90, 90, 1, 1, 8, 6, false, 1)},
		{"multi-frame", synth(32, 32, 4, 1, 16, 12, false, 5)},
		{"multi-frame RGB", synth(24, 24, 3, 3, 8, 8, false, 2)},
		{"all zero", fill(64, 64, 8, 8, false, func(lo, hi int32) int32 { return lo })},
		{"all full scale", fill(64, 64, 8, 8, false, func(lo, hi int32) int32 { return hi })},
		{"all full scale 16-bit", fill(64, 64, 16, 16, false, func(lo, hi int32) int32 { return hi })},
		{"signed all minimum", fill(64, 64, 16, 16, true, func(lo, hi int32) int32 { return lo })},
		{"flat mid-grey", fill(64, 64, 8, 8, false, func(lo, hi int32) int32 { return 128 })},
		{"1 bit stored", fill(160, 160, 8, 1, false, func(lo, hi int32) int32 { return hi })},
		{"tall thin", synth(1, 4096, 1, 1, 16, 16, false, 3)},
	}
	// Saturated stripes: half the samples at 0, half at full scale, with
	// edges between them.
	stripes := synth(64, 64, 1, 1, 8, 8, false, 0)
	for i := range stripes.Pix {
		if (i/64)%8 < 4 {
			stripes.Pix[i] = 255
		} else {
			stripes.Pix[i] = 0
		}
	}
	cases = append(cases, struct {
		name string
		im   *medimg.Image
	}{"stripes at both ends", stripes})
	for _, c := range cases {
		roundTrip(t, c.name, c.im, p, key)
	}
	roundTrip(t, "empty payload", synth(48, 48, 1, 1, 8, 8, false, 2), nil, key)
}

func TestCapacityError(t *testing.T) {
	im := synth(8, 8, 1, 1, 8, 8, false, 3)
	before := im.Clone()
	_, err := Embed(im, payload280(3), testKey(3))
	if !errors.Is(err, ErrCapacity) {
		t.Fatalf("8×8 image with 280 bytes: %v, want ErrCapacity", err)
	}
	if !strings.Contains(err.Error(), "bits") {
		t.Errorf("error does not give the figures: %v", err)
	}
	if !bytes.Equal(before.RawBytes(), im.RawBytes()) {
		t.Error("Embed changed its input on failure")
	}
	big := synth(64, 64, 1, 1, 8, 8, false, 2)
	if _, err := Embed(big, make([]byte, MaxPayload+1), testKey(3)); !errors.Is(err, ErrCapacity) {
		t.Errorf("oversize payload: %v, want ErrCapacity", err)
	}
	c, err := Capacity(big, testKey(3))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Embed(big, make([]byte, c/8+1), testKey(3)); !errors.Is(err, ErrCapacity) {
		t.Errorf("payload over Capacity %d bits: %v, want ErrCapacity", c, err)
	}
}

func TestCapacity(t *testing.T) {
	im := synth(128, 128, 1, 1, 8, 8, false, 2)
	c, err := Capacity(im, testKey(4))
	if err != nil {
		t.Fatal(err)
	}
	if c < 8*280 {
		t.Fatalf("capacity %d bits of a 128×128 image, want at least %d", c, 8*280)
	}
	roundTrip(t, "half capacity", im, make([]byte, c/16), testKey(4))
}

func TestBadInput(t *testing.T) {
	key := testKey(5)
	empty := &medimg.Image{Frames: 1, Channels: 1, BitsAllocated: 8, BitsStored: 8}
	if _, err := Embed(empty, []byte("x"), key); err == nil {
		t.Error("Embed accepted a 0×0 image")
	}
	if _, _, err := Extract(empty, key); err == nil {
		t.Error("Extract accepted a 0×0 image")
	}
	if _, err := Capacity(empty, key); err == nil {
		t.Error("Capacity accepted a 0×0 image")
	}
	im := synth(64, 64, 1, 1, 8, 8, false, 2)
	if _, err := Embed(im, []byte("x"), key[:31]); err == nil || !strings.Contains(err.Error(), "31") {
		t.Errorf("31-byte key: %v", err)
	}
	out := im.Clone()
	out.Pix[5] = 300
	if _, err := Embed(out, []byte("x"), key); err == nil {
		t.Error("Embed accepted a sample out of range")
	}
}

func TestWrongKeyAndTampering(t *testing.T) {
	im := synth(96, 96, 1, 1, 8, 8, false, 2)
	key := testKey(6)
	m, err := Embed(im, payload280(6), key)
	if err != nil {
		t.Fatal(err)
	}
	other := append([]byte(nil), key...)
	other[31] ^= 1
	if _, _, err := Extract(m, other); err == nil {
		t.Error("Extract with a key one bit off succeeded")
	}
	if _, _, err := Extract(im, key); err == nil {
		t.Error("Extract found a mark in an unmarked image")
	}
	// A change anywhere, in a sample the mark uses or not, must be caught.
	for _, i := range []int{0, 1, len(m.Pix) / 2, len(m.Pix) - 1} {
		bad := m.Clone()
		if bad.Pix[i] > 0 {
			bad.Pix[i]--
		} else {
			bad.Pix[i]++
		}
		if _, _, err := Extract(bad, key); err == nil {
			t.Errorf("Extract accepted a marked image with sample %d changed", i)
		}
	}
}

func TestDeterministic(t *testing.T) {
	im := synth(64, 64, 1, 3, 8, 8, false, 2)
	a, err := Embed(im, payload280(7), testKey(7))
	if err != nil {
		t.Fatal(err)
	}
	b, err := Embed(im, payload280(7), testKey(7))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.RawBytes(), b.RawBytes()) {
		t.Error("two embeddings of the same input differ")
	}
	c, err := Embed(im, payload280(7), testKey(8))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(a.RawBytes(), c.RawBytes()) {
		t.Error("two keys gave the same marked image")
	}
}

// goldenCases are marked on every architecture and must give these digests.
func goldenCases() []struct {
	name string
	im   *medimg.Image
} {
	return []struct {
		name string
		im   *medimg.Image
	}{
		{"gray8-96x80", synth(96, 80, 1, 1, 8, 8, false, 3)},
		{"signed16-64x64", synth(64, 64, 1, 1, 16, 16, true, 40)},
		{"rgb8-48x48x2frames", synth(48, 48, 2, 3, 8, 8, false, 2)},
	}
}

// TestGoldenVectors pins the marked images of every mark version
// (testdata/golden.txt for version 1, golden-vN.txt after): the bytes must
// not change across architectures or releases, and each version's marks
// must still come out exactly.
func TestGoldenVectors(t *testing.T) {
	for v := uint8(1); v <= version; v++ {
		var lines []string
		for _, c := range goldenCases() {
			p, key := payload280(9), testKey(9)
			m, err := embedVersion(c.im, p, key, v)
			if err != nil {
				t.Fatalf("version %d, %s: %v", v, c.name, err)
			}
			got, orig, err := Extract(m, key)
			if err != nil || !bytes.Equal(got, p) || !bytes.Equal(orig.RawBytes(), c.im.RawBytes()) {
				t.Fatalf("version %d, %s: the mark does not come out exactly (%v)", v, c.name, err)
			}
			d := sha256.Sum256(m.RawBytes())
			lines = append(lines, c.name+" "+hex.EncodeToString(d[:]))
		}
		got := strings.Join(lines, "\n") + "\n"
		path := filepath.Join("testdata", "golden.txt")
		if v > 1 {
			path = filepath.Join("testdata", fmt.Sprintf("golden-v%d.txt", v))
		}
		if *update {
			if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (run with -update to create it)", err)
		}
		if got != string(want) {
			t.Errorf("marked images differ from %s:\ngot\n%swant\n%s", path, got, want)
		}
	}
}

func benchEmbedExtract(b *testing.B, im *medimg.Image) {
	p, key := payload280(10), testKey(10)
	b.SetBytes(int64(im.RawSize()))
	b.ReportAllocs()
	for b.Loop() {
		m, err := Embed(im, p, key)
		if err != nil {
			b.Fatal(err)
		}
		if _, _, err := Extract(m, key); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEmbedExtract512x512x8(b *testing.B) {
	benchEmbedExtract(b, synth(512, 512, 1, 1, 8, 8, false, 3))
}

func BenchmarkEmbedExtract512x512x16(b *testing.B) {
	benchEmbedExtract(b, synth(512, 512, 1, 1, 16, 16, false, 40))
}
