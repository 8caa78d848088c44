package minutiae

import (
	"context"
	"fmt"
	"image"
	"math"
	"testing"
)

// transform rotates img by deg degrees about its centre and shifts it by
// (dx, dy) pixels, on a canvas of the same size filled with white: the part
// that moves off the canvas is lost, as with a finger placed off-centre.
func transform(img image.Image, deg float64, dx, dy int) *image.Gray {
	pix, w, h, err := grayPixels(img)
	if err != nil {
		panic(err)
	}
	out := image.NewGray(image.Rect(0, 0, w, h))
	c, s := math.Cos(deg*math.Pi/180), math.Sin(deg*math.Pi/180)
	cx, cy := float64(w-1)/2, float64(h-1)/2
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			// Inverse map: destination → source.
			u, v := float64(x-dx)-cx, float64(y-dy)-cy
			sx, sy := c*u+s*v+cx, -s*u+c*v+cy
			val := 255.0
			if sx >= 0 && sy >= 0 && sx <= float64(w-1) && sy <= float64(h-1) {
				x0, y0 := int(sx), int(sy)
				x1, y1 := min(x0+1, w-1), min(y0+1, h-1)
				tx, ty := sx-float64(x0), sy-float64(y0)
				a, b := float64(pix[y0*w+x0]), float64(pix[y0*w+x1])
				cc, d := float64(pix[y1*w+x0]), float64(pix[y1*w+x1])
				val = (a*(1-tx)+b*tx)*(1-ty) + (cc*(1-tx)+d*tx)*ty
			}
			out.Pix[y*out.Stride+x] = uint8(val + 0.5)
		}
	}
	return out
}

// A print rotated by ±30° and shifted by a quarter of its width (so a
// quarter of it is lost) still matches its own finger, above every other
// finger and above the split protocol's zero-FMR threshold.
func TestRotatedShiftedPrintMatches(t *testing.T) {
	samples := multiImpression(t)
	ev, err := Evaluate(context.Background(), samples, 3)
	if err != nil {
		t.Fatal(err)
	}
	threshold := ev.Split.ZeroFMRThreshold
	fingers := map[string]*Enrolled{}
	var order []string
	for _, s := range samples {
		if s.Impression > 3 || s.Template == nil {
			continue
		}
		if fingers[s.Finger] == nil {
			fingers[s.Finger] = &Enrolled{}
			order = append(order, s.Finger)
		}
		fingers[s.Finger].impressions = append(fingers[s.Finger].impressions, Prepare(s.Template))
	}
	var gallery []Candidate
	for _, f := range order {
		gallery = append(gallery, Candidate{ID: f, Enrolled: fingers[f]})
	}
	for _, f := range order {
		for _, deg := range []float64{30, -30} {
			img := sampleImage(t, f+"_5")
			w := img.Bounds().Dx()
			shift := w / 4
			if deg < 0 {
				shift = -shift
			}
			probe, q, err := Extract(transform(img, deg, shift, 0), 500)
			if err != nil {
				t.Errorf("finger %s rotated %+.0f°: %v", f, deg, err)
				continue
			}
			hits, err := Identify(context.Background(), Prepare(probe), gallery)
			if err != nil {
				t.Fatal(err)
			}
			var own float64
			for _, h := range hits {
				if h.ID == f {
					own = h.Score
				}
			}
			t.Logf("finger %s rotated %+.0f°, shifted %+d px: quality %d, %d minutiae, own score %.4f (threshold %.4f), best other %s",
				f, deg, shift, q, len(probe.Minutiae), own, threshold, bestOther(hits, f))
			if hits[0].ID != f {
				t.Errorf("finger %s rotated %+.0f°: best match is %s (%.4f), own %.4f", f, deg, hits[0].ID, hits[0].Score, own)
			}
			if own < threshold {
				t.Errorf("finger %s rotated %+.0f°: own score %.4f below the zero-FMR threshold %.4f", f, deg, own, threshold)
			}
		}
	}
}

func bestOther(hits []Hit, own string) string {
	for _, h := range hits {
		if h.ID != own {
			return fmt.Sprintf("%s %.4f", h.ID, h.Score)
		}
	}
	return "none"
}

// Rotating the minutiae themselves (no image resampling) by up to ±80°
// leaves the score of a template against itself high: the cylinders are
// rotation invariant up to the angle quantisation of the record. (MCC pairs
// no minutiae whose directions differ by more than 90°, so a print turned
// further than that, which a sensor does not see, does not match.)
func TestCompareRotationInvariance(t *testing.T) {
	samples := multiImpression(t)
	a := samples[0].Template
	if a == nil {
		t.Skip("first print refused")
	}
	pa := Prepare(a)
	self := pa.Compare(pa)
	for _, deg := range []float64{-80, -45, -30, 30, 45, 80} {
		b := rotateTemplate(a, deg)
		s := pa.Compare(Prepare(b))
		t.Logf("rotated %+4.0f°: %.4f (unrotated %.4f)", deg, s, self)
		if s < 0.5*self {
			t.Errorf("rotated by %.0f°: score %.4f, less than half of %.4f", deg, s, self)
		}
	}
}

