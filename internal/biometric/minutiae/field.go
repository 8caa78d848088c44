package minutiae

import (
	"math"
	"sort"
)

// blockSize is the side of the analysis blocks at WorkDPI: a little less
// than one ridge period, so orientation and segmentation follow the print
// closely without each block being dominated by noise.
const blockSize = 8

// integral is a summed-area table with one extra row and column of zeros.
type integral struct {
	w, h int
	s    []float64
}

func newIntegral(w, h int, at func(i int) float64) *integral {
	in := &integral{w: w, h: h, s: make([]float64, (w+1)*(h+1))}
	for y := 0; y < h; y++ {
		var row float64
		for x := 0; x < w; x++ {
			row += at(y*w + x)
			in.s[(y+1)*(w+1)+x+1] = in.s[y*(w+1)+x+1] + row
		}
	}
	return in
}

// box sums the rectangle [x0,x1)×[y0,y1), clipped to the image, and returns
// the sum and the number of pixels.
func (in *integral) box(x0, y0, x1, y1 int) (float64, int) {
	x0, y0 = max(x0, 0), max(y0, 0)
	x1, y1 = min(x1, in.w), min(y1, in.h)
	if x1 <= x0 || y1 <= y0 {
		return 0, 0
	}
	W := in.w + 1
	return in.s[y1*W+x1] - in.s[y0*W+x1] - in.s[y1*W+x0] + in.s[y0*W+x0], (x1 - x0) * (y1 - y0)
}

// field holds the block-level analysis of a print: the foreground mask,
// the ridge orientation (as a doubled-angle vector, smoothed), the
// coherence of the gradients, and the local contrast.
type field struct {
	bw, bh int
	fg     []bool
	vc, vs []float64 // smoothed doubled-angle vector of the ridge orientation
	coh    []float64 // gradient coherence in [0,1]
	std    []float64 // grey-level standard deviation
	clar   []float64 // ridge–valley clarity in [0,1], see clarity
}

// analyse computes gradients, segmentation and the orientation field.
func analyse(p *plane) *field {
	w, h := p.w, p.h
	gx := make([]float32, w*h)
	gy := make([]float32, w*h)
	// Gradients of a blurred copy: sensor noise would otherwise dominate
	// the structure tensor of a faint print.
	bl := blur(p)
	for y := 1; y < h-1; y++ {
		for x := 1; x < w-1; x++ {
			i := y*w + x
			a, b, c := bl.v[i-w-1], bl.v[i-w], bl.v[i-w+1]
			d, f := bl.v[i-1], bl.v[i+1]
			g, hh, k := bl.v[i+w-1], bl.v[i+w], bl.v[i+w+1]
			gx[i] = float32(float32(c+2*f+k) - float32(a+2*d+g))
			gy[i] = float32(float32(g+2*hh+k) - float32(a+2*b+c))
		}
	}
	ixx := newIntegral(w, h, func(i int) float64 { return float64(gx[i]) * float64(gx[i]) })
	iyy := newIntegral(w, h, func(i int) float64 { return float64(gy[i]) * float64(gy[i]) })
	ixy := newIntegral(w, h, func(i int) float64 { return float64(gx[i]) * float64(gy[i]) })
	iv := newIntegral(w, h, func(i int) float64 { return float64(p.v[i]) })
	iv2 := newIntegral(w, h, func(i int) float64 { return float64(p.v[i]) * float64(p.v[i]) })

	bw, bh := (w+blockSize-1)/blockSize, (h+blockSize-1)/blockSize
	f := &field{bw: bw, bh: bh, fg: make([]bool, bw*bh), vc: make([]float64, bw*bh), vs: make([]float64, bw*bh),
		coh: make([]float64, bw*bh), std: make([]float64, bw*bh)}
	const rOri, rVar = 12, 8
	rc := make([]float64, bw*bh)
	rs := make([]float64, bw*bh)
	for by := 0; by < bh; by++ {
		for bx := 0; bx < bw; bx++ {
			cx, cy := bx*blockSize+blockSize/2, by*blockSize+blockSize/2
			sxx, _ := ixx.box(cx-rOri, cy-rOri, cx+rOri, cy+rOri)
			syy, _ := iyy.box(cx-rOri, cy-rOri, cx+rOri, cy+rOri)
			sxy, _ := ixy.box(cx-rOri, cy-rOri, cx+rOri, cy+rOri)
			b := by*bw + bx
			rc[b], rs[b] = sxx-syy, 2*sxy
			if e := sxx + syy; e > 0 {
				f.coh[b] = math.Sqrt(rc[b]*rc[b]+rs[b]*rs[b]) / e
			}
			s1, n := iv.box(cx-rVar, cy-rVar, cx+rVar, cy+rVar)
			s2, _ := iv2.box(cx-rVar, cy-rVar, cx+rVar, cy+rVar)
			if n > 0 {
				m := s1 / float64(n)
				f.std[b] = math.Sqrt(math.Max(s2/float64(n)-m*m, 0))
			}
		}
	}
	f.segment()
	// Smooth the doubled-angle vectors over 5×5 blocks (Gaussian, σ = 1
	// block), normalising each block's vector first so strong-contrast blocks
	// do not dominate their neighbours.
	wk := [5]float64{0.0545, 0.2442, 0.4026, 0.2442, 0.0545}
	for b := range rc {
		if m := math.Hypot(rc[b], rs[b]); m > 0 {
			rc[b], rs[b] = rc[b]/m*f.coh[b], rs[b]/m*f.coh[b]
		}
	}
	for by := 0; by < bh; by++ {
		for bx := 0; bx < bw; bx++ {
			var c, s float64
			for dy := -2; dy <= 2; dy++ {
				yy := by + dy
				if yy < 0 || yy >= bh {
					continue
				}
				for dx := -2; dx <= 2; dx++ {
					xx := bx + dx
					if xx < 0 || xx >= bw {
						continue
					}
					k := wk[dy+2] * wk[dx+2]
					c += k * rc[yy*bw+xx]
					s += k * rs[yy*bw+xx]
				}
			}
			f.vc[by*bw+bx], f.vs[by*bw+bx] = c, s
		}
	}
	return f
}

