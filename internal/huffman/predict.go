package huffman

import "math/bits"

// Version 3 predicts with a blend of four predictors weighted by how well
// each did on the neighbouring samples (the scheme of JPEG XL's weighted
// predictor, in integers only), where JPEG-LS's median edge detector takes
// whichever of three guesses the local gradients pick. Values are kept with
// wpFrac fraction bits so the blend and the error feedback keep precision.

const (
	wpFrac  = 3
	wpRound = 1<<wpFrac/2 - 1 // rounds an error to the nearest whole sample, ties down
)

// wpMaxWeight weighs the four predictors before their error history does.
var wpMaxWeight = [4]uint32{13, 12, 12, 12}

// wpRecip[i] is 2²⁴/(i+1), the divisions the blend needs.
var wpRecip = func() (t [64]uint32) {
	for i := range t {
		t[i] = (1 << 24) / uint32(i+1)
	}
	return t
}()

// wpWeight turns a predictor's summed recent error e into its weight, about
// maxw·2²⁴/(e+1), with e first scaled down to six significant bits.
func wpWeight(e, maxw uint32) uint32 {
	sh := max(0, bits.Len32(e+1)-6)
	return 4 + (maxw*wpRecip[(e>>sh)&63])>>sh
}

// wpState is the weighted predictor's memory of one plane: for the current
// and the previous row, each sample's signed error of the blended prediction
// (te) and the four predictors' absolute errors (pe), both scaled by 2^wpFrac.
// Slot x+1 holds sample x; slot 0 stays zero, the left neighbour of a row's
// first sample.
type wpState struct {
	te     []int32
	pe     [][4]uint32
	sub    [4]int32 // the four predictions of the current sample
	pw     int32    // their blend, clamped to the plane's range
	cr, pr int      // slot offsets of the current and the previous row
	stride int
	lo, hi int32 // the plane's range, scaled
}

func (s *wpState) reset(w int, lo, hi int32) {
	s.stride = w + 2
	s.te = resize(s.te, 2*s.stride)
	clear(s.te)
	s.pe = resize(s.pe, 2*s.stride)
	clear(s.pe)
	s.lo, s.hi = lo<<wpFrac, hi<<wpFrac
}

// row starts row y.
func (s *wpState) row(y int) {
	s.cr = (y & 1) * s.stride
	s.pr = s.stride - s.cr
}

// predict returns the blended prediction of sample x, scaled, from its
// neighbours a (left), b (above), c (above-left), d (above-right), and the
// largest magnitude of the neighbours' errors, a measure of how unsure the
// prediction is.
func (s *wpState) predict(x, w int, a, b, c, d int32) (pw, maxErr int32) {
	n := s.pr + x + 1
	ne, nw := n+1, n-1
	if x == w-1 {
		ne = n
	}
	if x == 0 {
		nw = n
	}
	pe := s.pe
	pN, pNE, pNW := &pe[n], &pe[ne], &pe[nw]
	var wt [4]uint32
	var tot uint32
	for i := range wt {
		wt[i] = wpWeight(pN[i]+pNE[i]+pNW[i], wpMaxWeight[i])
		tot += wt[i]
	}
	te := s.te
	teW, teN, teNW, teNE := te[s.cr+x], te[n], te[nw], te[ne]
	N, W, NE := b<<wpFrac, a<<wpFrac, d<<wpFrac
	sumWN := teN + teW
	s.sub[0] = W + NE - N
	s.sub[1] = N - (sumWN+teNE)*16>>5
	s.sub[2] = W - (sumWN+teNW)*10>>5
	s.sub[3] = N - (teNW+teN+teNE)*7>>5
	// Keep five significant bits of the weights so their sum indexes wpRecip.
	sh := max(0, bits.Len32(tot)-5)
	var wsum uint32
	var sum int64
	for i := range wt {
		wi := wt[i] >> sh
		wsum += wi
		sum += int64(s.sub[i]) * int64(wi)
	}
	sum += int64(wsum>>1) - 1
	pw = int32(sum * int64(wpRecip[(wsum-1)&63]) >> 24)
	if (teN^teW)|(teN^teNW) <= 0 {
		// The neighbours' errors do not agree in sign: stay within them.
		pw = min(max(pw, min(W, N, NE)), max(W, N, NE))
	}
	pw = min(max(pw, s.lo), s.hi)
	s.pw = pw
	return pw, max(abs32(teW), abs32(teN), abs32(teNW), abs32(teNE))
}

// update records the errors of the last prediction against sample x's
// value v. Each predictor's error also goes to the slot above-right, which
// sample x+1 reads as its above neighbour and x+2 as its above-left, so the
// sums predict reads cover N, NE, NW, W and WW.
func (s *wpState) update(x int, v int32) {
	v <<= wpFrac
	s.te[s.cr+x+1] = s.pw - v
	cur, up := &s.pe[s.cr+x+1], &s.pe[s.pr+x+2]
	for i, p := range s.sub {
		e := uint32((abs32(p-v) + wpRound) >> wpFrac)
		cur[i] = e
		up[i] += e
	}
}

// flat records samples x..x+n−1 as predicted without error: a run, where
// every predictor gives the run's value.
func (s *wpState) flat(x, n int) {
	clear(s.te[s.cr+x+1 : s.cr+x+1+n])
	clear(s.pe[s.cr+x+1 : s.cr+x+1+n])
}

func abs32(v int32) int32 {
	if v < 0 {
		return -v
	}
	return v
}
