// Package fpsynth draws synthetic fingerprints: ridges that follow the
// orientation field of a core and a delta, inside an elliptical contact area,
// with pores and pressure variation. A fresh machine has no real prints and no
// package ships one, so the demo and the sensor simulator use these; they are
// synthetic, not anyone's finger, and evaluation figures are only ever
// reported on real prints.
package fpsynth

import (
	"fmt"
	"image"
	"math"
	"math/rand/v2"
)

// Print draws a w×h 8-bit print; the same seed gives the same image.
func Print(w, h int, seed uint64) (*image.Gray, error) {
	if w < 32 || h < 32 || w > 4096 || h > 4096 {
		return nil, fmt.Errorf("fpsynth: %d×%d is outside 32×32 to 4096×4096", w, h)
	}
	r := rand.New(rand.NewPCG(seed, 0x6670))
	fw, fh := float64(w), float64(h)
	// Core above the centre, delta below and to one side, as in a loop.
	cx, cy := fw*(0.45+0.1*r.Float64()), fh*(0.35+0.1*r.Float64())
	dx, dy := cx+fw*(0.15+0.1*r.Float64())*sign(r), cy+fh*(0.3+0.1*r.Float64())
	period := 7.5 + 2*r.Float64() // pixels between ridges at 500 dpi
	phase0 := r.Float64() * 2 * math.Pi
	img := image.NewGray(image.Rect(0, 0, w, h))
	ax, ay := fw*0.42, fh*0.46
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			fx, fy := float64(x), float64(y)
			ex, ey := (fx-fw/2)/ax, (fy-fh/2)/ay
			e := ex*ex + ey*ey
			if e > 1 {
				img.Pix[y*img.Stride+x] = 245
				continue
			}
			// The ridge phase winds once around the core and once back around
			// the delta; whole turns keep it continuous across atan2's cut.
			wind := math.Atan2(fy-cy, fx-cx) - math.Atan2(fy-dy, fx-dx)
			dist := math.Hypot((fx-cx)*1.15, fy-cy)
			ph := 2*math.Pi*dist/period + wind + phase0 + 2.5*math.Sin(fx/37)*math.Cos(fy/41)
			v := 0.5 + 0.5*math.Cos(ph)
			pressure := 1 - 0.6*e*e
			g := 240 - 190*v*pressure + 12*(r.Float64()-0.5)
			img.Pix[y*img.Stride+x] = uint8(math.Max(0, math.Min(255, g)))
		}
	}
	return img, nil
}

func sign(r *rand.Rand) float64 {
	if r.IntN(2) == 0 {
		return -1
	}
	return 1
}