// segment marks foreground blocks by contrast, then cleans the mask: a
// majority vote, holes filled, only the largest region kept.
func (f *field) segment() {
	n := len(f.std)
	sorted := append([]float64(nil), f.std...)
	sort.Float64s(sorted)
	thr := math.Max(8, 0.25*sorted[n*9/10])
	raw := make([]bool, n)
	for b, s := range f.std {
		raw[b] = s > thr
	}
	bw, bh := f.bw, f.bh
	for by := 0; by < bh; by++ {
		for bx := 0; bx < bw; bx++ {
			var on, all int
			for dy := -1; dy <= 1; dy++ {
				for dx := -1; dx <= 1; dx++ {
					xx, yy := bx+dx, by+dy
					if xx < 0 || yy < 0 || xx >= bw || yy >= bh {
						continue
					}
					all++
					if raw[yy*bw+xx] {
						on++
					}
				}
			}
			f.fg[by*bw+bx] = 2*on > all
		}
	}
	// Background reachable from the border stays background; enclosed
	// background (a pale patch inside the print) becomes foreground.
	outside := make([]bool, n)
	var stack []int
	for b := 0; b < n; b++ {
		bx, by := b%bw, b/bw
		if !f.fg[b] && (bx == 0 || by == 0 || bx == bw-1 || by == bh-1) {
			outside[b] = true
			stack = append(stack, b)
		}
	}
	for len(stack) > 0 {
		b := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		bx, by := b%bw, b/bw
		for _, d := range [4][2]int{{1, 0}, {-1, 0}, {0, 1}, {0, -1}} {
			xx, yy := bx+d[0], by+d[1]
			if xx < 0 || yy < 0 || xx >= bw || yy >= bh {
				continue
			}
			if q := yy*bw + xx; !f.fg[q] && !outside[q] {
				outside[q] = true
				stack = append(stack, q)
			}
		}
	}
	for b := range f.fg {
		f.fg[b] = !outside[b]
	}
	// Keep the largest 4-connected region.
	label := make([]int, n)
	best, bestSize, next := 0, 0, 0
	for b := 0; b < n; b++ {
		if !f.fg[b] || label[b] != 0 {
			continue
		}
		next++
		size := 0
		stack = append(stack[:0], b)
		label[b] = next
		for len(stack) > 0 {
			q := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			size++
			qx, qy := q%bw, q/bw
			for _, d := range [4][2]int{{1, 0}, {-1, 0}, {0, 1}, {0, -1}} {
				xx, yy := qx+d[0], qy+d[1]
				if xx < 0 || yy < 0 || xx >= bw || yy >= bh {
					continue
				}
				if r := yy*bw + xx; f.fg[r] && label[r] == 0 {
					label[r] = next
					stack = append(stack, r)
				}
			}
		}
		if size > bestSize {
			best, bestSize = next, size
		}
	}
	for b := range f.fg {
		f.fg[b] = label[b] == best && best != 0
	}
}

// orientation returns the ridge direction in [0, π) at pixel (x, y), from
// the bilinearly interpolated doubled-angle field. Image axes: x right,
// y down; angles grow clockwise on screen.
func (f *field) orientation(x, y float64) float64 {
	fx := x/blockSize - 0.5
	fy := y/blockSize - 0.5
	x0, y0 := int(math.Floor(fx)), int(math.Floor(fy))
	tx, ty := fx-float64(x0), fy-float64(y0)
	var c, s float64
	for j := 0; j <= 1; j++ {
		for i := 0; i <= 1; i++ {
			bx, by := min(max(x0+i, 0), f.bw-1), min(max(y0+j, 0), f.bh-1)
			k := (1 - tx + float64(i)*(2*tx-1)) * (1 - ty + float64(j)*(2*ty-1))
			c += k * f.vc[by*f.bw+bx]
			s += k * f.vs[by*f.bw+bx]
		}
	}
	// The vector is of the gradient's doubled angle; ridges run across it.
	t := 0.5*math.Atan2(s, c) + math.Pi/2
	if t >= math.Pi {
		t -= math.Pi
	}
	return t
}

