package huffman

// errState is version 3's memory of the prediction errors of a plane's last
// two rows: the table choice looks at how wrong the prediction was around a
// sample, which tracks local texture better than the context's mean error
// alone. Slot x+1 holds sample x; slots 0 and w+1 stay zero, the neighbours
// outside the row.
type errState struct {
	te     []int32 // |prediction − sample|
	cr, pr int     // slot offsets of the current and the previous row
	stride int
}

func (s *errState) reset(w int) {
	s.stride = w + 2
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
	n, w := s.pr+x+1, s.cr+x
	return max(te[w], te[n], te[n-1], te[n+1], 3*te[max(w-1, s.cr)]>>2)
}

// set records sample x's error e.
func (s *errState) set(x int, e int32) { s.te[s.cr+x+1] = abs32(e) }

// flat records samples x..x+n−1 as predicted without error: a run.
func (s *errState) flat(x, n int) { clear(s.te[s.cr+x+1 : s.cr+x+1+n]) }

func abs32(v int32) int32 {
	if v < 0 {
		return -v
	}
	return v
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
