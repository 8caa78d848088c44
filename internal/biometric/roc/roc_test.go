package roc

import (
	"math"
	"math/rand/v2"
	"testing"
)

// Scores are multiples of 1/32 so every midpoint is exact.
func TestEERHandMade(t *testing.T) {
	for _, tc := range []struct {
		name               string
		genuine, impostor  []float64
		eer, thr, far, frr float64
		auc                float64
	}{
		{
			// Sorted: .875G .75G .625G .5625I .5G .4375I .375I .25I. At
			// .59375 FAR 0, FRR .25; at .46875 FAR .25, FRR 0: both have
			// max .25 and sum .25; the higher threshold wins.
			name:    "overlap",
			genuine: []float64{0.875, 0.75, 0.625, 0.5}, impostor: []float64{0.5625, 0.4375, 0.375, 0.25},
			eer: 0.25, thr: 0.59375, far: 0, frr: 0.25, auc: 15.0 / 16,
		},
		{
			name:    "separated",
			genuine: []float64{0.75, 0.875}, impostor: []float64{0.25, 0.125, 0.5},
			eer: 0, thr: 0.625, far: 0, frr: 0, auc: 1,
		},
		{
			// Every impostor above every genuine score: the best any
			// threshold does is accept all or reject all.
			name:    "inverted",
			genuine: []float64{0.25}, impostor: []float64{0.75},
			eer: 1, thr: math.Nextafter(0.75, 2), far: 0, frr: 1, auc: 0,
		},
		{
			// Ties between a genuine and an impostor score fall on the same
			// side of every threshold. At .625 and .375 max(FAR, FRR) is 2/3
			// with sum 1; at .1875 (reject only .125I) FAR 2/3, FRR 0: max
			// 2/3, sum 2/3. AUC is the Mann-Whitney 5/9 with ties as 1/2.
			name:    "ties",
			genuine: []float64{0.75, 0.5, 0.25}, impostor: []float64{0.75, 0.5, 0.125},
			eer: 2.0 / 3, thr: 0.1875, far: 2.0 / 3, frr: 0, auc: 5.0 / 9,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pts, err := Points(tc.genuine, tc.impostor)
			if err != nil {
				t.Fatal(err)
			}
			p, eer := EER(pts)
			if eer != tc.eer || p.Threshold != tc.thr || p.FAR != tc.far || p.FRR != tc.frr {
				t.Errorf("EER %v at %+v (FRR %v), want %v at threshold %v FAR %v FRR %v", eer, p, p.FRR, tc.eer, tc.thr, tc.far, tc.frr)
			}
			if a := AUC(pts); math.Abs(a-tc.auc) > 1e-12 {
				t.Errorf("AUC %v, want %v", a, tc.auc)
			}
		})
	}
}

func TestAtFAR(t *testing.T) {
	pts, err := Points([]float64{0.875, 0.75, 0.625, 0.5}, []float64{0.5625, 0.4375, 0.375, 0.25})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ target, thr, tpr float64 }{
		{0, 0.59375, 0.75},
		{0.25, 0.46875, 1},
		{1, 0.46875, 1},
	} {
		p := AtFAR(pts, tc.target)
		if p.Threshold != tc.thr || p.TPR != tc.tpr || p.FAR > tc.target {
			t.Errorf("AtFAR(%v) = %+v, want threshold %v TPR %v", tc.target, p, tc.thr, tc.tpr)
		}
	}
}

func TestROCMonotonic(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 7))
	for trial := 0; trial < 50; trial++ {
		gen := make([]float64, 1+r.IntN(60))
		imp := make([]float64, 1+r.IntN(200))
		for i := range gen {
			gen[i] = math.Round(r.NormFloat64()*20+10) / 40 // coarse, so ties happen
		}
		for i := range imp {
			imp[i] = math.Round(r.NormFloat64()*20) / 40
		}
		pts, err := Points(gen, imp)
		if err != nil {
			t.Fatal(err)
		}
		first, last := pts[0], pts[len(pts)-1]
		if first.FAR != 0 || first.TPR != 0 || last.FAR != 1 || last.TPR != 1 {
			t.Fatalf("ROC runs from %+v to %+v, want (0,0) to (1,1)", first, last)
		}
		for i := 1; i < len(pts); i++ {
			a, b := pts[i-1], pts[i]
			if !(b.Threshold < a.Threshold) || b.FAR < a.FAR || b.TPR < a.TPR {
				t.Fatalf("trial %d: point %d %+v after %+v is not monotonic", trial, i, b, a)
			}
		}
		// Each point's rates are what the threshold actually does.
		for _, p := range pts {
			var g, im int
			for _, s := range gen {
				if s >= p.Threshold {
					g++
				}
			}
			for _, s := range imp {
				if s >= p.Threshold {
					im++
				}
			}
			if p.TPR != float64(g)/float64(len(gen)) || p.FAR != float64(im)/float64(len(imp)) || p.FRR != float64(len(gen)-g)/float64(len(gen)) {
				t.Fatalf("point %+v: counted TPR %d/%d FAR %d/%d", p, g, len(gen), im, len(imp))
			}
		}
		p, eer := EER(pts)
		for _, q := range pts {
			if math.Max(q.FAR, q.FRR) < eer {
				t.Fatalf("EER %v at %+v, but %+v does better", eer, p, q)
			}
		}
	}
}

func TestROCBadInput(t *testing.T) {
	if _, err := Points(nil, []float64{1}); err == nil {
		t.Error("ROC without genuine scores succeeded")
	}
	if _, err := Points([]float64{math.NaN()}, []float64{1}); err == nil {
		t.Error("ROC over NaN succeeded")
	}
}
