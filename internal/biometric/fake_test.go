package biometric

import (
	"context"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
)

// blockMeans is a real, if weak, fingerprint feature: the print shrunk to a
// grid of cell means with the overall mean removed. It separates fingers by
// their coarse ridge layout and needs no model, so the store, matching and
// evaluation logic can be tested without ONNX Runtime.
type blockMeans struct{ grid int }

func (b blockMeans) Features(ctx context.Context, img image.Image) ([]float32, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	r := img.Bounds()
	if r.Dx() < b.grid || r.Dy() < b.grid {
		return nil, fmt.Errorf("print %dx%d smaller than the %d grid", r.Dx(), r.Dy(), b.grid)
	}
	sum := make([]float64, b.grid*b.grid)
	cnt := make([]float64, b.grid*b.grid)
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			g := color.GrayModel.Convert(img.At(x, y)).(color.Gray).Y
			k := (y-r.Min.Y)*b.grid/r.Dy()*b.grid + (x-r.Min.X)*b.grid/r.Dx()
			sum[k] += float64(g)
			cnt[k]++
		}
	}
	var mean float64
	for k := range sum {
		sum[k] /= cnt[k]
		mean += sum[k]
	}
	mean /= float64(len(sum))
	out := make([]float32, len(sum))
	for k, s := range sum {
		out[k] = float32(s - mean)
	}
	return out, nil
}

// synthPrint draws a ridge-like pattern for finger f (three gratings whose
// orientations and frequencies depend on f), shifted, rescaled in contrast
// and noised per impression, as a real sensor would.
func synthPrint(f, impression, size int) *image.Gray {
	fr := rand.New(rand.NewPCG(uint64(f), 1))
	type grating struct{ kx, ky, ph float64 }
	var gs [3]grating
	for i := range gs {
		a := fr.Float64() * math.Pi
		k := 2 * math.Pi * (0.02 + 0.05*fr.Float64())
		gs[i] = grating{k * math.Cos(a), k * math.Sin(a), 2 * math.Pi * fr.Float64()}
	}
	ir := rand.New(rand.NewPCG(uint64(f), uint64(impression)+100))
	dx, dy := ir.Float64()*4-2, ir.Float64()*4-2
	contrast := 0.7 + 0.3*ir.Float64()
	img := image.NewGray(image.Rect(0, 0, size, size))
	for y := 0; y < size; y++ {
		for x := 0; x < size; x++ {
			var v float64
			for _, g := range gs {
				v += math.Sin(g.kx*(float64(x)+dx) + g.ky*(float64(y)+dy) + g.ph)
			}
			v = 128 + contrast*40*v + 25*ir.NormFloat64()
			img.Pix[y*img.Stride+x] = uint8(math.Max(0, math.Min(255, v)))
		}
	}
	return img
}

// writeSynthSet writes fingers×impressions prints named F_I.png into a
// temporary folder.
func writeSynthSet(t *testing.T, fingers, impressions int) string {
	t.Helper()
	dir := t.TempDir()
	for f := 1; f <= fingers; f++ {
		for i := 1; i <= impressions; i++ {
			fh, err := os.Create(filepath.Join(dir, fmt.Sprintf("%d_%d.png", f, i)))
			if err != nil {
				t.Fatal(err)
			}
			if err := png.Encode(fh, synthPrint(f, i, 64)); err != nil {
				t.Fatal(err)
			}
			if err := fh.Close(); err != nil {
				t.Fatal(err)
			}
		}
	}
	return dir
}
