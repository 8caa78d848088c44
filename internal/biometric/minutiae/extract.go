package minutiae

import (
	"errors"
	"fmt"
	"image"
	"math"
)

// Kind is a minutia's type, with the values of ISO/IEC 19794-2.
type Kind uint8

const (
	Other       Kind = 0
	Ending      Kind = 1
	Bifurcation Kind = 2
)

// Minutia is one ridge ending or bifurcation. X and Y are pixels of the
// print at WorkDPI, origin top left, y down. Angle is in units of 360/256
// degrees, counter-clockwise from the x axis as seen on screen (ISO/IEC
// 19794-2:2005); for an ending it points from the end into its ridge, for a
// bifurcation along the valley between its two branches.
type Minutia struct {
	X, Y    uint16
	Angle   uint8
	Kind    Kind
	Quality uint8 // 1..100
}

// MaxMinutiae bounds a template: the best-quality minutiae are kept. 96
// minutiae make a 606-byte record, well inside 2 KiB, and a print at 500 dpi
// rarely holds more than 70 true ones.
const MaxMinutiae = 96

// Template is what the matcher compares: the minutiae of one impression.
type Template struct {
	Width, Height uint16 // image size at WorkDPI
	Quality       uint8  // image quality, 0..100
	Minutiae      []Minutia
}

// Thresholds below which a print is refused as "no usable fingerprint".
const (
	MinQuality  = 20
	MinMinutiae = 8
)

// ErrNoFingerprint is what every QualityError matches with errors.Is.
var ErrNoFingerprint = errors.New("no usable fingerprint")

// QualityError says a print cannot be matched, and why, with its quality
// score.
type QualityError struct {
	Quality  int    // 0..100
	Minutiae int    // minutiae found
	Reason   string // what failed
}

func (e *QualityError) Error() string {
	return fmt.Sprintf("minutiae: no usable fingerprint (quality %d/100, %d minutiae): %s", e.Quality, e.Minutiae, e.Reason)
}

func (e *QualityError) Is(target error) bool { return target == ErrNoFingerprint }

// Extract finds the minutiae of a print scanned at dpi (0 means 500). It
// returns the template and the image quality; a print that cannot be matched
// gives a *QualityError (errors.Is(err, ErrNoFingerprint)) with the quality.
func Extract(img image.Image, dpi int) (*Template, int, error) {
	if img == nil {
		return nil, 0, errors.New("minutiae: nil image")
	}
	pix, w, h, err := grayPixels(img)
	if err != nil {
		return nil, 0, err
	}
	return ExtractGray(pix, w, h, dpi)
}

// ExtractGray is Extract on 8-bit grey pixels, row-major, w×h.
func ExtractGray(pix []uint8, w, h, dpi int) (*Template, int, error) {
	t, _, err := extract(pix, w, h, dpi)
	if err != nil {
		return nil, qualityOf(err), err
	}
	return t, int(t.Quality), nil
}

func qualityOf(err error) int {
	var qe *QualityError
	if errors.As(err, &qe) {
		return qe.Quality
	}
	return 0
}

// stages keeps the measurements extraction bases its decisions on.
type stages struct {
	p       *plane
	f       *field
	period  float64 // ridge period, pixels at WorkDPI
	share   float64 // share of foreground blocks with a measurable period
	clarity float64 // mean ridge–valley clarity of the foreground
	quality int
}

