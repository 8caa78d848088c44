// Package roc turns genuine and impostor comparison scores into operating
// points: every threshold at which the decisions change, with the share of
// impostors accepted and of genuine comparisons rejected there. The
// feature matcher and the minutiae matcher are measured with it alike.
package roc

import (
	"errors"
	"fmt"
	"math"
	"sort"
)

// Point is one operating point: at Threshold, FAR is the share of impostor
// scores accepted (score ≥ Threshold), TPR the share of genuine ones and FRR
// the share of genuine ones rejected. FRR is counted, not 1 − TPR, so that
// it is exact where the counts allow.
type Point struct {
	Threshold float64 `json:"threshold"`
	FAR       float64 `json:"far"`
	TPR       float64 `json:"tpr"`
	FRR       float64 `json:"frr"`
}

// Points returns the operating points at every candidate threshold, highest
// threshold first, so FAR and TPR never decrease along the slice: just
// above the highest score, then between each pair of neighbouring distinct
// scores (their midpoint, so a threshold from this data is not pressed
// against one of its own scores), and the lowest score. It runs in
// O(n log n).
func Points(genuine, impostor []float64) ([]Point, error) {
	if len(genuine) == 0 || len(impostor) == 0 {
		return nil, fmt.Errorf("roc: needs genuine and impostor scores, have %d and %d", len(genuine), len(impostor))
	}
	type scored struct {
		s       float64
		genuine bool
	}
	all := make([]scored, 0, len(genuine)+len(impostor))
	for _, s := range genuine {
		all = append(all, scored{s, true})
	}
	for _, s := range impostor {
		all = append(all, scored{s, false})
	}
	for _, a := range all {
		if math.IsNaN(a.s) || math.IsInf(a.s, 0) {
			return nil, errors.New("roc: a score is not a finite number")
		}
	}
	sort.Slice(all, func(i, j int) bool { return all[i].s > all[j].s })
	nG, nI := float64(len(genuine)), float64(len(impostor))
	pts := []Point{{Threshold: math.Nextafter(all[0].s, math.Inf(1)), FRR: 1}}
	var g, im int
	for i := 0; i < len(all); {
		s := all[i].s
		for ; i < len(all) && all[i].s == s; i++ {
			if all[i].genuine {
				g++
			} else {
				im++
			}
		}
		// Everything ≥ s is now counted: the threshold is the midpoint down
		// to the next lower score, or s itself for the lowest.
		t := s
		if i < len(all) {
			if m := s/2 + all[i].s/2; m > all[i].s && m <= s {
				t = m
			}
		}
		pts = append(pts, Point{Threshold: t, FAR: float64(im) / nI, TPR: float64(g) / nG, FRR: float64(len(genuine)-g) / nG})
	}
	return pts, nil
}

// EER returns the operating point that minimises max(FAR, FRR), and that
// maximum. Ties go to the smaller FAR+FRR, then to the higher threshold
// (fewer false accepts).
func EER(pts []Point) (Point, float64) {
	best := -1
	var bestMax, bestSum float64
	for i, p := range pts {
		mx, sum := math.Max(p.FAR, p.FRR), p.FAR+p.FRR
		if best < 0 || mx < bestMax || mx == bestMax && sum < bestSum {
			best, bestMax, bestSum = i, mx, sum
		}
	}
	if best < 0 {
		return Point{}, math.NaN()
	}
	return pts[best], bestMax
}

// AtFAR returns the operating point with the highest TPR whose FAR is at
// most target; of several with that TPR, the one with the highest threshold.
func AtFAR(pts []Point, target float64) Point {
	best := pts[0]
	for _, p := range pts {
		if p.FAR <= target && p.TPR > best.TPR {
			best = p
		}
	}
	return best
}

// AUC is the area under the ROC by the trapezoid rule.
func AUC(pts []Point) float64 {
	var a float64
	for i := 1; i < len(pts); i++ {
		a += (pts[i].FAR - pts[i-1].FAR) * (pts[i].TPR + pts[i-1].TPR) / 2
	}
	return a
}
