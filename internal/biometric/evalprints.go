package biometric

import (
	"context"
	"edge/internal/biometric/roc"
	"errors"
	"fmt"
	"math"
	"sort"

	"edge/internal/biometric/minutiae"
)

// MinutiaeReport is the minutiae matcher's evaluation on the prints the
// ResNet152 features were evaluated on, with the same split (the first
// Enroll impressions of each finger enroll it, the rest probe every finger)
// and the FVC protocol beside it.
type MinutiaeReport struct {
	*minutiae.Evaluation
	// Rule is how Threshold was chosen: "zero-fmr" (no impostor comparison
	// of any two impressions reaches it; where every split genuine score is
	// above every such impostor, halfway between the highest impostor and
	// the lowest genuine) or "fmr<=X" (at that false match rate over the
	// same impostor comparisons).
	Rule      string  `json:"rule"`
	Threshold float64 `json:"threshold"`
	// FMR and FNMR are the split protocol's rates at Threshold.
	FMR  float64 `json:"fmr"`
	FNMR float64 `json:"fnmr"`
	// ROC is the split protocol's ROC (what the plot draws), AUC its area.
	ROC []roc.Point `json:"roc"`
	AUC float64     `json:"auc"`
	// Fusion measures whether adding the ResNet152 score helps.
	Fusion *Fusion `json:"fusion,omitempty"`

	plot *Report
}

// Fusion compares the minutiae score alone with the sum of the minutiae
// and the ResNet152 scores, each first z-normalised by its impostor mean and
// spread (the split protocol's), with the ResNet152 weight Weight. Weights
// are tried on the very scores they are judged on, which favours fusion;
// Helps is set only if even so the fused scores beat the minutiae ones on
// EER or ZeroFMR.
type Fusion struct {
	Weight   float64        `json:"resnet_weight"`
	Minutiae minutiae.Rates `json:"minutiae"`
	Fused    minutiae.Rates `json:"fused"`
	Helps    bool           `json:"helps"`
}

// Plot is the report the ROC plot writer draws for the minutiae matcher.
func (m *MinutiaeReport) Plot() *Report { return m.plot }

// fusionWeights are the ResNet152 weights tried.
var fusionWeights = []float64{0.1, 0.25, 0.5, 1}

// evaluateMinutiae runs the minutiae protocols over the templates (nil
// where extraction refused the print) and measures fusion with the
// ResNet152 scores under cal. fingers and tmpls are parallel, in the order
// Scores uses.
func evaluateMinutiae(ctx context.Context, fingers []Finger, tmpls [][]*minutiae.Template, enroll int, cal *Calibration, targetFMR float64) (*MinutiaeReport, error) {
	var samples []minutiae.Sample
	for i, f := range fingers {
		for k, t := range tmpls[i] {
			samples = append(samples, minutiae.Sample{Finger: f.Name, Impression: k + 1, Template: t})
		}
	}
	ev, err := minutiae.Evaluate(ctx, samples, enroll)
	if err != nil {
		return nil, fmt.Errorf("biometric: minutiae evaluation: %w", err)
	}
	m := &MinutiaeReport{Evaluation: ev}
	// The impostor side of the threshold is every pair of impressions of
	// different fingers, the largest impostor set the prints give; the
	// genuine side is the split's, which is how a login scores (best over
	// the enrolled impressions).
	imp := allPairImpostors(samples)
	if targetFMR > 0 {
		m.Rule = fmt.Sprintf("fmr<=%g", targetFMR)
		m.Threshold = thresholdAtFMR(imp, targetFMR)
	} else {
		m.Rule = "zero-fmr"
		r, err := minutiae.ComputeRates(ev.SplitGenuine, imp)
		if err != nil {
			return nil, fmt.Errorf("biometric: minutiae threshold: %w", err)
		}
		m.Threshold = r.ZeroFMRThreshold
		if r.MinGenuine > r.MaxImpostor {
			// Separated: halfway across the gap, not against either edge.
			m.Threshold = r.MaxImpostor/2 + r.MinGenuine/2
		}
	}
	if !(m.Threshold > 0 && m.Threshold <= 1) {
		return nil, fmt.Errorf("biometric: minutiae threshold %v measured, want (0, 1]: the prints do not separate", m.Threshold)
	}
	m.FMR = rateAtLeast(ev.SplitImpostor, m.Threshold)
	m.FNMR = 1 - rateAtLeast(ev.SplitGenuine, m.Threshold)
	if m.plot, err = Summarize(ev.SplitGenuine, ev.SplitImpostor, 0); err != nil {
		return nil, err
	}
	m.plot.Operating = roc.Point{Threshold: m.Threshold, FAR: m.FMR, FRR: m.FNMR, TPR: 1 - m.FNMR}
	m.plot.Rule = m.Rule
	m.ROC, m.AUC = m.plot.ROC, m.plot.AUC
	if m.Fusion, err = measureFusion(fingers, tmpls, enroll, cal); err != nil {
		return nil, err
	}
	return m, nil
}