func extract(pix []uint8, w, h, dpi int) (*Template, *stages, error) {
	if dpi == 0 {
		dpi = WorkDPI
	}
	if dpi < MinDPI || dpi > MaxDPI {
		return nil, nil, fmt.Errorf("minutiae: resolution %d dpi, want %d..%d", dpi, MinDPI, MaxDPI)
	}
	if w < MinSide || h < MinSide || w > MaxSide || h > MaxSide {
		return nil, nil, fmt.Errorf("minutiae: image is %d×%d, want %d..%d on each side", w, h, MinSide, MaxSide)
	}
	if len(pix) != w*h {
		return nil, nil, fmt.Errorf("minutiae: %d pixels for a %d×%d image", len(pix), w, h)
	}
	if dpi == WorkDPI && w*h > MaxWorkPixels {
		return nil, nil, fmt.Errorf("minutiae: image is %d×%d, more than %d pixels", w, h, MaxWorkPixels)
	}
	// Work on ridges as bright: invert, and scale to 500 dpi.
	inv := make([]uint8, len(pix))
	for i, v := range pix {
		inv[i] = 255 - v
	}
	var p *plane
	if dpi == WorkDPI {
		p = newPlane(w, h)
		for i, v := range inv {
			p.v[i] = float32(v)
		}
	} else {
		var err error
		if p, err = resample(inv, w, h, float64(WorkDPI)/float64(dpi)); err != nil {
			return nil, nil, err
		}
	}
	st := &stages{p: p}
	st.f = analyse(p)
	f := st.f
	var fgN int
	var cohSum float64
	for b, on := range f.fg {
		if on {
			fgN++
			cohSum += f.coh[b]
		}
	}
	area := float64(fgN * blockSize * blockSize)
	if fgN == 0 {
		return nil, st, &QualityError{Reason: "no ridges: the image is blank or flat"}
	}
	st.period, st.share = wavelength(p, f)
	meanCoh := cohSum / float64(fgN)
	var clarSum float64
	for b, on := range f.fg {
		if on && f.clar != nil {
			clarSum += f.clar[b]
		}
	}
	st.clarity = clarSum / float64(fgN)
	st.quality = imageQuality(meanCoh, st.clarity, area, st.share)
	if st.period == 0 {
		return nil, st, &QualityError{Quality: st.quality, Reason: "no ridge period could be measured"}
	}
	if st.quality < MinQuality {
		return nil, st, &QualityError{Quality: st.quality, Reason: fmt.Sprintf("ridge flow too weak or area too small (coherence %.2f, clarity %.2f, %.0f mm²)", meanCoh, st.clarity, area/(WorkDPI/25.4)/(WorkDPI/25.4))}
	}
	ridge, mask := enhance(p, f, st.period)
	thin(ridge, p.w, p.h)
	inner := erodeMask(mask, p.w, p.h, int(0.8*st.period+0.5))
	cs := detect(ridge, inner, p.w, p.h, f, st.period)
	if len(cs) > MaxMinutiae {
		cs = cs[:MaxMinutiae]
	}
	t := &Template{Width: uint16(p.w), Height: uint16(p.h), Quality: uint8(st.quality)}
	for _, c := range cs {
		// Screen counter-clockwise is the negated image-frame angle.
		a := int(math.Floor(-c.dir/(2*math.Pi)*256+0.5)) & 255
		q := int(c.q*100 + 0.5)
		t.Minutiae = append(t.Minutiae, Minutia{X: uint16(c.x), Y: uint16(c.y), Angle: uint8(a), Kind: c.kind, Quality: uint8(min(max(q, 1), 100))})
	}
	if len(cs) < MinMinutiae {
		return nil, st, &QualityError{Quality: st.quality, Minutiae: len(cs), Reason: fmt.Sprintf("%d minutiae, want at least %d", len(cs), MinMinutiae)}
	}
	return t, st, nil
}

// imageQuality scores a print 0..100 from its mean ridge-flow coherence,
// its ridge–valley clarity, its foreground area and the share of blocks
// with a measurable ridge period: noise has no coherent flow, shading and
// edges no ridges and valleys, a smudge no period, a fingertip edge no area.
func imageQuality(coh, clar, area, share float64) int {
	clamp := func(v float64) float64 { return math.Min(math.Max(v, 0), 1) }
	const fullArea = 150 * 150 // px² at 500 dpi, about 58 mm²
	q := clamp((coh-0.15)/0.45) * clamp((clar-0.1)/0.4) * clamp(area/fullArea) * clamp(share/0.6)
	return int(100*q + 0.5)
}

// erodeMask keeps the pixels whose whole (2r+1)² neighbourhood is inside
// the mask, so minutiae at the print's edge (where ridges are cut) go.
func erodeMask(mask []uint8, w, h, r int) []uint8 {
	in := newIntegral(w, h, func(i int) float64 { return float64(mask[i]) })
	out := make([]uint8, w*h)
	full := (2*r + 1) * (2*r + 1)
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			if mask[y*w+x] == 0 {
				continue
			}
			s, n := in.box(x-r, y-r, x+r+1, y+r+1)
			if n == full && int(s) == full {
				out[y*w+x] = 1
			}
		}
	}
	return out
}

// blur filters with the separable binomial kernel [1 4 6 4 1]/16, edges
// clamped.
func blur(p *plane) *plane {
	w, h := p.w, p.h
	tmp := newPlane(w, h)
	out := newPlane(w, h)
	k := [5]float32{1.0 / 16, 4.0 / 16, 6.0 / 16, 4.0 / 16, 1.0 / 16}
	for y := 0; y < h; y++ {
		row := p.v[y*w : (y+1)*w]
		for x := 0; x < w; x++ {
			var s float32
			for j := -2; j <= 2; j++ {
				s = float32(s + float32(k[j+2]*row[min(max(x+j, 0), w-1)]))
			}
			tmp.v[y*w+x] = s
		}
	}
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			var s float32
			for j := -2; j <= 2; j++ {
				s = float32(s + float32(k[j+2]*tmp.v[min(max(y+j, 0), h-1)*w+x]))
			}
			out.v[y*w+x] = s
		}
	}
	return out
}
