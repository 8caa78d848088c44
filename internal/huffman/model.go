package huffman

import "math/bits"

// The predictive model follows JPEG-LS (ITU-T T.87) in its lossless form:
// median edge detector prediction, 365 gradient contexts with bias
// correction, a run mode for flat areas. Where JPEG-LS codes each residual
// with an adaptive Golomb code, this codec picks one of a few static Huffman
// tables by the context's running mean residual magnitude, so each table
// fits the real distribution of its class instead of a geometric one.

const (
	numContexts = 365
	resetCount  = 64 // JPEG-LS RESET: halve the context counts at this many samples
	minC, maxC  = -128, 127

	// numClasses is the number of residual tables: classes are half octaves
	// of the context's mean |residual| (see class).
	numClasses = 34

	regAlphabet  = 64                        // version 1: tokens for residuals below 2¹⁶ (see token)
	regAlphabet2 = 68                        // version 2: below 2¹⁷, which the R−G and B−G planes of 16-bit RGB need
	runAlphabet  = 1 + 16 + 4*(maxRunBits-4) // end-of-row, then tokens for run lengths below 2³⁰

	tabRun     = 0 // run lengths
	tabIntr    = 1 // run interruption, left ≠ above
	tabIntrEq  = 2 // run interruption, left = above
	tabReg     = 3 // first regular-mode class
	numTables  = tabReg + numClasses
	maxRunBits = 30
)

// token splits a non-negative value into a Huffman symbol and extra bits:
// values below 16 are their own symbol; a larger one is coded by its bit
// length and the two bits after its leading one, and the rest go raw. The
// alphabet stays small for 16-bit residuals while the symbol still carries
// nearly all the information a Huffman code can exploit.
func token(m uint32) (tok, extra uint32, nb uint) {
	if m < 16 {
		return m, 0, 0
	}
	n := uint(bits.Len32(m)) - 1
	nb = n - 2
	return 16 + uint32(n-4)<<2 + (m>>nb)&3, m & (1<<nb - 1), nb
}

// tokenBits gives the leading part of the value of tok ≥ 16 and its number
// of extra bits.
func tokenBits(tok uint32) (base uint32, nb uint) {
	n := uint(tok-16)>>2 + 4
	nb = n - 2
	return 1<<n | (tok&3)<<nb, nb
}

// context is the adaptive state of one gradient context.
type context struct {
	a, b, n int32 // sum of |residual|, sum of residuals, count
	c       int32 // bias correction
}

// model is the per-plane state both sides keep in step.
type model struct {
	ctx        [numContexts]context
	t1, t2, t3 int32 // gradient quantisation thresholds
	lo, hi     int32 // sample range
	rng        int32 // hi - lo + 1
	half       int32 // residuals are reduced into [-half, rng-half-1]

	// qtab[d+maxval] is the quantised gradient d; every gradient within a
	// plane lies in [-maxval, maxval]. Rebuilt only when the plane's maxval
	// or thresholds differ from the last plane's.
	qtab   []int8
	qmax   int32
	qkey   [3]int32
	cmap   [729]uint16 // (q1+4)·81 + (q2+4)·9 + q3+4 → context | negSign
	cready bool
	last   int32 // |residual| of the last regular-mode sample of the plane
}

const negSign = 1 << 15

// reset prepares the model for a plane of samples in [lo, hi] whose values
// span maxval (the encoder's measurement, carried in the stream; it sets the
// gradient thresholds the way JPEG-LS derives them from MAXVAL).
func (m *model) reset(lo, hi, maxval int32) {
	m.lo, m.hi = lo, hi
	m.rng = hi - lo + 1
	m.half = m.rng / 2
	m.t1, m.t2, m.t3 = thresholds(maxval)
	if !m.cready {
		m.buildContextMap()
	}
	if k := [3]int32{m.t1, m.t2, m.t3}; k != m.qkey || maxval != m.qmax || m.qtab == nil {
		m.qkey, m.qmax = k, maxval
		m.qtab = resize(m.qtab, int(2*maxval+1))
		for d := -maxval; d <= maxval; d++ {
			m.qtab[d+maxval] = int8(m.quant(d))
		}
	}
	m.last = 0
	a := max(2, (maxval+1+32)>>6)
	for i := range m.ctx {
		m.ctx[i] = context{a: a, n: 1}
	}
}

