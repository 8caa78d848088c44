package minutiae

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sort"
	"sync"
)

// Compare prepares both templates and compares them; to compare one
// template many times, Prepare it once and use Prepared.Compare.
func Compare(a, b *Template) float64 { return Prepare(a).Compare(Prepare(b)) }

// MinImpressions is the number of impressions an enrollment takes: one
// impression misses minutiae another catches, and the best of several
// covers more of the finger.
const MinImpressions = 3

// Enrolled is one finger enrolled from several impressions. Its score
// against a probe is the best over the impressions.
type Enrolled struct {
	impressions []*Prepared
}

// Enroll makes an enrollment from at least MinImpressions templates.
func Enroll(ts []*Template) (*Enrolled, error) {
	if len(ts) < MinImpressions {
		return nil, fmt.Errorf("minutiae: enrollment needs %d impressions, have %d", MinImpressions, len(ts))
	}
	e := &Enrolled{}
	for i, t := range ts {
		if t == nil {
			return nil, fmt.Errorf("minutiae: enrollment impression %d is nil", i)
		}
		e.impressions = append(e.impressions, Prepare(t))
	}
	return e, nil
}

// enrollPrepared is Enroll without the minimum, for evaluations that must
// go on when an impression failed.
func enrollPrepared(ps []*Prepared) *Enrolled { return &Enrolled{impressions: ps} }

// Impressions returns the number of impressions.
func (e *Enrolled) Impressions() int { return len(e.impressions) }

// Score is the best similarity of the probe to any enrolled impression.
func (e *Enrolled) Score(probe *Prepared) float64 { return e.score(probe, &scratch{}) }

func (e *Enrolled) score(probe *Prepared, sc *scratch) float64 {
	var best float64
	for _, p := range e.impressions {
		if s := p.compare(probe, sc); s > best {
			best = s
		}
	}
	return best
}

// Candidate is one enrolled finger in a 1:N search.
type Candidate struct {
	ID       string
	Enrolled *Enrolled
}

// Hit is a candidate with its score.
type Hit struct {
	ID    string
	Score float64
}

// Identify scores the probe against every candidate and returns them best
// first (ties in ID order, so the answer never depends on the input order
// or on how the work was split). The gallery is shared among up to
// GOMAXPROCS goroutines, each checking ctx between candidates.
func Identify(ctx context.Context, probe *Prepared, gallery []Candidate) ([]Hit, error) {
	if probe == nil {
		return nil, errors.New("minutiae: identify: nil probe")
	}
	for _, c := range gallery {
		if c.Enrolled == nil {
			return nil, fmt.Errorf("minutiae: identify: candidate %q has no enrollment", c.ID)
		}
	}
	hits := make([]Hit, len(gallery))
	workers := max(1, min(runtime.GOMAXPROCS(0), len(gallery)/8))
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var sc scratch
			for i := w; i < len(gallery); i += workers {
				if ctx.Err() != nil {
					return
				}
				hits[i] = Hit{ID: gallery[i].ID, Score: gallery[i].Enrolled.score(probe, &sc)}
			}
		}()
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("minutiae: identify: %w", err)
	}
	sort.Slice(hits, func(i, j int) bool {
		if hits[i].Score != hits[j].Score {
			return hits[i].Score > hits[j].Score
		}
		return hits[i].ID < hits[j].ID
	})
	return hits, nil
}
