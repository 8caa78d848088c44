package embed

import (
	"fmt"
	"math"
	"slices"
)

// embedder plans and makes one mark. It works on u, the image in the offset
// domain, and changes it only when a plan is final.
type embedder struct {
	v     uint8 // the mark version made
	g     *geom
	k     *keys
	u     []int32
	keyed [2]*keyedColour
	sc    orderScratch
	undo  []int32
	// first caches colour 0's pass over the unmarked image for one reserved
	// set: the search and the final mark both start from it.
	first      pass
	firstFor   int
	firstValid bool
	// second holds the buffers of colour 1's passes, reused as the search
	// tries one split after another.
	second pass
	// lazyMin is the smallest colour, in samples, whose passes are made
	// lazily (see lazyOrder); smaller ones are sorted whole.
	lazyMin, lazyFirst    int
	firstLazy, secondLazy lazyOrder
}

// lazyColour is the default lazyMin: 2¹⁸ samples, where the whole sort
// starts to cost more than its image-sized buffers are worth.
const lazyColour = 1 << 18

func newEmbedder(g *geom, k *keys, u []int32) *embedder {
	return &embedder{v: version, g: g, k: k, u: u, lazyMin: lazyColour, lazyFirst: lazyFirst}
}

// lazy reports whether a colour of keyed's size is ordered lazily.
func (e *embedder) lazy(kc *keyedColour) bool {
	return kc.n >= e.lazyMin && kc.n > 0 && !(e.g.w == 1 && e.g.h == 1)
}

func (e *embedder) colour(c int) *keyedColour {
	if e.keyed[c] == nil {
		e.keyed[c] = e.g.shuffleColour(e.k.pos, c, e.v)
	}
	return e.keyed[c]
}

// run hides payload and tag. The reserved samples must hold the header and
// one flag per sample in the zones near the range ends, and the flags are
// known only after embedding, while the stream carries the reserved samples'
// own low bits: so it plans with a guess of their number and plans again,
// with more, when the flags outgrow it.
func (e *embedder) run(payload []byte, tag func() []byte) error {
	g := e.g
	r := headerBits
	for range 8 {
		if r > maxReserved(g.n) {
			break
		}
		list, res := reserved(e.k.pos, g.n, r)
		// The first pass does not depend on the stream: order it before
		// waiting for the tag (search takes it from the cache).
		e.firstPass(res, list)
		var sw bitWriter
		sw.bytes(payload)
		for _, i := range list {
			sw.bit(uint32(e.u[i]))
		}
		sw.bytes(tag())
		whiten(sw.b, e.k)

		c := e.search(res, list, &sw)
		if !c.ok {
			return fmt.Errorf("%w: %d-byte payload needs %d bits, the %d×%d image with %d planes carries at most about %d",
				ErrCapacity, len(payload), sw.n, g.w, g.h, g.n/(g.w*g.h), e.upperBound())
		}
		// Mark e.u itself, keeping what each pass overwrote so that a plan
		// whose flags outgrow the reserved samples can be taken back.
		u := e.u
		var f1, f2 bitWriter
		p1 := e.firstPass(res, list)
		undo1 := e.undo[:0]
		embedPass(u, g.m, p1, c.p1, bitReader{b: sw.b, n: c.l1}, true, &f1, math.MaxUint64, &undo1)
		var p2 pass
		var undo2 []int32
		if c.l1 < sw.n {
			p2 = e.pass(u, res, list, 1)
			embedPass(u, g.m, p2, c.p2, bitReader{b: sw.b, n: sw.n, pos: c.l1}, true, &f2, math.MaxUint64, &undo2)
		}
		need := headerBits + f1.n + f2.n
		if need > r {
			undoPass(u, p2, undo2)
			undoPass(u, p1, undo1)
			e.undo = undo1
			r = need + need/8 + 16
			continue
		}
		h := header{v: e.v, r: r, n: len(payload), l1: c.l1, p1: c.p1, p2: c.p2}
		var side bitWriter
		h.write(&side, e.k, g.m)
		for _, f := range []*bitWriter{&f2, &f1} {
			fr := bitReader{b: f.b, n: f.n}
			for fr.left() > 0 {
				side.bit(fr.bit())
			}
		}
		sr := bitReader{b: side.b, n: side.n}
		for _, i := range list {
			u[i] = withLow(u[i], sr.bit())
		}
		return nil
	}
	return fmt.Errorf("%w: %d-byte payload needs %d bits of side information, the %d×%d image with %d planes has room for %d bits",
		ErrCapacity, len(payload), r, g.w, g.h, g.n/(g.w*g.h), maxReserved(g.n))
}

