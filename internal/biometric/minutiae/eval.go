package minutiae

import (
	"context"
	"edge/internal/biometric/roc"
	"fmt"
	"math"
	"sort"
)

// Sample is one impression of a finger for an evaluation. Template is nil
// when extraction refused the print (failure to acquire).
type Sample struct {
	Finger     string
	Impression int // 1-based
	Template   *Template
}

// Rates are the error rates of one protocol. FMR100, FMR1000 and ZeroFMR
// are the lowest false non-match rates at a false match rate of at most 1 %,
// 0.1 % and 0; with fewer than 1000 impostor scores FMR1000 is ZeroFMR in
// all but name, which Impostor lets a reader see.
type Rates struct {
	Genuine      int     `json:"genuine"`
	Impostor     int     `json:"impostor"`
	EER          float64 `json:"eer"`
	EERThreshold float64 `json:"eer_threshold"`
	FMR100       float64 `json:"fmr100"`
	FMR1000      float64 `json:"fmr1000"`
	ZeroFMR      float64 `json:"zero_fmr"`
	// EERThreshold and ZeroFMRThreshold are where those rates are met,
	// midway between the two scores on either side of the cut.
	ZeroFMRThreshold float64 `json:"zero_fmr_threshold"`
	// MinGenuine and MaxImpostor show the margin between the classes
	// where the rates alone are 0.
	MinGenuine  float64 `json:"min_genuine"`
	MaxImpostor float64 `json:"max_impostor"`
}

// Evaluation is the result of Evaluate.
type Evaluation struct {
	Fingers int `json:"fingers"`
	Prints  int `json:"prints"`
	// FailedToAcquire counts prints extraction refused; FailedToEnroll the
	// fingers left with no usable enrollment impression.
	FailedToAcquire int     `json:"failed_to_acquire"`
	FailedToEnroll  int     `json:"failed_to_enroll"`
	FTE             float64 `json:"fte"`
	// Split: the first Enroll impressions enroll the finger (best score over
	// them), every later impression probes every finger.
	Enroll int   `json:"enroll"`
	Split  Rates `json:"split"`
	// FVC: every pair of impressions of a finger is genuine; the first
	// impressions of different fingers against each other are the
	// impostors (the FVC protocol).
	FVC Rates `json:"fvc"`
	// AllPairs: every pair of impressions, genuine or impostor; many more
	// impostor scores than FVC, so the low-FMR figures mean something.
	AllPairs Rates `json:"all_pairs"`
	// SplitGenuine and SplitImpostor are the split protocol's scores, for
	// a ROC plot or a threshold.
	SplitGenuine  []float64 `json:"-"`
	SplitImpostor []float64 `json:"-"`
}

