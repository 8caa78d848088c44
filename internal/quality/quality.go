package quality

import (
	"math"
	"runtime"

	"edge/internal/medimg"
	"edge/internal/par"
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
	// The sums are integers, so how the pieces are shared never changes them.
	var sq uint64
	sums := make([]uint64, par.PieceCount(len(a.Pix)))
	par.Pieces(len(a.Pix), runtime.GOMAXPROCS(0), func(_, lo, hi int) {
		sums[lo/par.Piece] = sumSquares(a.Pix[lo:hi], b.Pix[lo:hi])
	})
	for _, v := range sums {
		sq += v
	}
	return float64(sq) / float64(len(a.Pix))
}

func sumSquares(a, b []int32) uint64 {
	var s uint64
	b = b[:len(a)]
	for i, v := range a {
		d := int64(v) - int64(b[i])
		s += uint64(d * d)
	}
	return s
}

// bandRows is how many rows of w samples one goroutine's share of a scan
// by whole rows takes: about a piece (see par.Piece).
func bandRows(w int) int { return max(1, par.Piece/w) }

// PSNR is 10·log10(peak²/MSE) in dB with peak = 2^(bits stored) − 1: +Inf for
// identical images, NaN when they cannot be compared.
func PSNR(a, b *medimg.Image) float64 {
	return psnr(a, MSE(a, b))
}

func psnr(a *medimg.Image, mse float64) float64 {
	if math.IsNaN(mse) {
		return mse
	}
	if mse == 0 {
		return math.Inf(1)
	}
	p := a.Peak()
	return 10 * math.Log10(p*p/mse)
}

// Measure returns PSNR and SSIM together, as PSNR and SSIM would, from one
// scan of the two images.
func Measure(a, b *medimg.Image) (psnrDB, ssim float64) {
	if !comparable(a, b) {
		return math.NaN(), math.NaN()
	}
	sq, s := measure(a, b)
	return psnr(a, float64(sq)/float64(len(a.Pix))), s
}

const (
	window = 11
	half   = window / 2
	sigma  = 1.5
	// tile is the side of the tiles of window centres SSIM evaluates
	// together; a tile none of whose windows holds a changed sample is
	// exactly 1 and is skipped. Up to maxRun changed tiles one above the
	// other are one block: a block filters the rows of its window's reach
	// above and below once, so a tall block repeats less of that work.
	tile   = 8
	maxRun = 8
)

// SSIM is the mean structural similarity of a and b (see the package
// comment), 1 for identical images, NaN when they cannot be compared.
//
// A window in which a and b agree sample for sample has SSIM exactly 1 (the
// two means, variances and the covariance are the same floats, and the
// formula's numerator and denominator then agree bit for bit), so only the
// windows that hold a changed sample are computed, block by block, and the
// memory is a few blocks' worth and a byte for every eight samples of a
// frame (which tiles a change reaches). A marked image
// differs from its original in a small share of its samples, so the gate
// costs little more than comparing the two.
func SSIM(a, b *medimg.Image) float64 {
	if !comparable(a, b) {
		return math.NaN()
	}
	_, s := measure(a, b)
	return s
}