func rotateTemplate(t *Template, deg float64) *Template {
	r := deg * math.Pi / 180
	c, s := math.Cos(r), math.Sin(r)
	side := uint16(2 * math.Hypot(float64(t.Width), float64(t.Height)))
	out := &Template{Width: side, Height: side, Quality: t.Quality}
	cx, cy := float64(t.Width)/2, float64(t.Height)/2
	for _, m := range t.Minutiae {
		u, v := float64(m.X)-cx, float64(m.Y)-cy
		x, y := c*u-s*v+float64(side)/2, s*u+c*v+float64(side)/2
		// Image-frame rotation by +r is screen-clockwise, so the ISO
		// (counter-clockwise) angle decreases.
		a := uint8(int(math.Round(float64(m.Angle)-deg*256/360)) & 255)
		out.Minutiae = append(out.Minutiae, Minutia{X: uint16(x + 0.5), Y: uint16(y + 0.5), Angle: a, Kind: m.Kind, Quality: m.Quality})
	}
	return out
}

func TestEnrollAndIdentifyArguments(t *testing.T) {
	if _, err := Enroll([]*Template{{Width: 1, Height: 1}}); err == nil {
		t.Error("enrollment from one impression accepted")
	}
	if _, err := Enroll([]*Template{nil, nil, nil}); err == nil {
		t.Error("nil impressions accepted")
	}
	if _, err := Identify(context.Background(), nil, nil); err == nil {
		t.Error("nil probe accepted")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	e, err := Enroll([]*Template{{Width: 1, Height: 1}, {Width: 1, Height: 1}, {Width: 1, Height: 1}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Identify(ctx, Prepare(&Template{Width: 1, Height: 1}), []Candidate{{ID: "a", Enrolled: e}}); err == nil {
		t.Error("identify ignored a cancelled context")
	}
	// Empty templates score 0, never a match.
	if s := Compare(&Template{Width: 1, Height: 1}, &Template{Width: 1, Height: 1}); s != 0 {
		t.Errorf("empty templates score %v", s)
	}
}

// Identification among the sample fingers: every probe impression (4..8)
// is ranked first among the eight enrolled fingers.
func TestIdentifyRankOne(t *testing.T) {
	samples := multiImpression(t)
	en := map[string][]*Template{}
	var ids []string
	for _, s := range samples {
		if s.Impression <= 3 && s.Template != nil {
			if en[s.Finger] == nil {
				ids = append(ids, s.Finger)
			}
			en[s.Finger] = append(en[s.Finger], s.Template)
		}
	}
	var gallery []Candidate
	for _, id := range ids {
		e, err := Enroll(en[id])
		if err != nil {
			t.Fatalf("enroll %s: %v", id, err)
		}
		gallery = append(gallery, Candidate{ID: id, Enrolled: e})
	}
	wrong := 0
	for _, s := range samples {
		if s.Impression <= 3 || s.Template == nil {
			continue
		}
		hits, err := Identify(context.Background(), Prepare(s.Template), gallery)
		if err != nil {
			t.Fatal(err)
		}
		if hits[0].ID != s.Finger {
			wrong++
			t.Errorf("probe %s_%d: ranked %s first", s.Finger, s.Impression, hits[0].ID)
		}
	}
	t.Logf("rank-1 errors: %d of %d probes", wrong, 5*len(ids))
}

// A print scanned at another resolution is resampled to 500 dpi before
// extraction, so it matches its finger enrolled at 500 dpi: here the probe
// impression, downscaled 3:4 and declared as 375 dpi.
func TestOtherResolutionMatches(t *testing.T) {
	samples := multiImpression(t)
	var en []*Template
	var direct *Template
	for _, s := range samples {
		if s.Finger == "1" && s.Impression <= 3 {
			en = append(en, s.Template)
		}
		if s.Finger == "1" && s.Impression == 6 {
			direct = s.Template
		}
	}
	e, err := Enroll(en)
	if err != nil {
		t.Fatal(err)
	}
	src := sampleImage(t, "1_6")
	pix, w, h, err := grayPixels(src)
	if err != nil {
		t.Fatal(err)
	}
	small, err := resample(pix, w, h, 0.75)
	if err != nil {
		t.Fatal(err)
	}
	g := image.NewGray(image.Rect(0, 0, small.w, small.h))
	for i, v := range small.v {
		g.Pix[i] = uint8(v + 0.5)
	}
	probe, _, err := Extract(g, 375)
	if err != nil {
		t.Fatal(err)
	}
	s375, s500 := e.Score(Prepare(probe)), e.Score(Prepare(direct))
	t.Logf("finger 1 impression 6: score %.4f at 375 dpi, %.4f at 500 dpi", s375, s500)
	if s375 < 0.5*s500 {
		t.Errorf("at 375 dpi the score %.4f is less than half the 500 dpi score %.4f", s375, s500)
	}
}
