package huffman

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"edge/internal/medimg"
)

// overlayImage is an ultrasound-like RGB image: a gray, noisy gradient (every
// pixel R = G = B) with, in a box, a pseudo-colour trace whose colour follows
// a map from G, and yellow annotation pixels, samples of bits stored
// bits.
func overlayImage(w, h, frames, bits int) *medimg.Image {
	alloc := 8
	if bits > 8 {
		alloc = 16
	}
	top := int32(1)<<bits - 1
	lcg := uint32(99)
	return testImage(w, h, frames, 3, alloc, bits, false, func(f, y, x, c int) int32 {
		if c == 0 {
			lcg = lcg*1664525 + 1013904223
		}
		g := (int32(x*3+y*2+f*17) + int32(lcg>>28)) % 256 * (top / 255)
		switch {
		case x%23 == 5 && y%7 < 3:
			// Annotation: yellow.
			return []int32{top, top, 0}[c]
		case (4*x-2*w)*(4*x-2*w)+(3*y-h-f*h/4)*(3*y-h-f*h/4) < w*w/2:
			// Trace: a blob whose red and blue follow G.
			return []int32{min(top, g+top/3), g, g / 4}[c]
		}
		return g
	})
}

// TestChromaPalette checks that overlay images (8 and 16 bit, one stripe
// and several, two frames) take the chroma palette: the stream is version 4,
// smaller than version 3's, and decodes exactly.
func TestChromaPalette(t *testing.T) {
	for name, im := range map[string]*medimg.Image{
		"8-bit":        overlayImage(64, 48, 1, 8),
		"16-bit":       overlayImage(64, 48, 1, 16),
		"12-bit-2fr":   overlayImage(40, 30, 2, 12),
		"many stripes": overlayImage(700, 800, 1, 8),
	} {
		v4 := encodeBytes(t, im, false)
		if v4[4] != version4 {
			t.Fatalf("%s: format version %d, want 4", name, v4[4])
		}
		v3 := encodeVersion(t, im, version3)
		if len(v4) >= len(v3) {
			t.Errorf("%s: chroma palette stream %d bytes, not smaller than version 3's %d", name, len(v4), len(v3))
		}
		got, err := NewDecoder(bytes.NewReader(v4), Limits{}).Decode()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		equalImages(t, got, im)
	}
}

// TestChromaOnlyInVersion4 checks that a version 3 stream may not use the
// chroma palette: the same bytes labelled version 3 are refused.
func TestChromaOnlyInVersion4(t *testing.T) {
	b := encodeBytes(t, overlayImage(64, 48, 1, 8), false)
	b[4] = version3
	_, err := NewDecoder(bytes.NewReader(b), Limits{}).Decode()
	var ce *CorruptInputError
	if !errors.As(err, &ce) || !strings.Contains(err.Error(), "colour transform 3") {
		t.Fatalf("error %v, want a CorruptInputError naming colour transform 3", err)
	}
	// In version 4 the palette's mode leaves the colour-map flags zero.
	for _, flags := range []uint32{1, 2, 3} {
		if _, err := parseRGBMode(xformChroma<<2|flags, version4); err == nil {
			t.Errorf("chroma palette mode with flags %02b accepted", flags)
		}
	}
	if md, err := parseRGBMode(xformChroma<<2, version4); err != nil || md.xform != xformChroma {
		t.Errorf("chroma palette mode read as %+v, %v", md, err)
	}
}

// TestChromaRefused feeds the palette reader and the index plane's
// reconstruction what a decoder must refuse.
func TestChromaRefused(t *testing.T) {
	palette := func(n uint32, entries ...int32) *bitReader {
		var w bitWriter
		w.expGolomb(n)
		for _, v := range entries {
			w.expGolomb(zigzag(v))
		}
		w.flush()
		var r bitReader
		r.reset(w.buf)
		return &r
	}
	for _, c := range []struct {
		name string
		r    *bitReader
		want string
	}{
		{"too many entries", palette(chromaMax + 1), "at most"},
		{"gray entry", palette(2, 5, 0, -5, 0), "entry 1 is gray"},
		{"out of range", palette(1, 256, 0), "outside [-255, 255]"},
		{"out of range by differences", palette(2, 200, 0, 100, 0), "entry 1 outside"},
		{"truncated", palette(3, 1, 1), "truncated"},
	} {
		var ch chroma
		if err := ch.read(c.r, 255); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one mentioning %q", c.name, err, c.want)
		}
	}
	ch := chroma{dr: []int32{100}, db: []int32{-3}}
	pix := []int32{0, 10, 0, 0, 200, 0}
	// Pixel 0 takes entry 0 (R 110); pixel 1 would take R 300.
	if err := ch.apply(pix, []int32{2, 2}, 255); err == nil || !strings.Contains(err.Error(), "pixel 1") {
		t.Errorf("error %v, want one naming pixel 1", err)
	}
	if pix[0] != 110 || pix[2] != 7 {
		t.Errorf("pixel 0 is (%d, %d, %d), want (110, 10, 7)", pix[0], pix[1], pix[2])
	}
}

// TestChromaIndex pins the index plane's meaning: 0 gray, 1 the chroma
// last seen at the same G, k ≥ 2 palette entry k − 2, and its inverse.
func TestChromaIndex(t *testing.T) {
	pix := []int32{
		7, 7, 7, // gray
		9, 5, 1, // new chroma (4, −4) at G 5: entry 0
		9, 5, 1, // again at G 5: 1
		3, 6, 6, // new chroma (−3, 0) at G 6: entry 1
		10, 6, 2, // (4, −4) at G 6, last there was (−3, 0): entry 0
		10, 6, 2, // again at G 6: 1
		5, 5, 5, // gray at G 5
		9, 5, 1, // G 5's last chroma is still (4, −4): 1
	}
	var ch chroma
	if !ch.build(pix) {
		t.Fatal("palette of two refused")
	}
	p := make([]int32, len(pix)/3)
	ch.plane(p, pix, 255)
	want := []int32{0, 2, 1, 3, 2, 1, 0, 1}
	for i := range want {
		if p[i] != want[i] {
			t.Fatalf("index plane %v, want %v", p, want)
		}
	}
	back := make([]int32, len(pix))
	for i := 1; i < len(pix); i += 3 {
		back[i] = pix[i]
	}
	if err := ch.apply(back, p, 255); err != nil {
		t.Fatal(err)
	}
	for i := range pix {
		if back[i] != pix[i] {
			t.Fatalf("reconstructed %v, want %v", back, pix)
		}
	}
}

// TestChromaPaletteBound checks that an image with more colours than the
// encoder tries is coded without the palette.
func TestChromaPaletteBound(t *testing.T) {
	im := testImage(64, 64, 1, 3, 8, 8, false, func(_, y, x, c int) int32 {
		return int32([]int{x * 4, y * 4, (x ^ y) * 4}[c] % 256)
	})
	var ch chroma
	if ch.build(im.Pix) {
		t.Fatalf("a palette of %d colours built, want refused beyond %d", len(ch.dr), chromaTry)
	}
	if b := encodeBytes(t, im, false); b[4] != version3 {
		t.Fatalf("format version %d, want 3", b[4])
	}
}
