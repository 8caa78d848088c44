package minutiae

import (
	"errors"
	"image"
	"image/color"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"edge/internal/testenv"
)

func grayImage(w, h int, at func(x, y int) uint8) *image.Gray {
	g := image.NewGray(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			g.Pix[y*g.Stride+x] = at(x, y)
		}
	}
	return g
}

// Images that are not fingerprints must be refused with ErrNoFingerprint
// and a quality score, never turned into a template.
func TestRejectsNonFingerprints(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	const w, h = 256, 288
	cases := map[string]image.Image{
		"blank white": grayImage(w, h, func(x, y int) uint8 { return 255 }),
		"all black":   grayImage(w, h, func(x, y int) uint8 { return 0 }),
		"mid grey":    grayImage(w, h, func(x, y int) uint8 { return 128 }),
		"uniform noise": grayImage(w, h, func(x, y int) uint8 {
			return uint8(rng.IntN(256))
		}),
		"salt and pepper": grayImage(w, h, func(x, y int) uint8 {
			if rng.IntN(2) == 0 {
				return 0
			}
			return 255
		}),
		"gradient": grayImage(w, h, func(x, y int) uint8 { return uint8(x * 255 / w) }),
		"checkerboard": grayImage(w, h, func(x, y int) uint8 {
			if (x/16+y/16)%2 == 0 {
				return 30
			}
			return 220
		}),
		// Parallel stripes at a ridge period have a perfect ridge flow and
		// no minutiae: a pattern, not a finger.
		"stripes": grayImage(w, h, func(x, y int) uint8 {
			return uint8(127.5 + 127.5*math.Sin(2*math.Pi*float64(x+y)/12))
		}),
		"concentric rings": grayImage(w, h, func(x, y int) uint8 {
			r := math.Hypot(float64(x-w/2), float64(y-h/2))
			return uint8(127.5 + 127.5*math.Sin(2*math.Pi*r/9))
		}),
		"colour blocks": func() image.Image {
			m := image.NewRGBA(image.Rect(0, 0, w, h))
			for y := 0; y < h; y++ {
				for x := 0; x < w; x++ {
					m.Set(x, y, color.RGBA{uint8(x / 32 * 30), uint8(y / 40 * 35), 90, 255})
				}
			}
			return m
		}(),
	}
	// Real non-fingerprint images: the medical samples.
	if dir := testenv.DataDir(t); dir != "" {
		for _, n := range []string{"BrainT1Slice.png", "BrainProtonDensitySlice.png", "FatMRISlice.png", "BrainMidSagittalSlice.png"} {
			p := filepath.Join(dir, "medical", n)
			if _, err := os.Stat(p); err == nil {
				cases["medical "+n] = decodeFile(t, p)
			}
		}
	}
	for name, img := range cases {
		tm, q, err := Extract(img, 500)
		if tm != nil || err == nil {
			t.Errorf("%s: got a template with %d minutiae, quality %d; want refusal", name, len(tm.Minutiae), q)
			continue
		}
		var qe *QualityError
		if !errors.Is(err, ErrNoFingerprint) || !errors.As(err, &qe) {
			t.Errorf("%s: error %v is not a QualityError", name, err)
			continue
		}
		if qe.Quality != q || q < 0 || q > 100 {
			t.Errorf("%s: quality %d returned, %d in the error", name, q, qe.Quality)
		}
		t.Logf("%-30s refused: %v", name, err)
	}
}

// Prints of the other readers (different sizes, resolutions, swipe and press
// sensors) either give a template or a quality error; nothing else.
func TestOtherReaders(t *testing.T) {
	dir := testenv.Path(t, "fingerprints")
	var names []string
	for _, sub := range []string{"sensors", "nist"} {
		m, _ := filepath.Glob(filepath.Join(dir, sub, "*"))
		names = append(names, m...)
	}
	if len(names) == 0 {
		t.Skip("no other readers' prints present")
	}
	enrolled := 0
	for _, n := range names {
		img := decodeFile(t, n)
		tm, q, err := Extract(img, 500)
		rel, _ := filepath.Rel(dir, n)
		switch {
		case err == nil:
			enrolled++
			if len(tm.Minutiae) < MinMinutiae || len(tm.Minutiae) > MaxMinutiae || q < MinQuality {
				t.Errorf("%s: template with %d minutiae, quality %d, outside the accepted bounds", rel, len(tm.Minutiae), q)
			}
			b, err := tm.Encode()
			if err != nil {
				t.Errorf("%s: encode: %v", rel, err)
			}
			if s := Compare(tm, tm); s < 0.5 {
				t.Errorf("%s: a template scores %.3f against itself", rel, s)
			}
			t.Logf("%-32s %4d×%-4d enrolls: quality %3d, %2d minutiae, %4d-byte record", rel, img.Bounds().Dx(), img.Bounds().Dy(), q, len(tm.Minutiae), len(b))
		case errors.Is(err, ErrNoFingerprint):
			t.Logf("%-32s %4d×%-4d refused: %v", rel, img.Bounds().Dx(), img.Bounds().Dy(), err)
		default:
			t.Errorf("%s: neither a template nor a quality error: %v", rel, err)
		}
	}
	t.Logf("%d of %d prints enroll", enrolled, len(names))
}

func TestExtractArguments(t *testing.T) {
	img := grayImage(64, 64, func(x, y int) uint8 { return 200 })
	if _, _, err := Extract(img, 100); err == nil || errors.Is(err, ErrNoFingerprint) {
		t.Errorf("100 dpi: %v, want a resolution error", err)
	}
	if _, _, err := Extract(grayImage(16, 16, func(x, y int) uint8 { return 0 }), 500); err == nil || errors.Is(err, ErrNoFingerprint) {
		t.Errorf("16×16: %v, want a size error", err)
	}
	if _, _, err := Extract(nil, 500); err == nil {
		t.Error("nil image accepted")
	}
	if _, _, err := ExtractGray(make([]uint8, 10), 64, 64, 500); err == nil {
		t.Error("short pixel buffer accepted")
	}
	// 2000×2000 at 250 dpi would be 4000×4000 at 500: refused before any
	// working buffer is allocated.
	if _, _, err := ExtractGray(make([]uint8, 2000*2000), 2000, 2000, 250); err == nil || errors.Is(err, ErrNoFingerprint) {
		t.Errorf("2000×2000 at 250 dpi: %v, want a size error", err)
	}
	if _, _, err := ExtractGray(make([]uint8, 2400*2400), 2400, 2400, 500); err == nil || errors.Is(err, ErrNoFingerprint) {
		t.Errorf("2400×2400: %v, want a size error", err)
	}
}