// sigLen is the length, in pixels across the ridges, of the grey-level
// signature of a block: about three ridge periods.
const sigLen = 32

// wavelength estimates the ridge period (pixels) as the median over
// foreground blocks of the peak spacing along the ridge normal, and returns
// the share of foreground blocks where a period could be measured. It also
// fills f.clar.
func wavelength(p *plane, f *field) (float64, float64) {
	var periods []float64
	nfg := 0
	const L, half = sigLen, 4
	sigs := make([][]float64, len(f.fg))
	for by := 0; by < f.bh; by++ {
		for bx := 0; bx < f.bw; bx++ {
			b := by*f.bw + bx
			if !f.fg[b] {
				continue
			}
			nfg++
			cx, cy := float64(bx*blockSize+blockSize/2), float64(by*blockSize+blockSize/2)
			t := f.orientation(cx, cy)
			ux, uy := math.Cos(t), math.Sin(t) // along the ridge
			nx, ny := -uy, ux                  // across
			ok := true
			sig := make([]float64, L)
			for k := 0; k < L && ok; k++ {
				d := float64(k - L/2)
				var s float64
				for j := -half; j <= half; j++ {
					x := cx + d*nx + float64(j)*ux
					y := cy + d*ny + float64(j)*uy
					v, in := bilinear(p, x, y)
					if !in {
						ok = false
						break
					}
					s += v
				}
				sig[k] = s
			}
			if !ok {
				continue
			}
			sigs[b] = sig
			var mean float64
			for _, v := range sig {
				mean += v
			}
			mean /= L
			var peaks []int
			for k := 1; k < L-1; k++ {
				if sig[k] > mean && sig[k] >= sig[k-1] && sig[k] > sig[k+1] {
					peaks = append(peaks, k)
				}
			}
			if len(peaks) < 2 {
				continue
			}
			per := float64(peaks[len(peaks)-1]-peaks[0]) / float64(len(peaks)-1)
			if per >= 4 && per <= 20 {
				periods = append(periods, per)
			}
		}
	}
	if len(periods) == 0 || nfg == 0 {
		return 0, 0
	}
	sort.Float64s(periods)
	period := periods[len(periods)/2]
	f.clar = make([]float64, len(f.fg))
	for b, sig := range sigs {
		if sig != nil {
			f.clar[b] = clarity(sig, period)
		}
	}
	return period, float64(len(periods)) / float64(nfg)
}

// clarity measures how much a block's signature across the ridges looks
// like ridges and valleys of the print's period: its normalised
// autocorrelation one period apart (high for ridges, and for any smooth
// shading) minus that half a period apart (low for ridges only), halved.
// Parallel ridges score near 1; noise, flat shading and edges near 0.
func clarity(sig []float64, period float64) float64 {
	var m float64
	for _, v := range sig {
		m += v
	}
	m /= float64(len(sig))
	ac := func(lag float64) float64 {
		// Linear interpolation between integer lags.
		l0 := int(lag)
		t := lag - float64(l0)
		at := func(l int) float64 {
			var s, e float64
			for i := 0; i+l < len(sig); i++ {
				s += (sig[i] - m) * (sig[i+l] - m)
			}
			for _, v := range sig {
				e += (v - m) * (v - m)
			}
			if e == 0 {
				return 0
			}
			return s / e * float64(len(sig)) / float64(len(sig)-l)
		}
		return at(l0)*(1-t) + at(l0+1)*t
	}
	// The block's own period, near the print's: ridges spread and narrow
	// across a finger.
	best := 0.0
	for l := math.Max(3, 0.6*period); l <= math.Min(float64(len(sig))/2, 1.6*period); l += 0.5 {
		best = math.Max(best, (ac(l)-ac(l/2))/2)
	}
	return math.Min(best, 1)
}

func bilinear(p *plane, x, y float64) (float64, bool) {
	if x < 0 || y < 0 || x > float64(p.w-1) || y > float64(p.h-1) {
		return 0, false
	}
	x0, y0 := int(x), int(y)
	x1, y1 := min(x0+1, p.w-1), min(y0+1, p.h-1)
	tx, ty := x-float64(x0), y-float64(y0)
	a := float64(p.v[y0*p.w+x0])
	b := float64(p.v[y0*p.w+x1])
	c := float64(p.v[y1*p.w+x0])
	d := float64(p.v[y1*p.w+x1])
	return (a*(1-tx)+b*tx)*(1-ty) + (c*(1-tx)+d*tx)*ty, true
}