func (e *embedder) pass(u []int32, res bitset, list []uint32, c int) pass {
	if c == 0 {
		if keyed := e.colour(c); e.lazy(keyed) {
			var l lazyOrder
			return l.start(e.g, u, res, list, keyed, new(errHist), e.lazyFirst)
		}
		return e.g.order(u, res, list, e.colour(c), &e.sc, pass{hist: new(errHist)})
	}
	if e.second.hist == nil {
		e.second.hist = new(errHist)
	}
	if keyed := e.colour(c); e.lazy(keyed) {
		e.second = e.secondLazy.start(e.g, u, res, list, keyed, e.second.hist, e.lazyFirst)
		return e.second
	}
	e.second.lazy = nil
	e.second = e.g.order(u, res, list, e.colour(c), &e.sc, e.second)
	return e.second
}

// firstPass is colour 0's pass over the unmarked e.u. Its keyed order is
// needed for nothing else, so it is dropped once the pass is made.
func (e *embedder) firstPass(res bitset, list []uint32) pass {
	if !e.firstValid || e.firstFor != len(list) {
		if e.first.hist == nil {
			e.first.hist = new(errHist)
		}
		if keyed := e.colour(0); e.lazy(keyed) {
			e.first = e.firstLazy.start(e.g, e.u, res, list, keyed, e.first.hist, e.lazyFirst)
		} else {
			e.first.lazy = nil
			e.first = e.g.order(e.u, res, list, keyed, &e.sc, e.first)
		}
		e.firstFor, e.firstValid = len(list), true
		e.keyed[0] = nil
	}
	return e.first
}

type choice struct {
	p1, p2 params
	l1     int
	dist   uint64
	ok     bool
}

// splits are the shares of the stream, in quarters, tried in pass 1: all of
// it first, which is best when the smooth samples of one colour suffice.
// Images of wholeSearchMax samples or more stop at the first split that
// carries the stream: from 2¹⁸ samples (a 512² CT slice, or 512×170 RGB) the
// other splits cost the second colour's ordering three times over, and on the
// sample CT the first split measured no worse (76.3 against 76.1 dB PSNR).
var splits = [...]int{4, 3, 2, 1}

const wholeSearchMax = 1 << 18

// search finds the settings and split of the stream s between the two passes
// with the least squared change. It leaves e.u as it found it.
func (e *embedder) search(res bitset, list []uint32, s *bitWriter) choice {
	g := e.g
	best := choice{dist: math.MaxUint64}
	p1 := e.firstPass(res, list)
	for _, q := range splits {
		l1 := s.n * q / 4
		c1, d1, ok := bestParams(e.u, g.m, p1, bitReader{b: s.b, n: l1}, best.dist)
		if !ok {
			continue
		}
		if l1 == s.n {
			best = choice{p1: c1, l1: l1, dist: d1, ok: true}
			if g.n >= wholeSearchMax {
				// On a large image one colour's smoothest samples carry
				// the stream far below any visible change; sharing it
				// with the other colour would cost that colour's whole
				// ordering for a gain nobody can measure. The header
				// records the split, so the extractor needs no rule.
				break
			}
			continue
		}
		undo := e.undo[:0]
		embedPass(e.u, g.m, p1, c1, bitReader{b: s.b, n: l1}, true, &bitWriter{}, math.MaxUint64, &undo)
		p2 := e.pass(e.u, res, list, 1)
		c2, d2, ok := bestParams(e.u, g.m, p2, bitReader{b: s.b, n: s.n, pos: l1}, best.dist-d1)
		undoPass(e.u, p1, undo)
		e.undo = undo
		if ok && d1+d2 < best.dist {
			best = choice{p1: c1, p2: c2, l1: l1, dist: d1 + d2, ok: true}
		}
	}
	return best
}

