package chaos

import "math"

// The map needs sine and cosine that give the same bits on every
// architecture. math.Sin and math.Cos do not: some ports use assembly and the
// pure Go version is compiled with fused multiply-adds on arm64. These are
// written with every product explicitly rounded (see step) and are accurate
// to about one unit in the last place for |t| ≤ 1000 (tested), far more range
// than the map uses (|t| < 2.5).

const (
	// pio2Hi is π/2 cut to 33 significant bits, so k·pio2Hi is exact for the
	// small k used here; pio2Lo is the rest of π/2 (Cody–Waite reduction).
	pio2Hi    = 0x1.921fb544p0
	pio2Lo    = math.Pi/2 - pio2Hi
	twoOverPi = 2 / math.Pi
)

// Taylor coefficients (−1)ᵏ/(2k+1)! and (−1)ᵏ/(2k)!: on |r| ≤ π/4 the first
// omitted terms (r¹⁹/19! and r¹⁸/18!) are below 10⁻¹⁷, a tenth of an ulp of
// the result.
const (
	s1 = -1.0 / 6
	s2 = 1.0 / 120
	s3 = -1.0 / 5040
	s4 = 1.0 / 362880
	s5 = -1.0 / 39916800
	s6 = 1.0 / 6227020800
	s7 = -1.0 / 1307674368000
	s8 = 1.0 / 355687428096000

	c1 = -1.0 / 2
	c2 = 1.0 / 24
	c3 = -1.0 / 720
	c4 = 1.0 / 40320
	c5 = -1.0 / 3628800
	c6 = 1.0 / 479001600
	c7 = -1.0 / 87178291200
	c8 = 1.0 / 20922789888000
)

// reduce writes t as q·π/2 + r with |r| ≤ π/4 (plus rounding) and returns r
// and q.
func reduce(t float64) (float64, int) {
	k := math.Floor(float64(t*twoOverPi) + 0.5)
	r := float64(t-float64(k*pio2Hi)) - float64(k*pio2Lo)
	return r, int(int64(k))
}

// poly8 is k0 + k1·z + … + k7·z⁷ in Estrin's scheme: the map is one long
// chain of dependent steps, so a shallow evaluation tree is what makes it fast.
func poly8(z, k0, k1, k2, k3, k4, k5, k6, k7 float64) float64 {
	z2 := float64(z * z)
	z4 := float64(z2 * z2)
	a0 := float64(k1*z) + k0
	a1 := float64(k3*z) + k2
	a2 := float64(k5*z) + k4
	a3 := float64(k7*z) + k6
	b0 := float64(a1*z2) + a0
	b1 := float64(a3*z2) + a2
	return float64(b1*z4) + b0
}

// sinQuarter is sin(t + shift·π/2). It evaluates both kernels and picks one
// with bit masks instead of branching on the quadrant: the quadrant is as good
// as random from step to step, so a branch on it would be mispredicted about
// half the time, which costs more than the second polynomial.
func sinQuarter(t float64, shift int) float64 {
	r, q := reduce(t)
	q += shift
	z := float64(r * r)
	ps := poly8(z, s1, s2, s3, s4, s5, s6, s7, s8)
	pc := poly8(z, c1, c2, c3, c4, c5, c6, c7, c8)
	sb := math.Float64bits(r + float64(float64(r*z)*ps))
	cb := math.Float64bits(1 + float64(z*pc))
	odd := -uint64(q & 1)
	v := sb&^odd | cb&odd
	v ^= uint64(q&2) << 62 // quadrants 2 and 3 are negative
	return math.Float64frombits(v)
}

func sin(t float64) float64 { return sinQuarter(t, 0) }

func cos(t float64) float64 { return sinQuarter(t, 1) }