// thresholds are JPEG-LS's default T1, T2, T3 for lossless coding (T.87 C.2.4.1.1).
func thresholds(maxval int32) (t1, t2, t3 int32) {
	clampT := func(v, lo, hi int32) int32 {
		if v > hi || v < lo {
			return lo
		}
		return v
	}
	if maxval < 1 {
		maxval = 1
	}
	if maxval >= 128 {
		f := (min(maxval, 4095) + 128) >> 8
		t1 = clampT(f*(3-2)+2, 1, maxval)
		t2 = clampT(f*(7-3)+3, t1, maxval)
		t3 = clampT(f*(21-4)+4, t2, maxval)
		return
	}
	f := 256 / (maxval + 1)
	t1 = clampT(max(2, 3/f), 1, maxval)
	t2 = clampT(max(3, 7/f), t1, maxval)
	t3 = clampT(max(4, 21/f), t2, maxval)
	return
}

// quant maps a gradient to one of nine levels, −4..4.
func (m *model) quant(d int32) int32 {
	switch {
	case d <= -m.t3:
		return -4
	case d <= -m.t2:
		return -3
	case d <= -m.t1:
		return -2
	case d < 0:
		return -1
	case d == 0:
		return 0
	case d < m.t1:
		return 1
	case d < m.t2:
		return 2
	case d < m.t3:
		return 3
	}
	return 4
}

// buildContextMap fills cmap: JPEG-LS merges each context with its mirror
// of opposite sign, negating the residual.
func (m *model) buildContextMap() {
	for q1 := int32(-4); q1 <= 4; q1++ {
		for q2 := int32(-4); q2 <= 4; q2++ {
			for q3 := int32(-4); q3 <= 4; q3++ {
				a1, a2, a3, neg := q1, q2, q3, uint16(0)
				if a1 < 0 || (a1 == 0 && (a2 < 0 || (a2 == 0 && a3 < 0))) {
					a1, a2, a3, neg = -a1, -a2, -a3, negSign
				}
				// Lexicographically non-negative, so a1·81 + a2·9 + a3 lies
				// in [0, 364]; 0 is the run-mode context, never used here.
				m.cmap[(q1+4)*81+(q2+4)*9+q3+4] = uint16(a1*81+a2*9+a3) | neg
			}
		}
	}
	m.cready = true
}

// context returns the context index for the gradients of a sample that is not
// in run mode, and whether its residual is negated. The clamps change nothing
// for a stream this package wrote, but a damaged one can decode samples
// outside the spread its plane declares.
func (m *model) context(d1, d2, d3 int32) (q int, neg bool) {
	qt, o := m.qtab, m.qmax
	d1, d2, d3 = min(max(d1, -o), o), min(max(d2, -o), o), min(max(d3, -o), o)
	c := m.cmap[int(qt[d1+o])*81+int(qt[d2+o])*9+int(qt[d3+o])+364]
	return int(c &^ negSign), c&negSign != 0
}

// predict is the median edge detector plus the context's bias correction.
func (m *model) predict(q int, neg bool, a, b, c int32) int32 {
	var p int32
	switch {
	case c >= max(a, b):
		p = min(a, b)
	case c <= min(a, b):
		p = max(a, b)
	default:
		p = a + b - c
	}
	if neg {
		p -= m.ctx[q].c
	} else {
		p += m.ctx[q].c
	}
	return min(max(p, m.lo), m.hi)
}

