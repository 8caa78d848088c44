package chaos

import (
	"math"
	"testing"
)

// TestSinCosAccuracy holds the package's own sine and cosine to math.Sin and
// math.Cos: they must be the same functions, only with pinned rounding.
func TestSinCosAccuracy(t *testing.T) {
	const tol = 4e-16
	check := func(x float64) {
		t.Helper()
		if d := math.Abs(sin(x) - math.Sin(x)); d > tol {
			t.Fatalf("sin(%v) = %v, math.Sin gives %v (off by %g)", x, sin(x), math.Sin(x), d)
		}
		if d := math.Abs(cos(x) - math.Cos(x)); d > tol {
			t.Fatalf("cos(%v) = %v, math.Cos gives %v (off by %g)", x, cos(x), math.Cos(x), d)
		}
	}
	// The arguments the map produces, densely.
	for i := 0; i <= 100000; i++ {
		check(-2.5 + 3.5*float64(i)/100000)
	}
	// Quadrant edges, where the reduction switches kernels.
	for k := -8.0; k <= 8; k++ {
		for _, d := range []float64{-1e-9, 0, 1e-9} {
			check(k*math.Pi/4 + d)
		}
	}
	// The documented range.
	for i := 0; i <= 20000; i++ {
		check(-1000 + 2000*float64(i)/20000)
	}
}

func TestStepStaysInUnitSquare(t *testing.T) {
	edges := []float64{0, math.SmallestNonzeroFloat64, 1e-300, 0.5, math.Nextafter(1, 0)}
	for _, x := range edges {
		for _, y := range edges {
			nx, ny := step(x, y)
			if !(nx >= 0 && nx < 1 && ny >= 0 && ny < 1) {
				t.Errorf("step(%v, %v) = (%v, %v), outside [0,1)²", x, y, nx, ny)
			}
		}
	}
}

func TestFrac(t *testing.T) {
	for _, c := range []struct{ in, want float64 }{
		{0, 0}, {2.25, 0.25}, {-0.25, 0.75}, {-1e-300, 0}, {3, 0}, {-3, 0},
	} {
		if got := frac(c.in); got != c.want {
			t.Errorf("frac(%v) = %v, want %v", c.in, got, c.want)
		}
	}
}
