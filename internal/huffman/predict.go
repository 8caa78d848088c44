package huffman

// errState is version 3's memory of the prediction errors of a plane's last
// two rows: the table choice looks at how wrong the prediction was around a
// sample, which tracks local texture better than the context's mean error
// alone. Slot x+2 holds sample x; slots 0, 1 and w+2 stay zero, the
// neighbours outside the row.
type errState struct {
	te     []int32 // |prediction − sample|
	cr, pr int     // slot offsets of the current and the previous row
	stride int
}

func (s *errState) reset(w int) {
	s.stride = w + 3
	s.te = resize(s.te, 2*s.stride)
	clear(s.te)
}

// row starts row y.
func (s *errState) row(y int) {
	s.cr = (y & 1) * s.stride
	s.pr = s.stride - s.cr
}

// near is the largest error magnitude among sample x's neighbours left,
// above, above-left and above-right, and three quarters of the one two to
// the left.
func (s *errState) near(x int) int32 {
	te := s.te
	c, n := s.cr+x, s.pr+x+2
	return max32(max32(te[c+1], 3*te[c]>>2), max32(max32(te[n-1], te[n]), te[n+1]))
}

// max32 is the larger of two values in [0, 2³⁰) without a branch: which
// neighbour erred most is as unpredictable as the errors.
func max32(a, b int32) int32 {
	d := a - b
	return a - d&(d>>31)
}

// set records sample x's error e.
func (s *errState) set(x int, e int32) { s.te[s.cr+x+2] = abs32(e) }

// flat records samples x..x+n−1 as predicted without error: a run.
func (s *errState) flat(x, n int) { clear(s.te[s.cr+x+2 : s.cr+x+2+n]) }

// abs32 is |v| without a branch: the sign of a prediction error is a coin
// toss, which a branch predictor gets wrong half the time.
func abs32(v int32) int32 {
	m := v >> 31
	return (v ^ m) - m
}

// Predictors of a version 3 colour plane.
const (
	predGradient = 0 // the median edge detector with bias correction, as for gray
	predMap      = 1 // the colour map
)

// colourPred is the colour-map predictor of an RGB colour plane: map[g] is
// the value the plane last took, in regular mode, at a pixel whose G sample
// is g (0 before any). It follows the palettes of Doppler and other
// pseudo-colour overlays, which gradients within the colour plane cannot.
type colourPred struct {
	green []int32 // the stripe's interleaved RGB samples; G is decoded first
	vmap  []int32
	g     int32 // the current sample's G
}

// reset starts a plane whose G samples lie in [0, top].
func (c *colourPred) reset(green []int32, top int32) {
	c.green = green
	c.vmap = resize(c.vmap, int(top)+1)
	clear(c.vmap)
}

// predict gives the prediction of sample i of the plane, clamped to [lo, hi].
func (c *colourPred) predict(i int, lo, hi int32) int32 {
	c.g = c.green[3*i+1]
	return min(max(c.vmap[c.g], lo), hi)
}

// update records the value v of the regular-mode sample just predicted.
func (c *colourPred) update(v int32) { c.vmap[c.g] = v }
