package minutiae

import "math"

// gaborAngles is the number of orientations in the filter bank: 11.25°
// steps, finer than the orientation field can be trusted to.
const gaborAngles = 16

// enhance normalises the contrast locally and filters each foreground pixel
// with the even-symmetric Gabor filter tuned to the local ridge orientation
// and the print's ridge period (Hong, Wan and Jain 1998). It returns the
// binary ridge map (1 = ridge) and the per-pixel foreground mask.
func enhance(p *plane, f *field, period float64) (ridge, mask []uint8) {
	w, h := p.w, p.h
	mask = make([]uint8, w*h)
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			if f.fg[(y/blockSize)*f.bw+x/blockSize] {
				mask[y*w+x] = 1
			}
		}
	}
	// Zero mean, unit variance over a ~one-period neighbourhood, so faint
	// and dark regions reach the filter with the same contrast.
	iv := newIntegral(w, h, func(i int) float64 { return float64(p.v[i]) })
	iv2 := newIntegral(w, h, func(i int) float64 { return float64(p.v[i]) * float64(p.v[i]) })
	r := int(period + 0.5)
	norm := make([]float32, w*h)
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			i := y*w + x
			if mask[i] == 0 {
				continue
			}
			s1, n := iv.box(x-r, y-r, x+r+1, y+r+1)
			s2, _ := iv2.box(x-r, y-r, x+r+1, y+r+1)
			m := s1 / float64(n)
			sd := math.Sqrt(math.Max(s2/float64(n)-m*m, 0))
			if sd < 1 {
				sd = 1
			}
			norm[i] = float32((float64(p.v[i]) - m) / sd)
		}
	}
	// The filter bank: σ ≈ 0.45 period both ways, as Hong et al. use σ = 4
	// for a period near 9 pixels; radius 2σ holds 95 % of the envelope,
	// and the kernel is made zero-mean after truncation.
	sigma := 0.45 * period
	rad := int(math.Ceil(2 * sigma))
	side := 2*rad + 1
	bank := make([][]float32, gaborAngles)
	for a := range bank {
		t := float64(a) * math.Pi / gaborAngles // ridge direction
		ux, uy := math.Cos(t), math.Sin(t)
		k := make([]float64, side*side)
		var mean float64
		for j := -rad; j <= rad; j++ {
			for i := -rad; i <= rad; i++ {
				along := float64(i)*ux + float64(j)*uy
				across := -float64(i)*uy + float64(j)*ux
				v := math.Exp(-(along*along+across*across)/(2*sigma*sigma)) * math.Cos(2*math.Pi*across/period)
				k[(j+rad)*side+i+rad] = v
				mean += v
			}
		}
		// A zero-mean kernel answers a flat patch with zero.
		mean /= float64(side * side)
		kk := make([]float32, side*side)
		for i := range k {
			kk[i] = float32(k[i] - mean)
		}
		bank[a] = kk
	}
	// The filter cannot reach past the image edge: a band of its radius is
	// not print, as far as minutiae are concerned.
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			if x < rad || y < rad || x >= w-rad || y >= h-rad {
				mask[y*w+x] = 0
			}
		}
	}
	ridge = make([]uint8, w*h)
	for y := rad; y < h-rad; y++ {
		for x := rad; x < w-rad; x++ {
			i := y*w + x
			if mask[i] == 0 {
				continue
			}
			t := f.orientation(float64(x), float64(y))
			a := int(t/(math.Pi/gaborAngles)+0.5) % gaborAngles
			k := bank[a]
			if dot(norm, k, (y-rad)*w+x-rad, w, side) > 0 {
				ridge[i] = 1
			}
		}
	}
	return ridge, mask
}

// dot is the correlation of the side×side kernel k with the image at
// offset o (row stride w). Four accumulators keep the adder busy; the
// explicit float32 conversions forbid fused multiply-adds, so every
// architecture rounds the same way.
func dot(img, k []float32, o, w, side int) float32 {
	var s0, s1, s2, s3 float32
	for j := 0; j < side; j++ {
		row := img[o+j*w : o+j*w+side]
		kr := k[j*side : j*side+side]
		kr = kr[:len(row)]
		q := 0
		for ; q+4 <= len(row); q += 4 {
			s0 = float32(s0 + float32(row[q]*kr[q]))
			s1 = float32(s1 + float32(row[q+1]*kr[q+1]))
			s2 = float32(s2 + float32(row[q+2]*kr[q+2]))
			s3 = float32(s3 + float32(row[q+3]*kr[q+3]))
		}
		for ; q < len(row); q++ {
			s0 = float32(s0 + float32(row[q]*kr[q]))
		}
	}
	return float32(float32(s0+s1) + float32(s2+s3))
}
