package biometric

import (
	"context"
	"errors"
	"fmt"
	"image"
	"strings"
)

var errNoCalibration = errors.New("biometric: no calibration, so no threshold to decide by")

// MinPrints is the fewest prints an enrollment takes: with one print there
// is nothing to check it against.
const MinPrints = 2

// AgreementError rejects an enrollment whose prints do not match each other:
// Scores[i] is print i scored against the template of the other prints.
type AgreementError struct {
	Scores    []float64
	Threshold float64
}

func (e *AgreementError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "biometric: enrollment prints do not agree (threshold %.4f):", e.Threshold)
	for i, s := range e.Scores {
		mark := ""
		if s < e.Threshold {
			mark = " (below)"
		}
		fmt.Fprintf(&b, " print %d %.4f%s;", i+1, s, mark)
	}
	return strings.TrimSuffix(b.String(), ";")
}

// Enroll makes a template from the feature vectors of one clinician's
// prints, made by the model with SHA-256 model. Each print must score at
// least cal.Threshold against the template of the others, the same test
// verification applies, so that a smudged print or a print of another finger
// is caught while the clinician is still at the device. The leave-one-out
// scores are returned either way.
func Enroll(model [32]byte, vectors [][]float32, cal *Calibration) (*Template, []float64, error) {
	if cal == nil {
		return nil, nil, errNoCalibration
	}
	if len(vectors) < MinPrints || len(vectors) > MaxPrints {
		return nil, nil, fmt.Errorf("biometric: enrollment takes %d..%d prints, got %d", MinPrints, MaxPrints, len(vectors))
	}
	t := &Template{Model: model, Vectors: make([][]float32, len(vectors))}
	for i, v := range vectors {
		if err := checkVector(v); err != nil {
			return nil, nil, fmt.Errorf("biometric: print %d: %w", i+1, err)
		}
		if len(v) != len(vectors[0]) {
			return nil, nil, fmt.Errorf("biometric: print %d has %d features, print 1 has %d", i+1, len(v), len(vectors[0]))
		}
		t.Vectors[i] = append([]float32(nil), v...)
	}
	scores := make([]float64, len(vectors))
	agree := true
	for i := range vectors {
		others := &Template{Model: model}
		others.Vectors = append(others.Vectors, vectors[:i]...)
		others.Vectors = append(others.Vectors, vectors[i+1:]...)
		s, err := others.Score(cal, vectors[i])
		if err != nil {
			return nil, nil, fmt.Errorf("biometric: print %d: %w", i+1, err)
		}
		scores[i] = s
		if s < cal.Threshold {
			agree = false
		}
	}
	if !agree {
		return nil, scores, &AgreementError{Scores: scores, Threshold: cal.Threshold}
	}
	return t, scores, nil
}

// centre is the template's reference direction under the calibration: the
// unit-length mean of its calibrated vectors.
func (t *Template) centre(cal *Calibration) ([]float32, error) {
	vs := make([][]float32, len(t.Vectors))
	for i, v := range t.Vectors {
		var err error
		if vs[i], err = cal.apply(v); err != nil {
			return nil, fmt.Errorf("biometric: template vector %d: %w", i, err)
		}
	}
	return meanDirection(vs)
}

// Score is the cosine similarity of the calibrated probe to the template's
// centre; cal nil means raw cosine.
func (t *Template) Score(cal *Calibration, probe []float32) (float64, error) {
	if err := checkVector(probe); err != nil {
		return 0, err
	}
	c, err := t.centre(cal)
	if err != nil {
		return 0, err
	}
	p, err := cal.apply(probe)
	if err != nil {
		return 0, err
	}
	return Cosine(c, p)
}

// Decision is the answer to "is this clinician ID?".
type Decision struct {
	ID        string  `json:"id"`
	Score     float64 `json:"score"`
	Threshold float64 `json:"threshold"`
	Match     bool    `json:"match"`
}

// Verify scores a probe made by model against the template of id.
func Verify(id string, t *Template, model [32]byte, cal *Calibration, probe []float32) (Decision, error) {
	if cal == nil {
		return Decision{}, errNoCalibration
	}
	if t.Model != model {
		return Decision{}, fmt.Errorf("biometric: %q was enrolled with model %x…, the extractor runs %x…: enroll again", id, t.Model[:8], model[:8])
	}
	s, err := t.Score(cal, probe)
	if err != nil {
		return Decision{}, fmt.Errorf("biometric: verify %q: %w", id, err)
	}
	return Decision{ID: id, Score: s, Threshold: cal.Threshold, Match: s >= cal.Threshold}, nil
}

// Enrolled is one clinician's template as identification sees it.
type Enrolled struct {
	ID       string
	Template *Template
}

// Identify scores a probe against every template and returns the best one;
// Match is false when even the best is below the threshold. The decisions
// for all candidates come back in the order given. Ties go to the earlier
// id, so the answer does not depend on map or directory order.
func Identify(ctx context.Context, all []Enrolled, model [32]byte, cal *Calibration, probe []float32) (Decision, []Decision, error) {
	if len(all) == 0 {
		return Decision{}, nil, fmt.Errorf("biometric: identify: the store holds no templates")
	}
	ds := make([]Decision, 0, len(all))
	best := -1
	for _, e := range all {
		if err := ctx.Err(); err != nil {
			return Decision{}, nil, err
		}
		d, err := Verify(e.ID, e.Template, model, cal, probe)
		if err != nil {
			return Decision{}, nil, err
		}
		ds = append(ds, d)
		if best < 0 || d.Score > ds[best].Score {
			best = len(ds) - 1
		}
	}
	return ds[best], ds, nil
}

// ExtractAll runs the extractor over images in order.
func ExtractAll(ctx context.Context, ext Extractor, imgs []image.Image) ([][]float32, error) {
	out := make([][]float32, len(imgs))
	for i, img := range imgs {
		v, err := ext.Features(ctx, img)
		if err != nil {
			return nil, fmt.Errorf("biometric: features of print %d: %w", i+1, err)
		}
		if err := checkVector(v); err != nil {
			return nil, fmt.Errorf("biometric: features of print %d: %w", i+1, err)
		}
		out[i] = v
	}
	return out, nil
}
