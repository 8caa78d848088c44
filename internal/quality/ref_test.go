package quality

import (
	"math"
	"math/rand/v2"
	"runtime"
	"testing"

	"edge/internal/medimg"
)

// refSSIM is the whole-image separable filter SSIM evaluates only where
// samples changed: every window centre of every plane, float planes of the
// whole image.
func refSSIM(a, b *medimg.Image) float64 {
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
	blur := func(src []float64) []float64 {
		tmp, dst := make([]float64, plane), make([]float64, plane)
		for y := range h {
			for x := range w {
				var s float64
				for k := -half; k <= half; k++ {
					if xx := x + k; xx >= 0 && xx < w {
						s += kernel[k+half] * src[y*w+xx]
					}
				}
				tmp[y*w+x] = s
			}
		}
		for y := range h {
			for x := range w {
				var s float64
				for k := -half; k <= half; k++ {
					if yy := y + k; yy >= 0 && yy < h {
						s += kernel[k+half] * tmp[yy*w+x]
					}
				}
				dst[y*w+x] = s
			}
		}
		return dst
	}
	wx, wy := edgeWeights(&kernel, w), edgeWeights(&kernel, h)
	var total float64
	for f := range a.Frames {
		for c := range ch {
			var in [5][]float64
			for j := range in {
				in[j] = make([]float64, plane)
			}
			for q := range plane {
				i := f*plane*ch + q*ch + c
				va, vb := float64(a.Pix[i]), float64(b.Pix[i])
				in[0][q], in[1][q], in[2][q], in[3][q], in[4][q] = va, vb, va*va, vb*vb, va*vb
			}
			var out [5][]float64
			for j := range in {
				out[j] = blur(in[j])
			}
			for q := range plane {
				n := wx[q%w] * wy[q/w]
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

// TestSSIMMatchesWholeImageFilter checks the block-wise SSIM against the
// whole-image computation on images with scattered, clustered and border
// changes, several planes and sizes that are not multiples of the block.
func TestSSIMMatchesWholeImageFilter(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 7))
	for _, tc := range []struct{ w, h, frames, ch, changes int }{
		{70, 45, 1, 1, 5}, {33, 97, 2, 3, 40}, {5, 4, 1, 1, 3}, {130, 64, 1, 1, 2000}, {64, 64, 1, 3, 0},
	} {
		a := &medimg.Image{Width: tc.w, Height: tc.h, Frames: tc.frames, Channels: tc.ch, BitsAllocated: 16, BitsStored: 12}
		a.Pix = make([]int32, a.Samples())
		for i := range a.Pix {
			a.Pix[i] = int32(1000 + i%97*13 + r.IntN(20))
		}
		b := a.Clone()
		for range tc.changes {
			i := r.IntN(len(b.Pix))
			b.Pix[i] = int32(r.IntN(4096))
		}
		b.Pix[0] ^= 1
		got, want := SSIM(a, b), refSSIM(a, b)
		if math.Abs(got-want) > 1e-12 || got >= 1 {
			t.Errorf("%+v: SSIM %v, whole-image filter %v", tc, got, want)
		}
	}
}

func BenchmarkSSIMScattered3072(b *testing.B) {
	a := &medimg.Image{Width: 3072, Height: 3072, Frames: 1, Channels: 1, BitsAllocated: 16, BitsStored: 16}
	a.Pix = make([]int32, a.Samples())
	for i := range a.Pix {
		a.Pix[i] = int32(i % 60000)
	}
	c := a.Clone()
	r := rand.New(rand.NewPCG(1, 1))
	for range 4000 {
		c.Pix[r.IntN(len(c.Pix))] ^= 1
	}
	b.SetBytes(int64(2 * len(a.Pix)))
	b.ReportAllocs()
	for b.Loop() {
		SSIM(a, c)
	}
}

// The quality gate's decision and the reported SSIM must not depend on the
// number of cores: the blocks are summed in one order whatever computes them.
func TestSSIMSameOnAnyCoreCount(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 9))
	a := &medimg.Image{Width: 301, Height: 203, Frames: 2, Channels: 3, BitsAllocated: 16, BitsStored: 12}
	a.Pix = make([]int32, a.Samples())
	for i := range a.Pix {
		a.Pix[i] = int32(r.IntN(4096))
	}
	b := a.Clone()
	for range 3000 {
		b.Pix[r.IntN(len(b.Pix))] ^= 1
	}
	old := runtime.GOMAXPROCS(1)
	want := SSIM(a, b)
	for _, n := range []int{2, 3, 8} {
		runtime.GOMAXPROCS(n)
		if got := SSIM(a, b); got != want {
			runtime.GOMAXPROCS(old)
			t.Fatalf("GOMAXPROCS=%d: SSIM %v, with one %v", n, got, want)
		}
	}
	runtime.GOMAXPROCS(old)
}
