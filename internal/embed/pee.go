package embed

import (
	"errors"
	"fmt"
)

// params set how one pass changes prediction errors. With ẽ = s·e, where
// e = x − p and the direction s is ±1: errors in [−tn, tp) are expanded to
// ẽ·2^k + b and carry k bits b; larger ones move up by tp·(2^k−1), smaller
// ones down by tn·(2^k−1), which keeps the three ranges apart.
type params struct {
	k      uint8 // bits per expanded sample, 1..maxK
	mode   uint8 // direction: 0 up, 1 down, 2 up below mid-range else down, 3 the reverse
	tn, tp int32
}

const maxK = 4

// dir is the direction for a sample predicted as p. Choosing it from the
// prediction lets samples near 0 move up and samples near full scale move
// down, so flat regions at either end stay in range.
func (pp params) dir(p, half int32) int32 {
	switch pp.mode {
	case 0:
		return 1
	case 1:
		return -1
	case 2:
		if p < half {
			return 1
		}
		return -1
	default:
		if p < half {
			return -1
		}
		return 1
	}
}

// reach returns how far a sample may move up and down for direction s.
func (pp params) reach(s int32) (up, down int32) {
	f := int32(1)<<pp.k - 1
	up, down = pp.tp*f, pp.tn*f
	if s < 0 {
		up, down = down, up
	}
	return up, down
}

func (pp params) forward(e int32, b uint32) int32 {
	f := int32(1)<<pp.k - 1
	switch {
	case e >= pp.tp:
		return e + pp.tp*f
	case e < -pp.tn:
		return e - pp.tn*f
	default:
		return e<<pp.k | int32(b)
	}
}

// inverse returns the original error, the bits carried and whether the sample was expanded.
func (pp params) inverse(e int32) (int32, uint32, bool) {
	f := int32(1)<<pp.k - 1
	switch {
	case e >= pp.tp<<pp.k:
		return e - pp.tp*f, 0, false
	case e < -pp.tn<<pp.k:
		return e + pp.tn*f, 0, false
	default:
		return e >> pp.k, uint32(e) & uint32(f), true
	}
}

// pass is one checkerboard colour in processing order.
type pass struct {
	ord  []uint32
	pred []uint16 // in [0, m], and m < 2¹⁶
	// hist, when the caller asked for it, is the error histogram of the
	// pass over the image it was ordered on.
	hist *errHist
	// lazy, when not nil, makes the order on demand: ord and pred are then
	// the start of what lazy holds (see entries).
	lazy *lazyOrder
}

// entries returns the pass's order as far as it reaches idx + 1 entries,
// or all of it when it has fewer; for a lazy pass it makes more as needed.
func (ps *pass) entries(idx int) ([]uint32, []uint16) {
	if ps.lazy == nil || idx < len(ps.ord) {
		return ps.ord, ps.pred
	}
	l := ps.lazy
	if idx >= len(l.ps.ord) {
		l.grow(idx + 1)
	}
	ps.ord, ps.pred = l.ps.ord, l.ps.pred
	return ps.ord, ps.pred
}

// lazyOrder is a pass made as a prefix of the sorted order and lengthened
// when a pass reads past it (see geom.prefix): on a large image the stream
// ends within a small share of the colour, and the rest is never sorted.
type lazyOrder struct {
	g     *geom
	u     []int32
	kc    *keyedColour
	res   bitset
	sc    orderScratch
	list  []uint32
	ps    pass
	all   bool // ps holds the whole order
	first int  // the length of the first prefix
}

// lazyFirst is the first prefix a lazy pass makes.
const lazyFirst = 1 << 16

// start prepares l for keyed's colour of u, reserved samples res (list),
// and makes the first prefix, with the error histogram h when not nil.
func (l *lazyOrder) start(g *geom, u []int32, res bitset, list []uint32, kc *keyedColour, h *errHist, first int) pass {
	l.g, l.u, l.res, l.list, l.all, l.first = g, u, res, list, false, first
	g.contexts(u, list, kc.parity, &l.sc, h, true)
	l.kc = kc
	l.ps.hist = h
	l.grow(first)
	return pass{ord: l.ps.ord, pred: l.ps.pred, hist: h, lazy: l}
}

// grow makes the prefix at least n entries long, or the whole order.
func (l *lazyOrder) grow(n int) {
	if l.all {
		return
	}
	want := max(n, 4*len(l.ps.ord), l.first)
	l.ps = l.g.prefix(l.u, l.kc, l.res, l.list, &l.sc, want, l.ps)
	l.all = len(l.ps.ord) < want
}

// whole makes the whole order and returns it as a plain pass.
func (l *lazyOrder) whole() pass {
	for !l.all {
		l.grow(4 * len(l.ps.ord))
	}
	return pass{ord: l.ps.ord, pred: l.ps.pred, hist: l.ps.hist}
}

// flagCost prices a flag in units of squared change: it takes a reserved
// sample's low bit (half a change on average) and puts that bit's original
// into the stream (about three more changes where samples are noisy).
const flagCost = 4

type result struct {
	dist  uint64 // sum of squared changes, and flagCost per flag
	flags int    // samples the extractor must ask about
	ok    bool   // all bits placed (and under the bound)
}

