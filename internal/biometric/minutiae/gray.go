package minutiae

import (
	"fmt"
	"image"
	"image/color"
)

// Bounds on what Extract accepts. The largest capture in use is 1151 pixels
// long; MaxSide leaves room for a 1000 dpi reader of the same length.
// MaxWorkPixels bounds the print at 500 dpi (5 × 5 cm, twice a fingertip
// each way), which sets the working memory: about 80 bytes a pixel (float
// planes and summed-area tables), so at most about 85 MiB; a 256×288 sensor
// image allocates about 8 MiB in all.
const (
	MaxSide       = 2400
	MaxWorkPixels = 1 << 20
	MinSide       = 32
	MinDPI        = 250
	MaxDPI        = 1500
	// WorkDPI is the resolution every print is resampled to before
	// extraction, so that all thresholds are in one physical unit.
	WorkDPI = 500
)

// grayPixels copies img into 8-bit luminance, row by row.
func grayPixels(img image.Image) (pix []uint8, w, h int, err error) {
	b := img.Bounds()
	w, h = b.Dx(), b.Dy()
	if w < MinSide || h < MinSide || w > MaxSide || h > MaxSide {
		return nil, 0, 0, fmt.Errorf("minutiae: image is %d×%d, want %d..%d on each side", w, h, MinSide, MaxSide)
	}
	pix = make([]uint8, w*h)
	switch m := img.(type) {
	case *image.Gray:
		for y := 0; y < h; y++ {
			copy(pix[y*w:(y+1)*w], m.Pix[(y)*m.Stride:(y)*m.Stride+w])
		}
	case *image.Paletted:
		lut := make([]uint8, 256)
		for i, c := range m.Palette {
			if i < 256 {
				lut[i] = color.GrayModel.Convert(c).(color.Gray).Y
			}
		}
		for y := 0; y < h; y++ {
			row := m.Pix[y*m.Stride : y*m.Stride+w]
			for x, v := range row {
				pix[y*w+x] = lut[v]
			}
		}
	default:
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				pix[y*w+x] = color.GrayModel.Convert(img.At(b.Min.X+x, b.Min.Y+y)).(color.Gray).Y
			}
		}
	}
	return pix, w, h, nil
}

// plane is a float32 image, row-major.
type plane struct {
	w, h int
	v    []float32
}

func newPlane(w, h int) *plane { return &plane{w: w, h: h, v: make([]float32, w*h)} }

// resample scales 8-bit pixels by s with bilinear interpolation. Fixed
// arithmetic order keeps the result identical on every architecture.
func resample(pix []uint8, w, h int, s float64) (*plane, error) {
	nw, nh := int(float64(w)*s+0.5), int(float64(h)*s+0.5)
	if nw < MinSide || nh < MinSide || nw > MaxSide || nh > MaxSide || nw*nh > MaxWorkPixels {
		return nil, fmt.Errorf("minutiae: image is %d×%d at %d dpi, want %d..%d on each side and at most %d pixels", nw, nh, WorkDPI, MinSide, MaxSide, MaxWorkPixels)
	}
	p := newPlane(nw, nh)
	for y := 0; y < nh; y++ {
		fy := (float64(y)+0.5)/s - 0.5
		y0 := int(fy)
		if fy < 0 {
			y0, fy = 0, 0
		}
		if y0 > h-2 {
			y0 = h - 2
		}
		ty := float32(fy - float64(y0))
		if ty > 1 {
			ty = 1
		}
		for x := 0; x < nw; x++ {
			fx := (float64(x)+0.5)/s - 0.5
			x0 := int(fx)
			if fx < 0 {
				x0, fx = 0, 0
			}
			if x0 > w-2 {
				x0 = w - 2
			}
			tx := float32(fx - float64(x0))
			if tx > 1 {
				tx = 1
			}
			a := float32(pix[y0*w+x0])
			b := float32(pix[y0*w+x0+1])
			c := float32(pix[(y0+1)*w+x0])
			d := float32(pix[(y0+1)*w+x0+1])
			top := float32(a + float32(tx*float32(b-a)))
			bot := float32(c + float32(tx*float32(d-c)))
			p.v[y*nw+x] = float32(top + float32(ty*float32(bot-top)))
		}
	}
	return p, nil
}