// measure returns the sum of squared differences of comparable a and b and
// their SSIM.
func measure(a, b *medimg.Image) (sumsq uint64, ssim float64) {
	var s ssimState
	s.init(a)
	workers := runtime.GOMAXPROCS(0)
	states := make([]ssimState, workers)
	for j := range states {
		// The kernel and border weights are shared; each goroutine has
		// its own block scratch.
		states[j] = s
		if j > 0 {
			states[j].scratch()
		}
	}
	var jobs []blockJob
	var sums []float64
	w, h, ch := a.Width, a.Height, a.Channels
	tw, th := (w+tile-1)/tile, (h+tile-1)/tile
	// reach[(y·ch + c)·tw + tx] says that a change in row y, channel c,
	// falls within half a window of tile column tx; dirty[(ty·ch + c)·tw +
	// tx] that some window centre of tile (tx, ty) sees a change. Both are
	// made in parallel, each goroutine writing rows of its own.
	reach := make([]uint8, h*ch*tw)
	dirty := make([]uint8, th*ch*tw)
	band := bandRows(w * ch)
	sq := make([]uint64, (h+band-1)/band)
	var total float64
	unchanged := 0
	fs := w * h * ch
	for f := range a.Frames {
		base := f * fs
		pa, pb := a.Pix[base:base+fs], b.Pix[base:base+fs]
		par.Run(len(sq), workers, func(_, j int) {
			y0, y1 := j*band, min((j+1)*band, h)
			clear(reach[y0*ch*tw : y1*ch*tw])
			var sum uint64
			for y := y0; y < y1; y++ {
				ra, rb := pa[y*w*ch:(y+1)*w*ch], pb[y*w*ch:(y+1)*w*ch]
				rb = rb[:len(ra)]
				for i, v := range ra {
					d := int64(v) - int64(rb[i])
					if d == 0 {
						continue
					}
					sum += uint64(d * d)
					c, x := i%ch, i/ch
					rr := reach[(y*ch+c)*tw:]
					for tx := max(0, x-half) / tile; tx <= min(w-1, x+half)/tile; tx++ {
						rr[tx] = 1
					}
				}
			}
			sq[j] = sum
		})
		for _, v := range sq {
			sumsq += v
		}
		par.Run(th, workers, func(_, ty int) {
			d := dirty[ty*ch*tw : (ty+1)*ch*tw]
			clear(d)
			// Every window centre within half of a change sees it.
			for y := max(0, ty*tile-half); y < min(h, ty*tile+tile+half); y++ {
				for k, v := range reach[y*ch*tw : (y+1)*ch*tw] {
					d[k] |= v
				}
			}
		})
		jobs = jobs[:0]
		for c := range ch {
			for tx := range tw {
				x0, x1 := tx*tile, min(tx*tile+tile, w)
				for ty := 0; ty < th; {
					y0 := ty * tile
					if dirty[(ty*ch+c)*tw+tx] == 0 {
						unchanged += (x1 - x0) * (min(y0+tile, h) - y0)
						ty++
						continue
					}
					run := 1
					for run < maxRun && ty+run < th && dirty[((ty+run)*ch+c)*tw+tx] != 0 {
						run++
					}
					ty += run
					jobs = append(jobs, blockJob{c: c, x0: x0, y0: y0, x1: x1, y1: min(ty*tile, h)})
				}
			}
		}
		// The blocks are computed on parallel goroutines and added in
		// the order above, so the sum is the same float on any core count.
		sums = resize(sums, len(jobs))
		par.Run(len(jobs), workers, func(wk, j int) {
			bj := &jobs[j]
			sums[j] = states[wk].block(a.Pix, b.Pix, base, bj.c, bj.x0, bj.y0, bj.x1, bj.y1)
		})
		for _, v := range sums {
			total += v
		}
	}
	return sumsq, (total + float64(unchanged)) / float64(a.Frames*ch*w*h)
}

// blockJob is one block of window centres SSIM computes.
type blockJob struct{ c, x0, y0, x1, y1 int }

func resize[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n)
	}
	return s[:n]
}

// ssimState holds the kernel, the border weights and one block's scratch.
type ssimState struct {
	kernel   [window]float64
	c1, c2   float64
	w, h, ch int
	wx, wy   []float64 // weight of the window's taps inside the image, per column and row
	tmp      [5][]float64
	clean    []bool // per filtered row sample: no change among its taps
	seen     []int  // running count of changed samples along a row
}

func (s *ssimState) init(a *medimg.Image) {
	for i := range s.kernel {
		d := float64(i - half)
		s.kernel[i] = math.Exp(-d * d / (2 * sigma * sigma))
	}
	peak := a.Peak()
	s.c1 = (0.01 * peak) * (0.01 * peak)
	s.c2 = (0.03 * peak) * (0.03 * peak)
	s.w, s.h, s.ch = a.Width, a.Height, a.Channels
	s.wx = edgeWeights(&s.kernel, s.w)
	s.wy = edgeWeights(&s.kernel, s.h)
	s.scratch()
}

// scratch gives s its own block buffers.
func (s *ssimState) scratch() {
	for j := range s.tmp {
		s.tmp[j] = make([]float64, (maxRun*tile+2*half)*tile)
	}
	s.clean = make([]bool, (maxRun*tile+2*half)*tile)
	s.seen = make([]int, tile+2*half+1)
}