// class picks the residual table from the expected |residual|: the
// context's mean A/N weighted 3:1 with the last coded |residual| (which
// tracks local texture faster than a context shared across the plane), in
// half octaves: 0 for an expectation ≤ 1, then two classes per doubling.
func (m *model) class(q int) int {
	cx := &m.ctx[q]
	// a/n is the expectation; a < 2²⁶ and n ≤ 256 keep every product below 2³¹.
	a, n := 3*cx.a+cx.n*m.last, 4*cx.n
	// The least k with n·2^k ≥ a: n·2^k has the bit length of a at
	// k = len(a) − len(n), and is at least a one step later.
	k := max(0, bits.Len32(uint32(a))-bits.Len32(uint32(n)))
	if n<<k < a {
		k++
	}
	if k == 0 {
		return 0
	}
	cl := 2*k - 1
	if 2*a > 3*(n<<(k-1)) {
		cl++
	}
	return min(cl, numClasses-1)
}

// update folds a coded residual into its context (T.87 A.6 and A.6.2).
func (m *model) update(q int, e int32) {
	cx := &m.ctx[q]
	cx.b += e
	if e < 0 {
		cx.a -= e
		m.last = -e
	} else {
		cx.a += e
		m.last = e
	}
	if cx.n == resetCount {
		cx.a >>= 1
		if cx.b >= 0 {
			cx.b >>= 1
		} else {
			cx.b = -((1 - cx.b) >> 1)
		}
		cx.n >>= 1
	}
	cx.n++
	if cx.b <= -cx.n {
		cx.b += cx.n
		if cx.c > minC {
			cx.c--
		}
		if cx.b <= -cx.n {
			cx.b = -cx.n + 1
		}
	} else if cx.b > 0 {
		cx.b -= cx.n
		if cx.c < maxC {
			cx.c++
		}
		if cx.b > 0 {
			cx.b = 0
		}
	}
}

// reduce maps a prediction error into the plane's range modulo its size, so
// every residual fits the sample's bit depth.
func (m *model) reduce(e int32) int32 {
	if e < -m.half {
		e += m.rng
	} else if e >= m.rng-m.half {
		e -= m.rng
	}
	return e
}

// wrap is the decoder's inverse of reduce: p + e brought back into [lo, hi].
func (m *model) wrap(v int32) int32 {
	if v < m.lo {
		v += m.rng
	} else if v > m.hi {
		v -= m.rng
	}
	return v
}

// class3 is version 3's class of a regular-mode sample in context q: from
// the expectation E = A/N + me, the context's mean |residual| plus me, the
// largest |error| among the sample's four causal neighbours (which tracks
// local texture better than a context shared across the plane, or than the
// last residual class uses), in the same half octaves as class.
func (m *model) class3(q int, me int32) int {
	// A < 2²⁴, N ≤ 64 and me < 2¹⁷ (it is a difference of two samples of the
	// plane): no sum reaches 2³¹.
	cx := m.ctx[q]
	return halfOctave(cx.a+cx.n*me, cx.n)
}

// halfOctave is the class of the expectation a/n > 0: 0 up to 1, then
// 2k−1 for 2^(k−1) < a/n ≤ 1.5·2^(k−1) and 2k up to 2^k, at most 33.
func halfOctave(a, n int32) int {
	// Branch-free: the class follows the data, which no predictor can guess.
	// t = n·2^k is the least such multiple not below a (k ≥ 0).
	k := bits.Len32(uint32(a)) - bits.Len32(uint32(n))
	k &^= k >> (bits.UintSize - 1)
	t := n << uint(k)
	lt := int((t - a) >> 31) // −1 when t < a
	k -= lt
	t <<= uint(-lt)
	cl := 2*k - 1 + int((3*t-4*a)>>31&1) // the upper half past 3/4 of t
	cl &= int((n - a) >> 31)             // 0 when a ≤ n
	return min(cl, numClasses-1)
}
