package quality

import (
	"math"
	"testing"

	"edge/internal/medimg"
)

func ramp(w, h, bits int) *medimg.Image {
	im := &medimg.Image{Width: w, Height: h, Frames: 1, Channels: 1, BitsAllocated: 16, BitsStored: bits}
	for i := range w * h {
		im.Pix = append(im.Pix, int32(i*7%(1<<bits)))
	}
	return im
}

func TestPSNR(t *testing.T) {
	a := ramp(10, 10, 8)
	if got := PSNR(a, a.Clone()); !math.IsInf(got, 1) {
		t.Errorf("identical images: %v, want +Inf", got)
	}
	b := a.Clone()
	b.Pix[0]++ // MSE 1/100
	want := 10 * math.Log10(255*255*100)
	if got := PSNR(a, b); math.Abs(got-want) > 1e-9 {
		t.Errorf("one sample off by one: %v dB, want %v", got, want)
	}
	c := ramp(10, 10, 12)
	c.Pix[0]++
	want = 10 * math.Log10(4095*4095*100)
	if got := PSNR(ramp(10, 10, 12), c); math.Abs(got-want) > 1e-9 {
		t.Errorf("12-bit peak: %v dB, want %v", got, want)
	}
	if got := PSNR(a, ramp(10, 9, 8)); !math.IsNaN(got) {
		t.Errorf("different sizes: %v, want NaN", got)
	}
}

func TestSSIM(t *testing.T) {
	a := ramp(40, 30, 8)
	if got := SSIM(a, a.Clone()); math.Abs(got-1) > 1e-12 {
		t.Errorf("identical images: %v, want 1", got)
	}
	small := ramp(3, 2, 8)
	if got := SSIM(small, small.Clone()); math.Abs(got-1) > 1e-12 {
		t.Errorf("image smaller than the window: %v, want 1", got)
	}
	b := a.Clone()
	for i := range b.Pix {
		if i%5 == 0 {
			b.Pix[i] = 255 - b.Pix[i]
		}
	}
	one := a.Clone()
	one.Pix[100] ^= 1
	heavy, light := SSIM(a, b), SSIM(a, one)
	if !(heavy < light && light < 1) {
		t.Errorf("SSIM heavy change %v, one-bit change %v: want heavy < light < 1", heavy, light)
	}
	if got := SSIM(a, ramp(40, 30, 10)); !math.IsNaN(got) {
		t.Errorf("different bits stored: %v, want NaN", got)
	}
}

func BenchmarkSSIM512(b *testing.B) {
	a := ramp(512, 512, 8)
	c := a.Clone()
	c.Pix[1000]++
	b.SetBytes(int64(len(a.Pix)))
	b.ReportAllocs()
	for b.Loop() {
		SSIM(a, c)
	}
}
