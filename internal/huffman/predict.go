package huffman

// errState is version 3's memory of the prediction errors of a plane's last
// two rows: the table choice looks at how wrong the prediction was around a
// sample, which tracks local texture better than the context's mean error
// alone. Slot x+1 holds sample x; slots 0 and w+1 stay zero, the neighbours
// outside the row.
type errState struct {
	te     []int32 // prediction − sample
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
// above, above-left and above-right.
func (s *errState) near(x int) int32 {
	te := s.te
	n := s.pr + x + 1
	return max(abs32(te[s.cr+x]), abs32(te[n]), abs32(te[n-1]), abs32(te[n+1]))
}

// set records sample x's error.
func (s *errState) set(x int, e int32) { s.te[s.cr+x+1] = e }

// flat records samples x..x+n−1 as predicted without error: a run.
func (s *errState) flat(x, n int) { clear(s.te[s.cr+x+1 : s.cr+x+1+n]) }

func abs32(v int32) int32 {
	if v < 0 {
		return -v
	}
	return v
}
