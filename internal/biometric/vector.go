package biometric

import (
	"context"
	"errors"
	"fmt"
	"image"
	"math"
)

// Extractor turns a print into a feature vector. *infer.Extractor satisfies
// it; tests use a small deterministic one, so this package needs no cgo.
type Extractor interface {
	Features(ctx context.Context, img image.Image) ([]float32, error)
}

// MaxDim bounds the feature vectors this package accepts and decodes.
const MaxDim = 4096

// ErrZeroVector is returned for a feature vector with no direction: it
// cannot be normalised and matches nothing.
var ErrZeroVector = errors.New("biometric: feature vector is all zeros")

// checkVector rejects vectors that would poison a template: wrong length,
// NaN or infinite values.
func checkVector(v []float32) error {
	if len(v) == 0 || len(v) > MaxDim {
		return fmt.Errorf("biometric: feature vector has %d values, want 1..%d", len(v), MaxDim)
	}
	for i, x := range v {
		if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
			return fmt.Errorf("biometric: feature %d is %v", i, x)
		}
	}
	return nil
}

// norm2 is the Euclidean length. Products of two float32 values are exact in
// float64, so no fused multiply-add can change the result between
// architectures.
func norm2(v []float32) float64 {
	var s float64
	for _, x := range v {
		s += float64(x) * float64(x)
	}
	return math.Sqrt(s)
}

// Normalize returns v scaled to unit length.
func Normalize(v []float32) ([]float32, error) {
	if err := checkVector(v); err != nil {
		return nil, err
	}
	n := norm2(v)
	if n == 0 || math.IsInf(n, 0) {
		return nil, ErrZeroVector
	}
	out := make([]float32, len(v))
	for i, x := range v {
		out[i] = float32(float64(x) / n)
	}
	return out, nil
}

// Cosine is the cosine similarity of two vectors of the same length, in
// [-1, 1]; 0 when either is all zeros.
func Cosine(a, b []float32) (float64, error) {
	if len(a) != len(b) {
		return 0, fmt.Errorf("biometric: comparing vectors of %d and %d values", len(a), len(b))
	}
	var dot float64
	for i := range a {
		dot += float64(a[i]) * float64(b[i])
	}
	na, nb := norm2(a), norm2(b)
	if na == 0 || nb == 0 {
		return 0, nil
	}
	c := dot / (na * nb)
	return math.Max(-1, math.Min(1, c)), nil
}

// meanDirection is the unit-length mean of the unit-length vectors vs: each
// print counts the same however bright or large its raw features are.
func meanDirection(vs [][]float32) ([]float32, error) {
	if len(vs) == 0 {
		return nil, errors.New("biometric: no feature vectors to average")
	}
	sum := make([]float64, len(vs[0]))
	for i, v := range vs {
		if len(v) != len(sum) {
			return nil, fmt.Errorf("biometric: vector %d has %d values, vector 0 has %d", i, len(v), len(sum))
		}
		u, err := Normalize(v)
		if err != nil {
			return nil, fmt.Errorf("biometric: vector %d: %w", i, err)
		}
		for j, x := range u {
			sum[j] += float64(x)
		}
	}
	m := make([]float32, len(sum))
	for j, s := range sum {
		m[j] = float32(s / float64(len(vs)))
	}
	return Normalize(m)
}
