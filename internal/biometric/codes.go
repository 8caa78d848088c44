package biometric

import (
	"crypto/sha256"
	"fmt"
	"slices"
)

// CodeScores is one kind of binary template measured on an evaluation set.
// Distances are Hamming fractions; the ROC is taken on 1 − distance, so
// that, as for the login scores, higher means more alike.
type CodeScores struct {
	Kind      string    `json:"kind"`
	EER       float64   `json:"eer"`
	AUC       float64   `json:"auc"`
	Threshold float64   `json:"threshold_distance"`
	FAR       float64   `json:"far"`
	FRR       float64   `json:"frr"`
	Genuine   []float64 `json:"genuine_distance"`
	Impostor  []float64 `json:"impostor_distance"`
}

// CodeComparison sets the protected template beside the raw binarised code
// on the same prints, the hub-side view of recognition.
type CodeComparison struct {
	Raw       CodeScores `json:"raw_code"`
	Protected CodeScores `json:"protected_template"`
	// Revoked is how many genuine probes, protected under a finger's
	// secret, still match after that finger was re-enrolled with a new
	// secret (its old images against its new registration), out of
	// RevokedTried.
	Revoked      int `json:"revoked_still_matching"`
	RevokedTried int `json:"revoked_tried"`
}

func summarizeCodes(kind string, gen, imp []float64, targetFAR float64) (CodeScores, error) {
	sim := func(d []float64) []float64 {
		s := make([]float64, len(d))
		for i, x := range d {
			s[i] = 1 - x
		}
		return s
	}
	r, err := Summarize(sim(gen), sim(imp), targetFAR)
	if err != nil {
		return CodeScores{}, err
	}
	return CodeScores{
		Kind: kind, EER: r.EER, AUC: r.AUC, Threshold: 1 - r.Operating.Threshold,
		FAR: r.Operating.FAR, FRR: r.Operating.FRR, Genuine: gen, Impostor: imp,
	}, nil
}

// evalSecret is finger f's secret in an evaluation: a fixed function of its
// name (and the round, for revocation), so that figures repeat run to run.
func evalSecret(finger string, round int) *Secret {
	s := Secret(sha256.Sum256(fmt.Appendf(nil, "edge eval secret %d %s", round, finger)))
	return &s
}

// CompareCodes scores the raw binarised code and the protected template of
// every probe against every finger's enrollment, as Scores does for the
// login scores. Raw code: the median-binarised raw features of the probe
// against those of the enrollment's mean direction. Protected template:
// the probe protected under the claimed finger's secret against that
// finger's registration (the centre under the same secret), the case of an
// impostor who got past the device's login as someone else (the "stolen
// token" case of the BioHashing literature, the hard one: with their own
// secret an impostor's distance sits near 0.5). cal is the calibration
// Scores fitted.
func CompareCodes(fingers []Finger, enroll int, cal *Calibration, targetFAR float64) (*CodeComparison, error) {
	type enrolled struct {
		raw, prot []byte
		secret    *Secret
	}
	es := make([]enrolled, len(fingers))
	for i, f := range fingers {
		if len(f.Vectors) < enroll {
			return nil, fmt.Errorf("biometric: finger %q has %d impressions, enrolling takes %d", f.Name, len(f.Vectors), enroll)
		}
		t := &Template{Vectors: f.Vectors[:enroll], Secret: *evalSecret(f.Name, 0)}
		rawCentre, err := meanDirection(t.Vectors)
		if err != nil {
			return nil, err
		}
		es[i].raw = codeOf(rawCentre)
		if es[i].prot, err = t.Protected(cal); err != nil {
			return nil, err
		}
		es[i].secret = &t.Secret
	}
	var rawG, rawI, protG, protI []float64
	type pair struct{ reg, old Protected }
	var revokedPairs []pair
	cc := &CodeComparison{}
	for i, f := range fingers {
		revoked := &Template{Vectors: f.Vectors[:enroll], Secret: *evalSecret(f.Name, 1)}
		newReg, err := revoked.Protected(cal)
		if err != nil {
			return nil, err
		}
		for _, probe := range f.Vectors[enroll:] {
			pc := codeOf(probe)
			for j := range fingers {
				p, err := cal.Protect(es[j].secret, probe)
				if err != nil {
					return nil, err
				}
				dr, dp := Hamming(es[j].raw, pc), Hamming(es[j].prot, p)
				if i == j {
					rawG, protG = append(rawG, dr), append(protG, dp)
					revokedPairs = append(revokedPairs, pair{newReg, p})
				} else {
					rawI, protI = append(rawI, dr), append(protI, dp)
				}
			}
		}
	}
	var err error
	if cc.Raw, err = summarizeCodes("raw binarised code", rawG, rawI, targetFAR); err != nil {
		return nil, err
	}
	if cc.Protected, err = summarizeCodes("protected template (BioHash)", protG, protI, targetFAR); err != nil {
		return nil, err
	}
	cc.RevokedTried = len(revokedPairs)
	for _, p := range revokedPairs {
		if Hamming(p.reg, p.old) <= cc.Protected.Threshold {
			cc.Revoked++
		}
	}
	return cc, nil
}

// codeOf binarises any vector at its median (Code for any length).
func codeOf(f []float32) []byte {
	s := slices.Clone(f)
	slices.Sort(s)
	med := s[len(s)/2]
	code := make([]byte, (len(f)+7)/8)
	for i, v := range f {
		if v > med {
			code[i/8] |= 0x80 >> (i % 8)
		}
	}
	return code
}