// windows lists the candidate window sizes tp: every small one, then
// growing by a quarter, up to m.
func windows(m int32) []int32 {
	var ts []int32
	for t := int32(1); t <= m; {
		ts = append(ts, t)
		if t < 6 {
			t++
		} else {
			t += t / 4
		}
	}
	return ts
}

// patience is how many wider windows are priced after the last improvement:
// the cost of a window first falls (fewer samples are needed) and then rises
// (each expansion moves further).
const patience = 3

// errHist counts the prediction errors of a pass, both as they are (e, for
// the fixed directions) and turned by the prediction-chosen direction (for
// modes 2 and 3). Errors within ±lim are counted in place, as prefix sums;
// the rare larger ones (an edge in a 16-bit image) are kept as values,
// sorted, so the counts are exact at any range while the histogram stays a
// few kilobytes instead of megabytes to clear for every pass.
type errHist struct {
	lim      int32
	plain, s []int
	// big holds the errors beyond ±lim, plain and turned; gone those of
	// them taken out again (see add).
	big, gone [2][]int32
}

// denseErrors bounds the errors an errHist counts in place.
const denseErrors = 1 << 12

// reset prepares h for errors of samples in [0, m].
func (h *errHist) reset(m int32) {
	h.lim = min(m+1, denseErrors)
	h.plain = resize(h.plain, int(2*h.lim+1))
	h.s = resize(h.s, int(2*h.lim+1))
	clear(h.plain)
	clear(h.s)
	for t := range h.big {
		h.big[t], h.gone[t] = h.big[t][:0], h.gone[t][:0]
	}
}

// add counts (n = 1) or uncounts (n = −1) the error of sample value x
// predicted as p.
func (h *errHist) add(x, p, half int32, n int) {
	d := x - p
	h.put(0, &h.plain, d, n)
	if p >= half {
		d = -d
	}
	h.put(1, &h.s, d, n)
}

func (h *errHist) put(t int, dense *[]int, d int32, n int) {
	switch {
	case d >= -h.lim && d <= h.lim:
		(*dense)[d+h.lim] += n
	case n > 0:
		h.big[t] = append(h.big[t], d)
	default:
		h.gone[t] = append(h.gone[t], d)
	}
}

// merge adds o's counts to h's; both were reset for the same m.
func (h *errHist) merge(o *errHist) {
	for j, v := range o.plain {
		h.plain[j] += v
	}
	for j, v := range o.s {
		h.s[j] += v
	}
	for t := range h.big {
		h.big[t] = append(h.big[t], o.big[t]...)
		h.gone[t] = append(h.gone[t], o.gone[t]...)
	}
}

// sum turns the counts into prefix sums: plain[j] counts the errors in
// [−lim, j − lim].
func (h *errHist) sum() {
	for j := 1; j < len(h.plain); j++ {
		h.plain[j] += h.plain[j-1]
		h.s[j] += h.s[j-1]
	}
	for t := range h.big {
		slices.Sort(h.big[t])
		slices.Sort(h.gone[t])
	}
}