// edgeWeights is, for each coordinate, the sum of the kernel taps that fall
// inside [0, n).
func edgeWeights(k *[window]float64, n int) []float64 {
	out := make([]float64, n)
	for x := range n {
		var sx float64
		for j := -half; j <= half; j++ {
			if xx := x + j; xx >= 0 && xx < n {
				sx += k[j+half]
			}
		}
		out[x] = sx
	}
	return out
}

// block sums SSIM over the window centres [x0, x1) × [y0, y1) (at most a
// tile wide and maxRun tiles high) of the plane at base, channel c: rows are filtered first, then columns, with taps
// outside the image skipped, in the order a whole-image separable filter
// takes them, so each centre's value is the one that filter gives.
//
// A marked image differs from its original in few samples, and where a row's
// taps see no change the filtered b, b² and ab are the filtered a and a² to
// the bit (the same products summed in the same order): only those two are
// computed there. A window with no change at all is exactly 1 (see SSIM) and
// is counted without its statistics.
func (s *ssimState) block(a, b []int32, base, c, x0, y0, x1, y1 int) float64 {
	w, h, ch := s.w, s.h, s.ch
	k := &s.kernel
	ry0, ry1 := max(0, y0-half), min(h, y1+half)
	bw := x1 - x0
	lo, hi := max(0, x0-half), min(w, x1+half)
	for y := ry0; y < ry1; y++ {
		row := base + y*w*ch + c
		o := (y - ry0) * bw
		// seen[xx-lo+1] counts the changed samples of the row in [lo, xx].
		seen := s.seen[:hi-lo+1]
		for xx := lo; xx < hi; xx++ {
			n := seen[xx-lo]
			if a[row+xx*ch] != b[row+xx*ch] {
				n++
			}
			seen[xx-lo+1] = n
		}
		for x := x0; x < x1; x++ {
			q := o + x - x0
			tl, th := max(0, x-half), min(w, x+half+1)
			if seen[th-lo] == seen[tl-lo] {
				var s0, s2 float64
				for j := -half; j <= half; j++ {
					xx := x + j
					if xx < 0 || xx >= w {
						continue
					}
					va := float64(a[row+xx*ch])
					kj := k[j+half]
					s0 += kj * va
					s2 += kj * (va * va)
				}
				s.tmp[0][q], s.tmp[1][q], s.tmp[2][q], s.tmp[3][q], s.tmp[4][q] = s0, s0, s2, s2, s2
				s.clean[q] = true
				continue
			}
			var s0, s1, s2, s3, s4 float64
			for j := -half; j <= half; j++ {
				xx := x + j
				if xx < 0 || xx >= w {
					continue
				}
				va, vb := float64(a[row+xx*ch]), float64(b[row+xx*ch])
				kj := k[j+half]
				s0 += kj * va
				s1 += kj * vb
				s2 += kj * (va * va)
				s3 += kj * (vb * vb)
				s4 += kj * (va * vb)
			}
			s.tmp[0][q], s.tmp[1][q], s.tmp[2][q], s.tmp[3][q], s.tmp[4][q] = s0, s1, s2, s3, s4
			s.clean[q] = false
		}
	}
	var total float64
	for y := y0; y < y1; y++ {
	centre:
		for x := x0; x < x1; x++ {
			for yy := max(0, y-half); yy < min(h, y+half+1); yy++ {
				if !s.clean[(yy-ry0)*bw+x-x0] {
					goto changed
				}
			}
			total++
			continue centre
		changed:
			var m [5]float64
			for j := -half; j <= half; j++ {
				yy := y + j
				if yy < 0 || yy >= h {
					continue
				}
				q := (yy-ry0)*bw + x - x0
				kj := k[j+half]
				for t := range m {
					m[t] += kj * s.tmp[t][q]
				}
			}
			n := s.wx[x] * s.wy[y]
			mx, my := m[0]/n, m[1]/n
			vx := m[2]/n - mx*mx
			vy := m[3]/n - my*my
			cxy := m[4]/n - mx*my
			total += ((2*mx*my + s.c1) * (2*cxy + s.c2)) / ((mx*mx + my*my + s.c1) * (vx + vy + s.c2))
		}
	}
	return total
}