// embedPass hides the bits of src in the samples of ps, in order, until src
// runs dry. Samples whose original value is within reach of either end of the
// range are left alone; a flag tells the extractor which of the samples it
// finds in that zone were left alone (0) and which were changed (1).
// With apply false nothing is written: this is how plans are priced. It gives
// up as soon as the distortion exceeds bound. With undo non-nil, the value
// of every sample visited is appended to it, in order, for undoPass.
func embedPass(u []int32, m int32, ps pass, pp params, src bitReader, apply bool, flags *bitWriter, bound uint64, undo *[]int32) result {
	var r result
	half := (m + 1) / 2
	k := int(pp.k)
	ord, pred := ps.ord, ps.pred
	for idx := 0; src.left() > 0; idx++ {
		if idx == len(ord) {
			if ord, pred = ps.entries(idx); idx == len(ord) {
				break
			}
		}
		i, p := ord[idx], int32(pred[idx])
		x := u[i]
		if undo != nil {
			*undo = append(*undo, x)
		}
		s := pp.dir(p, half)
		up, down := pp.reach(s)
		if x > m-up || x < down {
			r.flags++
			r.dist += flagCost
			if apply {
				flags.bit(0)
			} else if r.dist > bound {
				return r
			}
			continue
		}
		e := s * (x - p)
		var b uint32
		if e >= -pp.tn && e < pp.tp {
			b = uint32(src.uint(k))
		}
		y := p + s*pp.forward(e, b)
		d := uint64(int64(y-x) * int64(y-x))
		r.dist += d
		if r.dist > bound {
			return r
		}
		if y > m-up || y < down {
			r.flags++
			r.dist += flagCost
			if apply {
				flags.bit(1)
			}
		}
		if apply {
			u[i] = y
		}
	}
	r.ok = src.left() <= 0
	return r
}

// undoPass puts back the samples embedPass recorded in undo.
func undoPass(u []int32, ps pass, undo []int32) {
	if len(undo) == 0 {
		return
	}
	ord, _ := ps.entries(len(undo) - 1)
	for idx, v := range undo {
		u[ord[idx]] = v
	}
}

var errCorrupt = errors.New("embed: no valid mark for this key")

// extractPass undoes embedPass: it restores the samples of ps and appends the
// n bits they carried to out.
func extractPass(u []int32, m int32, ps pass, pp params, n int, flags *bitReader, out *bitWriter) error {
	got := 0
	if err := extractFrom(u, m, ps, pp, n, 0, &got, flags, out); err != nil {
		return err
	}
	if got < n {
		return fmt.Errorf("%w: %d of %d bits found", errCorrupt, got, n)
	}
	return nil
}

// extractFrom is extractPass from entry from of ps on, with *got bits of
// the n found before; it stops at the end of ps or when all n are found.
func extractFrom(u []int32, m int32, ps pass, pp params, n, from int, got *int, flags *bitReader, out *bitWriter) error {
	half := (m + 1) / 2
	k := int(pp.k)
	g := *got
	defer func() { *got = g }()
	for idx := from; idx < len(ps.ord) && g < n; idx++ {
		i, p := ps.ord[idx], int32(ps.pred[idx])
		y := u[i]
		s := pp.dir(p, half)
		up, down := pp.reach(s)
		if y > m-up || y < down {
			if flags.left() <= 0 {
				return fmt.Errorf("%w: side information ends at sample %d", errCorrupt, i)
			}
			if flags.bit() == 0 {
				continue
			}
		}
		e, b, expanded := pp.inverse(s * (y - p))
		if expanded {
			for j := k - 1; j >= 0 && g < n; j-- {
				out.bit(b >> j)
				g++
			}
		}
		x := p + s*e
		if x < 0 || x > m {
			return fmt.Errorf("%w: sample %d restores to %d, outside [0, %d]", errCorrupt, i, x, m)
		}
		u[i] = x
	}
	return nil
}

// extractKeyed undoes the pass embedPass made over the colour of keyed
// with pp, reading only as much of the pass's order as its n bits need:
// it takes a prefix of the order, and a longer one (of which the first is
// the start) each time the bits outlast it.
func (g *geom) extractKeyed(u []int32, res bitset, list []uint32, kc *keyedColour, sc *orderScratch, pp params, n int, flags *bitReader, out *bitWriter) error {
	if kc.n == 0 || g.w == 1 && g.h == 1 {
		kc.order()
		return extractPass(u, g.m, pass{}, pp, n, flags, out)
	}
	g.contexts(u, list, kc.parity, sc, nil, true)
	// Every expanded sample carries k bits; most of the first samples
	// are expanded, the rest only shift.
	want := 2*n/int(max(pp.k, 1)) + 1024
	got, done := 0, 0
	var ps pass
	for {
		ps = g.prefix(u, kc, res, list, sc, want, ps)
		if err := extractFrom(u, g.m, ps, pp, n, done, &got, flags, out); err != nil {
			return err
		}
		if got >= n {
			return nil
		}
		if len(ps.ord) < want {
			return fmt.Errorf("%w: %d of %d bits found", errCorrupt, got, n)
		}
		done, want = len(ps.ord), 4*want
	}
}
