package minutiae

import (
	"errors"
	"math"
	"path/filepath"
	"strconv"
	"testing"
)

// fuzzImage turns fuzz input into an image: a side of 32..127 pixels each
// way (small, so the instrumented extraction still runs many times a
// second), the bytes tiled over it, and a resolution that is sometimes
// invalid.
func fuzzImage(w, h, dpi uint16, pix []byte) ([]uint8, int, int, int) {
	W, H := 32+int(w%96), 32+int(h%96)
	img := make([]uint8, W*H)
	if len(pix) > 0 {
		for i := range img {
			img[i] = pix[i%len(pix)]
		}
	}
	d := []int{0, 500, 250, 1000, int(dpi)}[dpi%5]
	return img, W, H, d
}

// Extraction never panics or hangs on any image: it gives a valid template,
// a quality error, or (for a bad size or resolution) a plain error.
func FuzzExtract(f *testing.F) {
	f.Fuzz(func(t *testing.T, w, h, dpi uint16, pix []byte) {
		img, W, H, d := fuzzImage(w, h, dpi, pix)
		tm, q, err := ExtractGray(img, W, H, d)
		if err != nil {
			if q < 0 || q > 100 {
				t.Fatalf("quality %d outside 0..100", q)
			}
			var qe *QualityError
			if errors.As(err, &qe) && qe.Quality != q {
				t.Fatalf("quality %d returned, %d in the error", q, qe.Quality)
			}
			if tm != nil {
				t.Fatal("a template and an error")
			}
			return
		}
		if len(tm.Minutiae) < MinMinutiae || len(tm.Minutiae) > MaxMinutiae || q < MinQuality || q > 100 {
			t.Fatalf("template of %d minutiae, quality %d", len(tm.Minutiae), q)
		}
		b, err := tm.Encode()
		if err != nil {
			t.Fatalf("extracted template does not encode: %v", err)
		}
		if len(b) > 2048 {
			t.Fatalf("record of %d bytes", len(b))
		}
		if _, err := Decode(b); err != nil {
			t.Fatalf("extracted template's record does not decode: %v", err)
		}
	})
}

// writeExtractSeeds writes synthetic images (no real print) as seeds:
// blank, noise, stripes, and rings with a fork-making phase twist.
func writeExtractSeeds(t *testing.T) {
	dir := filepath.Join("testdata", "fuzz", "FuzzExtract")
	const side = 96
	pattern := func(at func(x, y int) uint8) []byte {
		b := make([]byte, side*side)
		for y := 0; y < side; y++ {
			for x := 0; x < side; x++ {
				b[y*side+x] = at(x, y)
			}
		}
		return b
	}
	var lcg uint32 = 1
	seeds := [][]byte{
		{255},
		pattern(func(x, y int) uint8 { lcg = lcg*1664525 + 1013904223; return uint8(lcg >> 24) }),
		pattern(func(x, y int) uint8 { return uint8(127.5 + 127.5*math.Sin(2*math.Pi*float64(x)/9)) }),
		pattern(func(x, y int) uint8 {
			r := math.Hypot(float64(x-side/2), float64(y-side/2))
			a := math.Atan2(float64(y-side/2), float64(x-side/2))
			return uint8(127.5 + 127.5*math.Sin(2*math.Pi*r/9+a))
		}),
	}
	// The side fields make fuzzImage draw the pattern at its own width.
	for i, s := range seeds {
		w := uint16(side - 32)
		writeSeed(t, filepath.Join(dir, "seed"+strconv.Itoa(i)), "uint16("+strconv.Itoa(int(w))+")", "uint16("+strconv.Itoa(int(w))+")",
			"uint16("+strconv.Itoa(i)+")", "[]byte("+strconv.Quote(string(s))+")")
	}
}
