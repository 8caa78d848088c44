package biometric

import (
	"context"
	"fmt"
	"testing"
)

// BenchmarkVerify scores one 2048-feature probe against a 3-print template
// under a fitted standardisation: the work of one login after inference.
func BenchmarkVerify(b *testing.B) {
	vs := fingerVectors(1, 4, 2048, 0.3)
	cal := &Calibration{Threshold: 0.3}
	var cohort [][]float32
	for f := uint64(0); f < 8; f++ {
		cohort = append(cohort, fingerVectors(f, 3, 2048, 0.3)...)
	}
	if err := cal.FitStandardisation(cohort); err != nil {
		b.Fatal(err)
	}
	tm := &Template{Model: testModel, Vectors: vs[:3]}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Verify("a", tm, testModel, cal, vs[3]); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkIdentify is a 1:N search over n enrolled clinicians.
func BenchmarkIdentify(b *testing.B) {
	for _, n := range []int{10, 100} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			all := make([]Enrolled, n)
			for i := range all {
				all[i] = Enrolled{ID: fmt.Sprint(i), Template: &Template{Model: testModel, Vectors: fingerVectors(uint64(i), 3, 2048, 0.3)}}
			}
			probe := fingerVectors(5, 1, 2048, 0.3)[0]
			cal := &Calibration{Threshold: 0.5}
			b.ReportAllocs()
			for b.Loop() {
				if _, _, err := Identify(context.Background(), all, testModel, cal, probe); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkSealOpen is writing and reading back one 3-print template.
func BenchmarkSealOpen(b *testing.B) {
	key := make([]byte, 32)
	tm := &Template{Model: testModel, Vectors: fingerVectors(1, 3, 2048, 0.3)}
	sealed, err := Seal(key, "a", tm, nil)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(sealed)))
	b.ReportAllocs()
	for b.Loop() {
		s, err := Seal(key, "a", tm, nil)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := Open(key, "a", s); err != nil {
			b.Fatal(err)
		}
	}
}
