package biometric

import (
	"context"
	"fmt"
	"image"
	"strings"
)

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

// Enroll makes a template from the feature vectors of one clinician's prints,
// made by the model with SHA-256 model. Each print must score at least
// threshold against the template of the others, the same test verification
// applies, so that a smudged print or a print of another finger is caught
// while the clinician is still at the device. The leave-one-out scores are
// returned either way.
func Enroll(model [32]byte, vectors [][]float32, threshold float64) (*Template, []float64, error) {
	if len(vectors) < MinPrints || len(vectors) > MaxPrints {
		return nil, nil, fmt.Errorf("biometric: enrollment takes %d..%d prints, got %d", MinPrints, MaxPrints, len(vectors))
	}
	for i, v := range vectors {
		if err := checkVector(v); err != nil {
			return nil, nil, fmt.Errorf("biometric: print %d: %w", i+1, err)
		}
	}
	scores := make([]float64, len(vectors))
	agree := true
	others := make([][]float32, 0, len(vectors)-1)
	for i := range vectors {
		others = append(others[:0], vectors[:i]...)
		others = append(others, vectors[i+1:]...)
		m, err := meanDirection(others)
		if err != nil {
			return nil, nil, err
		}
		if scores[i], err = Cosine(m, vectors[i]); err != nil {
			return nil, nil, err
		}
		if scores[i] < threshold {
			agree = false
		}
	}
	if !agree {
		return nil, scores, &AgreementError{Scores: scores, Threshold: threshold}
	}
	mean, err := meanDirection(vectors)
	if err != nil {
		return nil, scores, err
	}
	t := &Template{Model: model, Mean: mean, Vectors: make([][]float32, len(vectors))}
	for i, v := range vectors {
		t.Vectors[i] = append([]float32(nil), v...)
	}
	return t, scores, nil
}

// Score is the cosine similarity of a probe's features to the template.
func (t *Template) Score(probe []float32) (float64, error) {
	if err := checkVector(probe); err != nil {
		return 0, err
	}
	return Cosine(t.Mean, probe)
}

// Decision is the answer to "is this clinician ID?".
type Decision struct {
	ID        string  `json:"id"`
	Score     float64 `json:"score"`
	Threshold float64 `json:"threshold"`
	Match     bool    `json:"match"`
}

// Verify scores a probe against the template of id.
func Verify(id string, t *Template, model [32]byte, probe []float32, threshold float64) (Decision, error) {
	if t.Model != model {
		return Decision{}, fmt.Errorf("biometric: %q was enrolled with model %x…, the extractor runs %x…: enroll again", id, t.Model[:8], model[:8])
	}
	s, err := t.Score(probe)
	if err != nil {
		return Decision{}, fmt.Errorf("biometric: verify %q: %w", id, err)
	}
	return Decision{ID: id, Score: s, Threshold: threshold, Match: s >= threshold}, nil
}

// Enrolled is one clinician's template as identification sees it.
type Enrolled struct {
	ID       string
	Template *Template
}

// Identify scores a probe against every template and returns the best one;
// Match is false when even the best is below threshold. The scores of all
// candidates come back in the order given. Ties go to the earlier id, so the
// answer does not depend on map or directory order.
func Identify(ctx context.Context, all []Enrolled, model [32]byte, probe []float32, threshold float64) (Decision, []Decision, error) {
	if len(all) == 0 {
		return Decision{}, nil, fmt.Errorf("biometric: identify: the store holds no templates")
	}
	ds := make([]Decision, 0, len(all))
	best := -1
	for _, e := range all {
		if err := ctx.Err(); err != nil {
			return Decision{}, nil, err
		}
		d, err := Verify(e.ID, e.Template, model, probe, threshold)
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
