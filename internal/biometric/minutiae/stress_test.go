package minutiae

import (
	"context"
	"image"
	"math"
	"math/rand/v2"
	"strconv"
	"testing"
)

// degrade changes a print the way a careless placement and a worse reader
// would: rotated by up to ±45°, shifted by up to a quarter of each side
// (what leaves the canvas is lost), contrast and brightness changed, and
// Gaussian noise added.
func degrade(img image.Image, rng *rand.Rand) *image.Gray {
	w, h := img.Bounds().Dx(), img.Bounds().Dy()
	deg := rng.Float64()*90 - 45
	dx, dy := rng.IntN(w/2+1)-w/4, rng.IntN(h/2+1)-h/4
	g := transform(img, deg, dx, dy)
	gain, bias, sigma := 0.6+0.5*rng.Float64(), rng.Float64()*40, 4+rng.Float64()*12
	for i, v := range g.Pix {
		x := float64(v)*gain + bias + rng.NormFloat64()*sigma
		g.Pix[i] = uint8(math.Min(math.Max(x, 0), 255))
	}
	return g
}

// The split protocol again with every probe degraded (enrollment stays
// clean, as a supervised enrollment would be). The figures go to the log;
// the bound asserted is loose, as these are 40 genuine scores.
func TestEvaluateDegradedProbes(t *testing.T) {
	if testing.Short() {
		t.Skip("extracts 40 extra prints")
	}
	samples := multiImpression(t)
	rng := rand.New(rand.NewPCG(12, 34))
	var probes []Sample
	refused := 0
	for _, s := range samples {
		if s.Impression <= 3 {
			probes = append(probes, s)
			continue
		}
		tm, _, err := Extract(degrade(sampleImage(t, s.Finger+"_"+strconv.Itoa(s.Impression)), rng), 500)
		if err != nil {
			refused++
			t.Logf("probe %s_%d refused: %v", s.Finger, s.Impression, err)
		}
		probes = append(probes, Sample{Finger: s.Finger, Impression: s.Impression, Template: tm})
	}
	ev, err := Evaluate(context.Background(), probes, 3)
	if err != nil {
		t.Fatal(err)
	}
	r := ev.Split
	t.Logf("degraded probes: %d of 40 refused; genuine %d impostor %d: EER %.2f %%, FMR100 %.2f %%, ZeroFMR %.2f %%; lowest genuine %.4f, highest impostor %.4f",
		refused, r.Genuine, r.Impostor, 100*r.EER, 100*r.FMR100, 100*r.ZeroFMR, r.MinGenuine, r.MaxImpostor)
	if r.EER > 0.10 {
		t.Errorf("EER %.2f %% with degraded probes, more than 10 %%", 100*r.EER)
	}
}
