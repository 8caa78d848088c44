package quality

import (
	"math"

	"edge/internal/medimg"
)

// comparable reports whether a and b describe samples of the same kind.
func comparable(a, b *medimg.Image) bool {
	return a != nil && b != nil && a.CheckGeometry() == nil &&
		a.Width == b.Width && a.Height == b.Height && a.Frames == b.Frames &&
		a.Channels == b.Channels && a.BitsStored == b.BitsStored && a.Signed == b.Signed &&
		len(a.Pix) == a.Samples() && len(b.Pix) == len(a.Pix)
}

// MSE is the mean squared difference of the samples, NaN when a and b differ
// in geometry or sample kind.
func MSE(a, b *medimg.Image) float64 {
	if !comparable(a, b) {
		return math.NaN()
	}
	var s uint64
	for i, v := range a.Pix {
		d := int64(v) - int64(b.Pix[i])
		s += uint64(d * d)
	}
	return float64(s) / float64(len(a.Pix))
}

// PSNR is 10·log10(peak²/MSE) in dB with peak = 2^(bits stored) − 1: +Inf for
// identical images, NaN when they cannot be compared.
func PSNR(a, b *medimg.Image) float64 {
	mse := MSE(a, b)
	if math.IsNaN(mse) {
		return mse
	}
	if mse == 0 {
		return math.Inf(1)
	}
	p := a.Peak()
	return 10 * math.Log10(p*p/mse)
}

const (
	window = 11
	sigma  = 1.5
)

// SSIM is the mean structural similarity of a and b (see the package
// comment), 1 for identical images, NaN when they cannot be compared.
func SSIM(a, b *medimg.Image) float64 {
	if !comparable(a, b) {
		return math.NaN()
	}
	var kernel [window]float64
	for i := range kernel {
		d := float64(i - window/2)
		kernel[i] = math.Exp(-d * d / (2 * sigma * sigma))
	}
	peak := a.Peak()
	c1 := (0.01 * peak) * (0.01 * peak)
	c2 := (0.03 * peak) * (0.03 * peak)
	w, h, ch := a.Width, a.Height, a.Channels
	plane := w * h
	// Five filtered maps: μx, μy, E[x²], E[y²], E[xy].
	in := make([][]float64, 5)
	tmp := make([][]float64, 5)
	out := make([][]float64, 5)
	for j := range in {
		in[j] = make([]float64, plane)
		tmp[j] = make([]float64, plane)
		out[j] = make([]float64, plane)
	}
	wsum := make([]float64, plane)
	// The weight of the part of the window inside the image: the same for
	// every plane.
	for y := range h {
		for x := range w {
			var sy, sx float64
			for k := -window / 2; k <= window/2; k++ {
				if yy := y + k; yy >= 0 && yy < h {
					sy += kernel[k+window/2]
				}
				if xx := x + k; xx >= 0 && xx < w {
					sx += kernel[k+window/2]
				}
			}
			wsum[y*w+x] = sx * sy
		}
	}
	var total float64
	for f := range a.Frames {
		for c := range ch {
			for y := range h {
				for x := range w {
					i := ((f*h+y)*w+x)*ch + c
					va, vb := float64(a.Pix[i]), float64(b.Pix[i])
					q := y*w + x
					in[0][q], in[1][q] = va, vb
					in[2][q], in[3][q], in[4][q] = va*va, vb*vb, va*vb
				}
			}
			for j := range in {
				blur(in[j], tmp[j], out[j], w, h, &kernel)
			}
			for q := range plane {
				n := wsum[q]
				mx, my := out[0][q]/n, out[1][q]/n
				vx := out[2][q]/n - mx*mx
				vy := out[3][q]/n - my*my
				cxy := out[4][q]/n - mx*my
				total += ((2*mx*my + c1) * (2*cxy + c2)) / ((mx*mx + my*my + c1) * (vx + vy + c2))
			}
		}
	}
	return total / float64(a.Frames*ch*plane)
}

// blur filters src with the separable kernel, rows then columns, skipping
// taps outside the image.
func blur(src, tmp, dst []float64, w, h int, kernel *[window]float64) {
	for y := range h {
		for x := range w {
			var s float64
			for k := -window / 2; k <= window/2; k++ {
				if xx := x + k; xx >= 0 && xx < w {
					s += kernel[k+window/2] * src[y*w+xx]
				}
			}
			tmp[y*w+x] = s
		}
	}
	for y := range h {
		for x := range w {
			var s float64
			for k := -window / 2; k <= window/2; k++ {
				if yy := y + k; yy >= 0 && yy < h {
					s += kernel[k+window/2] * tmp[yy*w+x]
				}
			}
			dst[y*w+x] = s
		}
	}
}