// Evaluate runs the protocols over the samples. A refused probe scores 0
// against everything: it counts as a false non-match, never a false match.
func Evaluate(ctx context.Context, samples []Sample, enroll int) (*Evaluation, error) {
	if enroll < 1 {
		return nil, fmt.Errorf("minutiae: evaluate: enroll %d impressions, want ≥ 1", enroll)
	}
	type imp struct {
		n int
		p *Prepared
	}
	byFinger := map[string][]imp{}
	var fingers []string
	ev := &Evaluation{Prints: len(samples), Enroll: enroll}
	for _, s := range samples {
		if _, ok := byFinger[s.Finger]; !ok {
			fingers = append(fingers, s.Finger)
		}
		var p *Prepared
		if s.Template != nil {
			p = Prepare(s.Template)
		} else {
			ev.FailedToAcquire++
		}
		byFinger[s.Finger] = append(byFinger[s.Finger], imp{s.Impression, p})
	}
	sort.Strings(fingers)
	ev.Fingers = len(fingers)
	for _, f := range fingers {
		l := byFinger[f]
		sort.SliceStable(l, func(i, j int) bool { return l[i].n < l[j].n })
	}
	score := func(a, b *Prepared) float64 {
		if a == nil || b == nil {
			return 0
		}
		return a.Compare(b)
	}
	// Split protocol.
	enrolled := make(map[string]*Enrolled, len(fingers))
	for _, f := range fingers {
		var ps []*Prepared
		for _, im := range byFinger[f][:min(enroll, len(byFinger[f]))] {
			if im.p != nil {
				ps = append(ps, im.p)
			}
		}
		if len(ps) == 0 {
			ev.FailedToEnroll++
			continue
		}
		enrolled[f] = enrollPrepared(ps)
	}
	ev.FTE = float64(ev.FailedToEnroll) / float64(max(len(fingers), 1))
	for _, pf := range fingers {
		for _, im := range byFinger[pf][min(enroll, len(byFinger[pf])):] {
			if err := ctx.Err(); err != nil {
				return nil, fmt.Errorf("minutiae: evaluate: %w", err)
			}
			for _, ef := range fingers {
				s := 0.0
				if e := enrolled[ef]; e != nil && im.p != nil {
					s = e.Score(im.p)
				}
				if ef == pf {
					ev.SplitGenuine = append(ev.SplitGenuine, s)
				} else {
					ev.SplitImpostor = append(ev.SplitImpostor, s)
				}
			}
		}
	}
	// FVC and all-pairs protocols.
	var fvcG, fvcI, allI []float64
	for fi, f := range fingers {
		l := byFinger[f]
		for i := range l {
			if err := ctx.Err(); err != nil {
				return nil, fmt.Errorf("minutiae: evaluate: %w", err)
			}
			for j := i + 1; j < len(l); j++ {
				fvcG = append(fvcG, score(l[i].p, l[j].p))
			}
			for _, g := range fingers[fi+1:] {
				for j, o := range byFinger[g] {
					s := score(l[i].p, o.p)
					allI = append(allI, s)
					if i == 0 && j == 0 {
						fvcI = append(fvcI, s)
					}
				}
			}
		}
	}
	var err error
	if ev.Split, err = ComputeRates(ev.SplitGenuine, ev.SplitImpostor); err != nil {
		return nil, fmt.Errorf("minutiae: evaluate split protocol: %w", err)
	}
	if ev.FVC, err = ComputeRates(fvcG, fvcI); err != nil {
		return nil, fmt.Errorf("minutiae: evaluate FVC protocol: %w", err)
	}
	if ev.AllPairs, err = ComputeRates(fvcG, allI); err != nil {
		return nil, fmt.Errorf("minutiae: evaluate all pairs: %w", err)
	}
	return ev, nil
}

// ComputeRates finds EER, FMR100, FMR1000 and ZeroFMR from genuine and
// impostor scores; a comparison matches when its score ≥ the threshold.
// The EER is the smallest max(FMR, FNMR) over the operating points of
// package roc (no interpolation between them); of equals, the one with the
// smaller sum, then the higher threshold.
func ComputeRates(genuine, impostor []float64) (Rates, error) {
	r := Rates{Genuine: len(genuine), Impostor: len(impostor)}
	pts, err := roc.Points(genuine, impostor)
	if err != nil {
		return r, fmt.Errorf("minutiae: rates: %w", err)
	}
	eer, e := roc.EER(pts)
	r.EER, r.EERThreshold = e, eer.Threshold
	r.FMR100, r.FMR1000, r.ZeroFMR = 1, 1, 1
	for _, p := range pts {
		if p.FAR <= 0.01 {
			r.FMR100 = math.Min(r.FMR100, p.FRR)
		}
		if p.FAR <= 0.001 {
			r.FMR1000 = math.Min(r.FMR1000, p.FRR)
		}
		// Of equal rates at no false match, the lowest threshold.
		if p.FAR == 0 && p.FRR <= r.ZeroFMR {
			r.ZeroFMR, r.ZeroFMRThreshold = p.FRR, p.Threshold
		}
	}
	r.MinGenuine, r.MaxImpostor = math.Inf(1), math.Inf(-1)
	for _, s := range genuine {
		r.MinGenuine = math.Min(r.MinGenuine, s)
	}
	for _, s := range impostor {
		r.MaxImpostor = math.Max(r.MaxImpostor, s)
	}
	return r, nil
}