// count is how many errors lie in [a, b], of the plain (t = 0) or the
// turned (t = 1) ones.
func (h *errHist) count(t int, a, b int32) int {
	if a > b {
		return 0
	}
	pre := h.plain
	if t == 1 {
		pre = h.s
	}
	n := 0
	if da, db := max(a, -h.lim), min(b, h.lim); da <= db {
		n = pre[db+h.lim]
		if da > -h.lim {
			n -= pre[da-1+h.lim]
		}
	}
	if len(h.big[t]) > 0 {
		n += within(h.big[t], a, b) - within(h.gone[t], a, b)
	}
	return n
}

// within is how many of the sorted values v lie in [a, b].
func within(v []int32, a, b int32) int {
	lo, _ := slices.BinarySearch(v, a)
	hi, _ := slices.BinarySearch(v, b+1)
	return hi - lo
}

// expandable bounds from above the samples pp expands (those held back
// near the range ends are not subtracted).
func (h *errHist) expandable(pp params) int {
	switch pp.mode {
	case 0:
		return h.count(0, -pp.tn, pp.tp-1)
	case 1:
		return h.count(0, -pp.tp+1, pp.tn)
	case 2:
		return h.count(1, -pp.tn, pp.tp-1)
	default:
		return h.count(1, -pp.tp+1, pp.tn)
	}
}

// bestParams prices the settings that could carry src's bits in pass ps and
// returns the cheapest, if any is cheaper than bound. For each number of bits
// per sample, direction and window shape it starts from the narrowest window
// the error histogram allows and widens it while that keeps paying.
func bestParams(u []int32, m int32, ps pass, src bitReader, bound uint64) (params, uint64, bool) {
	need := src.left()
	if need <= 0 {
		return params{}, 0, true
	}
	h := ps.hist
	ts := windows(m)
	var best params
	found := false
	for k := uint8(1); k <= maxK && int32(1)<<k-1 <= m; k++ {
		f := int32(1)<<k - 1
		for mode := uint8(0); mode < 4; mode++ {
			for shape := int32(1); shape >= 0; shape-- {
				misses := 0
				for _, tp := range ts {
					pp := params{k: k, mode: mode, tn: tp - shape, tp: tp}
					if tp > 1 && tp*f >= m {
						break
					}
					if int(k)*h.expandable(pp) < need {
						continue
					}
					r := embedPass(u, m, ps, pp, src, false, nil, bound, nil)
					if r.ok && r.dist < bound {
						best, bound, found = pp, r.dist, true
						misses = 0
					} else if misses++; misses >= patience {
						break
					}
				}
			}
		}
	}
	return best, bound, found
}

// upperBound estimates the most stream bits the image can carry: every
// expandable sample that stays in range, for a few generous settings, with
// colour 1 predicted from the unmarked colour 0.
func (e *embedder) upperBound() int {
	g := e.g
	res := newBitset(g.n)
	ps := [2]pass{e.pass(e.u, res, nil, 0), e.pass(e.u, res, nil, 1)}
	for c := range ps {
		if ps[c].lazy != nil {
			ps[c] = ps[c].lazy.whole()
		}
	}
	best := 0
	half := (g.m + 1) / 2
	for k := uint8(1); k <= maxK; k++ {
		for t := int32(1); t*(int32(1)<<k-1) < g.m || t == 1; t *= 4 {
			for _, pp := range []params{{k: k, mode: 2, tn: t, tp: t}, {k: k, mode: 2, tn: t - 1, tp: t}, {k: k, mode: 3, tn: t - 1, tp: t}} {
				bitsum := 0
				for _, p := range ps {
					for idx, i := range p.ord {
						x, pr := e.u[i], int32(p.pred[idx])
						s := pp.dir(pr, half)
						up, down := pp.reach(s)
						if d := s * (x - pr); x <= g.m-up && x >= down && d >= -pp.tn && d < pp.tp {
							bitsum += int(k)
						}
					}
				}
				best = max(best, bitsum)
			}
			if t*(int32(1)<<k-1) >= g.m {
				break
			}
		}
	}
	return best
}