// allPairImpostors scores every pair of impressions of different fingers.
func allPairImpostors(samples []minutiae.Sample) []float64 {
	ps := make([]*minutiae.Prepared, len(samples))
	for i, s := range samples {
		if s.Template != nil {
			ps[i] = minutiae.Prepare(s.Template)
		}
	}
	var out []float64
	for i := range samples {
		for j := i + 1; j < len(samples); j++ {
			if samples[i].Finger == samples[j].Finger {
				continue
			}
			s := 0.0
			if ps[i] != nil && ps[j] != nil {
				s = ps[i].Compare(ps[j])
			}
			out = append(out, s)
		}
	}
	return out
}

// thresholdAtFMR is the lowest threshold at which at most target of the
// impostor scores match (score ≥ threshold).
func thresholdAtFMR(impostor []float64, target float64) float64 {
	s := append([]float64(nil), impostor...)
	sort.Sort(sort.Reverse(sort.Float64Slice(s)))
	allowed := int(math.Floor(target * float64(len(s))))
	if allowed >= len(s) {
		return math.SmallestNonzeroFloat64
	}
	// Accepting the top `allowed` scores: the threshold sits just above
	// the first one that must be refused, and above its ties.
	return math.Nextafter(s[allowed], math.Inf(1))
}

// rateAtLeast is the share of scores ≥ t.
func rateAtLeast(scores []float64, t float64) float64 {
	if len(scores) == 0 {
		return 0
	}
	n := 0
	for _, s := range scores {
		if s >= t {
			n++
		}
	}
	return float64(n) / float64(len(scores))
}

// measureFusion scores the split protocol with both matchers, pair by pair.
func measureFusion(fingers []Finger, tmpls [][]*minutiae.Template, enroll int, cal *Calibration) (*Fusion, error) {
	type pair struct{ m, r float64 }
	var gen, imp []pair
	enrolled := make([][]*minutiae.Prepared, len(fingers))
	resnet := make([]*Template, len(fingers))
	for j, f := range fingers {
		for _, t := range tmpls[j][:min(enroll, len(tmpls[j]))] {
			if t != nil {
				enrolled[j] = append(enrolled[j], minutiae.Prepare(t))
			}
		}
		resnet[j] = &Template{Vectors: f.Vectors[:min(enroll, len(f.Vectors))]}
	}
	for i, f := range fingers {
		for k := enroll; k < len(f.Vectors); k++ {
			var probe *minutiae.Prepared
			if t := tmpls[i][k]; t != nil {
				probe = minutiae.Prepare(t)
			}
			for j := range fingers {
				var p pair
				if probe != nil {
					for _, e := range enrolled[j] {
						p.m = max(p.m, e.Compare(probe))
					}
				}
				var err error
				if p.r, err = resnet[j].Score(cal, f.Vectors[k]); err != nil {
					return nil, fmt.Errorf("biometric: fusion: %w", err)
				}
				if i == j {
					gen = append(gen, p)
				} else {
					imp = append(imp, p)
				}
			}
		}
	}
	if len(gen) == 0 || len(imp) < 2 {
		return nil, errors.New("biometric: fusion: too few scores")
	}
	norm := func(get func(pair) float64) func(float64) float64 {
		var mean, sd float64
		for _, p := range imp {
			mean += get(p)
		}
		mean /= float64(len(imp))
		for _, p := range imp {
			d := get(p) - mean
			sd += d * d
		}
		sd = math.Sqrt(sd / float64(len(imp)))
		if sd == 0 {
			sd = 1
		}
		return func(x float64) float64 { return (x - mean) / sd }
	}
	zm, zr := norm(func(p pair) float64 { return p.m }), norm(func(p pair) float64 { return p.r })
	scores := func(ps []pair, w float64) []float64 {
		out := make([]float64, len(ps))
		for i, p := range ps {
			out[i] = zm(p.m) + w*zr(p.r)
		}
		return out
	}
	fu := &Fusion{}
	var err error
	if fu.Minutiae, err = minutiae.ComputeRates(scores(gen, 0), scores(imp, 0)); err != nil {
		return nil, fmt.Errorf("biometric: fusion: %w", err)
	}
	for i, w := range fusionWeights {
		r, err := minutiae.ComputeRates(scores(gen, w), scores(imp, w))
		if err != nil {
			return nil, fmt.Errorf("biometric: fusion: %w", err)
		}
		if i == 0 || better(r, fu.Fused) {
			fu.Weight, fu.Fused = w, r
		}
	}
	fu.Helps = better(fu.Fused, fu.Minutiae)
	return fu, nil
}

// better orders rates by EER, then ZeroFMR.
func better(a, b minutiae.Rates) bool {
	if a.EER != b.EER {
		return a.EER < b.EER
	}
	return a.ZeroFMR < b.ZeroFMR
}
