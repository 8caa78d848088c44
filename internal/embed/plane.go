package embed

import (
	"runtime"
	"slices"
	"sort"
	"sync/atomic"

	"edge/internal/medimg"
	"edge/internal/par"
)

// geom is the layout of Pix: frame, row, column, channel. Every channel of
// every frame is a separate plane; a sample is predicted from its own plane.
type geom struct {
	w, h, c int
	n       int   // samples
	m       int32 // largest sample in the offset domain (hi − lo)
}

func geomOf(im *medimg.Image) geom {
	lo, hi := im.Range()
	return geom{w: im.Width, h: im.Height, c: im.Channels, n: im.Samples(), m: hi - lo}
}

// xy returns the column and row of sample i within its plane.
func (g *geom) xy(i uint32) (x, y int) {
	r := int(i) / g.c
	return r % g.w, (r / g.w) % g.h
}

// bitset marks the reserved samples: their low bit carries the header, so
// every context reads them with that bit cleared.
type bitset []uint64

func newBitset(n int) bitset          { return make(bitset, (n+63)/64) }
func (b bitset) has(i uint32) bool    { return b[i/64]>>(i%64)&1 != 0 }
func (b bitset) set(i uint32)         { b[i/64] |= 1 << (i % 64) }
func lowClear(v int32) int32          { return v &^ 1 }
func withLow(v int32, b uint32) int32 { return v&^1 | int32(b&1) }

// ring lists pairs of samples of the other colour near a sample, as
// offsets (dx, dy): each pair is diagonally adjacent on that colour's lattice,
// so their differences measure how busy the neighbourhood is without the
// sample itself, which the extractor does not know yet.
var ring = [...][4]int{
	{0, -1, -1, 0}, {0, -1, 1, 0}, {0, 1, -1, 0}, {0, 1, 1, 0},
	{0, -1, -1, -2}, {0, -1, 1, -2}, {1, 0, 2, -1}, {1, 0, 2, 1},
	{0, 1, -1, 2}, {0, 1, 1, 2}, {-1, 0, -2, -1}, {-1, 0, -2, 1},
}

// context returns the prediction of sample i from its four neighbours in the
// plane (those of the other checkerboard colour) and a measure of how busy
// the neighbourhood of that colour is. ok is false for a sample without
// neighbours.
func (g *geom) context(u []int32, res bitset, i uint32) (p int32, cx uint32, ok bool) {
	x, y := g.xy(i)
	at := func(dx, dy int) (int32, bool) {
		xx, yy := x+dx, y+dy
		if xx < 0 || yy < 0 || xx >= g.w || yy >= g.h {
			return 0, false
		}
		j := int(i) + (dy*g.w+dx)*g.c
		v := u[j]
		if res != nil && res.has(uint32(j)) {
			v = lowClear(v)
		}
		return v, true
	}
	var sum, n int32
	for _, d := range [4][2]int{{0, -1}, {0, 1}, {-1, 0}, {1, 0}} {
		if v, in := at(d[0], d[1]); in {
			sum += v
			n++
		}
	}
	if n == 0 {
		return 0, 0, false
	}
	p = (sum + n/2) / n
	var pairs uint32
	for _, r := range ring {
		a, ina := at(r[0], r[1])
		b, inb := at(r[2], r[3])
		if ina && inb {
			d := a - b
			if d < 0 {
				d = -d
			}
			cx += uint32(d)
			pairs++
		}
	}
	if pairs == 0 {
		return p, maxBucket - 1, true
	}
	// Fewer pairs at the border: scale to the full ring.
	cx = cx * uint32(len(ring)) / pairs
	return p, cx, true
}

// colour returns the samples of one checkerboard colour (x+y even for 0, odd
// for 1) of every plane in the keyed order of mark version v, independent of
// the pixel values: in version 1 a keyed Fisher–Yates shuffle, in version 2
// the colour's raster order (plane, row, column, channel) from a keyed first
// sample, round to the one before it.
func (g *geom) colour(pos [32]byte, parity int, v uint8) []uint32 {
	s := make([]uint32, 0, g.n/2+1)
	planes := g.n / (g.w * g.h * g.c)
	i := uint32(0)
	for range planes {
		for y := range g.h {
			for x := range g.w {
				if (x+y)&1 == parity {
					for c := range g.c {
						s = append(s, i+uint32(c))
					}
				}
				i += uint32(g.c)
			}
		}
	}
	if v == 1 {
		label := "order 0"
		if parity == 1 {
			label = "order 1"
		}
		newPRNG(pos, label).shuffle(s)
		return s
	}
	if len(s) < 2 {
		return s
	}
	// Rotating by three reversals needs no second colour-sized buffer.
	first := int(newPRNG(pos, startLabel(parity)).below(uint64(len(s))))
	slices.Reverse(s[:first])
	slices.Reverse(s[first:])
	slices.Reverse(s)
	return s
}

// keyedColour is a colour's keyed order. A version 1 order is one long
// chain of swaps into a colour-sized array, made on a goroutine of its own
// while the contexts, which do not depend on the order, use the other
// cores. A version 2 order is the colour's raster order from rank first:
// the walks that need only a prefix of the sorted order follow it without
// an array (see prefix), and order makes one when a whole sort needs it.
type keyedColour struct {
	parity int
	n      int           // the colour's samples
	first  int           // version 2: the rank the order starts at
	done   chan struct{} // version 1: closed when s is made
	s      []uint32
	make   func() []uint32
}

// raster reports whether k is a version 2 order, the raster order from
// rank first; only version 1 makes its order on a goroutine.
func (k *keyedColour) raster() bool { return k.done == nil }

// shuffleColour starts making colour parity's keyed order for mark version v
// (see colour).
func (g *geom) shuffleColour(pos [32]byte, parity int, v uint8) *keyedColour {
	k := &keyedColour{parity: parity, n: g.colourSize(parity)}
	if v != 1 {
		if k.n >= 2 {
			k.first = int(newPRNG(pos, startLabel(parity)).below(uint64(k.n)))
		}
		k.make = func() []uint32 { return g.colour(pos, parity, v) }
		return k
	}
	k.done = make(chan struct{})
	go func() {
		k.s = g.colour(pos, parity, v)
		close(k.done)
	}()
	return k
}

// order returns the keyed order as an array, waiting for it or making it.
func (k *keyedColour) order() []uint32 {
	if k.raster() {
		if k.make != nil {
			k.s, k.make = k.make(), nil
		}
		return k.s
	}
	<-k.done
	return k.s
}

// startLabel names the key of version 2's first rank for colour parity.
func startLabel(parity int) string {
	if parity == 1 {
		return "start 1"
	}
	return "start 0"
}

// colourSize is the number of samples of colour parity.
func (g *geom) colourSize(parity int) int {
	n := 0
	for y := range g.h {
		n += (g.w - (parity-y)&1 + 1) / 2
	}
	return n * g.c * (g.n / (g.w * g.h * g.c))
}

// maxBucket bounds the complexity used for sorting; busier samples keep
// their keyed order among themselves.
const maxBucket = 1 << 16

// hideReserved clears the low bit of the reserved samples in u, the value
// every context reads there, and returns their bits for showReserved: the
// contexts then need no test of the reserved set per neighbour.
func hideReserved(u []int32, list []uint32, saved []uint32) []uint32 {
	saved = saved[:0]
	for _, i := range list {
		saved = append(saved, uint32(u[i]&1))
		u[i] = lowClear(u[i])
	}
	return saved
}

func showReserved(u []int32, list []uint32, saved []uint32) {
	for j, i := range list {
		u[i] |= int32(saved[j])
	}
}

// interior is the context of a sample at least two samples from every edge
// of its plane, read straight from u (reserved samples hidden): the common
// case, with every neighbour and every pair of the ring present.
func interior(u []int32, i int, off *[2 * len(ring)]int, c, r int) (p int32, cx uint32) {
	w := u[i-2*r-2*c : i+2*r+2*c+1]
	i = 2*r + 2*c
	p = (w[i-r] + w[i+r] + w[i-c] + w[i+c] + 2) / 4
	for j := 0; j < len(off); j += 2 {
		d := w[i+off[j]] - w[i+off[j+1]]
		cx += uint32(max(d, -d))
	}
	return p, cx
}

// ringOffsets is ring as offsets in Pix for rows of r samples and c channels.
func ringOffsets(c, r int) (off [2 * len(ring)]int) {
	for j, q := range ring {
		off[2*j] = q[0]*c + q[1]*r
		off[2*j+1] = q[2]*c + q[3]*r
	}
	return off
}

// orderScratch is what order reuses between calls.
type orderScratch struct {
	cp      []uint32 // complexity<<16 | prediction, by rank in the colour's raster order
	cx      []uint16 // complexity alone, for prefix
	got     []uint32 // cp in keyed order, for colours of up to keepGathered samples
	saved   []uint32
	rows    []int
	work    []orderWorker
	parity  int      // the colour cp is for
	buckets []int    // unreserved samples per complexity bucket, for prefix
	start   []int    // prefix's next slot per bucket
	low     []uint64 // prefix's set of the samples it looks up
}

// orderWorker is one goroutine's share of order's counts.
type orderWorker struct {
	count []int
	hist  errHist
	diag  diagRows
}

// diagRows holds, for the last four rows r a goroutine of contexts met, the
// differences along the diagonals that start in row r at a sample of the
// colour that is not being ordered (see diagRow): the ring of a sample is
// eight of them, so each difference is taken once instead of by each of
// the samples whose ring holds it.
type diagRows [4]diagRow

// diagRow is row r's diagonal differences, by index x·channels + channel
// of the starting sample (x, r): dl down to the left, to (x−1, r+1); dr
// down to the right, to (x+1, r+1); e their sum.
type diagRow struct {
	r         int
	dl, dr, e []uint32
}

// row returns row r's differences for contexts of colour parity in the
// plane at base (rows of w samples of c channels), computing them unless
// they are at hand. r+1 must be a row of the plane.
func (d *diagRows) row(u []int32, base, r, w, c, parity int) *diagRow {
	dr := &d[r&3]
	if dr.r == r && len(dr.e) == w*c {
		return dr
	}
	dr.r = r
	dr.dl, dr.dr, dr.e = resize(dr.dl, w*c), resize(dr.dr, w*c), resize(dr.e, w*c)
	top := u[base+r*w*c : base+(r+1)*w*c]
	bot := u[base+(r+1)*w*c : base+(r+2)*w*c]
	for x := (1 - parity - r) & 1; x < w; x += 2 {
		for ch := range c {
			j := x*c + ch
			var l, g uint32
			if x >= 1 {
				l = absDiff(top[j], bot[j-c])
			}
			if x+1 < w {
				g = absDiff(top[j], bot[j+c])
			}
			dr.dl[j], dr.dr[j], dr.e[j] = l, g, l+g
		}
	}
	return dr
}

func absDiff(a, b int32) uint32 {
	d := a - b
	return uint32(max(d, -d))
}

// ringSum is interior's complexity of sample (x, y), channel ch, from the
// diagonal differences of rows y−2 to y+1: the ring's twelve pairs are, by
// the rows they join, two differences starting in row y−2, four in y−1,
// four in y and two in y+1.
func ringSum(r0, r1, r2, r3 *diagRow, x, ch, c int) uint32 {
	j := x*c + ch
	return r0.dr[j-c] + r0.dl[j+c] +
		r1.e[j] + r1.dl[j+2*c] + r1.dr[j-2*c] +
		r2.e[j-c] + r2.e[j+c] +
		r3.e[j]
}

// rowStarts gives, for each row, the number of samples of the colour in the
// rows above it within a plane, and the colour's samples per plane (index h).
func (g *geom) rowStarts(parity int, rows []int) []int {
	rows = resize(rows, g.h+1)
	n := 0
	for y := range g.h {
		rows[y] = n
		s := (parity - y) & 1 // the first column of the colour in row y
		n += (g.w - s + 1) / 2 * g.c
	}
	rows[g.h] = n
	return rows
}

// bandRows is the height of the row bands order shares among goroutines.
const bandRows = 64

// order sorts the unreserved samples of a colour (already in keyed order) by
// neighbourhood complexity, stably, so that the smoothest come first and
// equally smooth ones stay in keyed order. It returns the samples with
// their predictions. list is the reserved samples (res as a list); u is
// restored before order returns. The pass is built in reuse's buffers when
// they are large enough, with its error histogram when reuse has one.
//
// The contexts are computed in raster order, where neighbouring rows are in
// cache, by bands of rows on parallel goroutines; then they are gathered in
// keyed order and placed by a stable counting sort, each goroutine taking a
// contiguous share of the keyed order. The result is the one stable sort,
// whatever the number of goroutines.
func (g *geom) order(u []int32, res bitset, list []uint32, kc *keyedColour, sc *orderScratch, reuse pass) pass {
	if kc.n == 0 || g.w == 1 && g.h == 1 {
		// A lone sample has no neighbours to be predicted from.
		kc.order()
		return pass{ord: reuse.ord[:0], pred: reuse.pred[:0], hist: reuse.hist}
	}
	h := reuse.hist
	workers := g.contexts(u, list, kc.parity, sc, h, false)
	keyed := kc.order()
	parity, perPlane := sc.parity, sc.rows[g.h]

	// Count per share of the keyed order, then place. Up to keepGathered
	// samples the contexts gathered in keyed order are kept for the
	// placing; on larger images they are looked up twice rather than cost
	// another buffer the size of the colour.
	share := (len(keyed) + workers - 1) / workers
	keep := len(keyed) <= keepGathered
	if keep {
		sc.got = resize(sc.got, len(keyed))
	}
	par.Run(workers, workers, func(_, w int) {
		cnt := sc.work[w].count
		for j := w * share; j < min((w+1)*share, len(keyed)); j++ {
			i := keyed[j]
			if res.has(i) {
				continue
			}
			cp := sc.cp[g.rank(i, parity, sc.rows, perPlane)]
			if keep {
				sc.got[j] = cp
			}
			cnt[cp>>16]++
		}
	})
	// Turn the counts into each share's first slot per bucket.
	n := 0
	for b := range maxBucket {
		for w := range workers {
			cnt := sc.work[w].count
			k := cnt[b]
			cnt[b] = n
			n += k
		}
	}
	ps := pass{ord: resize(reuse.ord, n), pred: resize(reuse.pred, n), hist: h}
	par.Run(workers, workers, func(_, w int) {
		cnt := sc.work[w].count
		for j := w * share; j < min((w+1)*share, len(keyed)); j++ {
			i := keyed[j]
			if res.has(i) {
				continue
			}
			var cp uint32
			if keep {
				cp = sc.got[j]
			} else {
				cp = sc.cp[g.rank(i, parity, sc.rows, perPlane)]
			}
			k := cnt[cp>>16]
			cnt[cp>>16]++
			ps.ord[k], ps.pred[k] = i, uint16(cp)
		}
	})
	return ps
}

// contexts computes the context of every sample of keyed's colour into
// sc.cp, in the colour's raster order, with the reserved samples' low bits
// hidden, and the error histogram h when h is not nil. With buckets, for
// prefix, it keeps only the complexities, in sc.cx (half the memory: a
// prefix's few predictions are computed again where it is made), and counts
// the unreserved samples per complexity bucket into sc.buckets. It returns
// the number of goroutines whose counts sc.work holds.
//
// The contexts are computed in raster order, where neighbouring rows are in
// cache, by bands of rows on parallel goroutines.
func (g *geom) contexts(u []int32, list []uint32, parity int, sc *orderScratch, h *errHist, buckets bool) int {
	sc.parity = parity
	sc.saved = hideReserved(u, list, sc.saved)
	defer showReserved(u, list, sc.saved)
	sc.rows = g.rowStarts(parity, sc.rows)
	perPlane := sc.rows[g.h]
	planes := g.n / (g.w * g.h * g.c)
	if buckets {
		sc.cx = resize(sc.cx, perPlane*planes)
	} else {
		sc.cp = resize(sc.cp, perPlane*planes)
	}
	half := (g.m + 1) / 2
	workers := min(runtime.GOMAXPROCS(0), maxOrderWorkers)
	for len(sc.work) < workers {
		sc.work = append(sc.work, orderWorker{})
	}
	for w := range workers {
		wk := &sc.work[w]
		wk.count = resize(wk.count, maxBucket+1)
		clear(wk.count)
		if h != nil {
			wk.hist.reset(g.m)
		}
	}
	c, r := g.c, g.w*g.c
	bands := (g.h + bandRows - 1) / bandRows
	par.Run(planes*bands, workers, func(w, job int) {
		wk := &sc.work[w]
		f, y0 := job/bands, job%bands*bandRows
		for j := range wk.diag {
			wk.diag[j].r = -1
		}
		base := f * g.h * r
		for y := y0; y < min(y0+bandRows, g.h); y++ {
			rank := f*perPlane + sc.rows[y]
			inner := y >= 2 && y < g.h-2
			var d0, d1, d2, d3 *diagRow
			if inner {
				d0 = wk.diag.row(u, base, y-2, g.w, c, parity)
				d1 = wk.diag.row(u, base, y-1, g.w, c, parity)
				d2 = wk.diag.row(u, base, y, g.w, c, parity)
				d3 = wk.diag.row(u, base, y+1, g.w, c, parity)
			}
			for x := (parity - y) & 1; x < g.w; x += 2 {
				i := ((f*g.h+y)*g.w + x) * c
				for ch := range c {
					var p int32
					var cx uint32
					if inner && x >= 2 && x < g.w-2 {
						q := i + ch
						p = (u[q-r] + u[q+r] + u[q-c] + u[q+c] + 2) / 4
						cx = ringSum(d0, d1, d2, d3, x, ch, c)
					} else {
						p, cx, _ = g.context(u, nil, uint32(i+ch))
					}
					cx = min(cx, maxBucket-1)
					if buckets {
						sc.cx[rank] = uint16(cx)
						wk.count[cx]++
					} else {
						sc.cp[rank] = cx<<16 | uint32(p)
					}
					if h != nil {
						wk.hist.add(u[i+ch], p, half, 1)
					}
					rank++
				}
			}
		}
	})
	if h != nil {
		h.reset(g.m)
		for w := range workers {
			h.merge(&sc.work[w].hist)
		}
	}
	if buckets {
		sc.buckets = resize(sc.buckets, maxBucket)
		copy(sc.buckets, sc.work[0].count[:maxBucket])
		for w := 1; w < workers; w++ {
			for b, v := range sc.work[w].count[:maxBucket] {
				sc.buckets[b] += v
			}
		}
	}
	if h != nil || buckets {
		for _, i := range list {
			// Reserved samples of this colour were counted above; take them out.
			if j := g.rank(i, parity, sc.rows, perPlane); j >= 0 {
				if h != nil {
					var p int32
					if buckets {
						// u still has the reserved samples hidden.
						p, _, _ = g.context(u, nil, i)
					} else {
						p = int32(sc.cp[j] & 0xffff)
					}
					h.add(u[i], p, half, -1)
				}
				if buckets {
					sc.buckets[sc.cx[j]]--
				}
			}
		}
	}
	if h != nil {
		h.sum()
	}
	return workers
}

// prefix is the first want entries of the pass order would make (all of
// them when the colour has fewer), from the complexities and bucket counts
// that contexts(…, buckets true) left in sc, and u with the reserved
// samples res as they were or with this colour's samples changed since:
// a prediction reads only the other colour. The extractor reads a pass
// only as far as its stream goes, which on a large image is a small share
// of the colour: the entries are found by one walk of the keyed order that
// looks up only the samples of the buckets the prefix reaches, and stops
// when it has them all.
func (g *geom) prefix(u []int32, kc *keyedColour, res bitset, list []uint32, sc *orderScratch, want int, reuse pass) pass {
	total := 0
	for _, v := range sc.buckets {
		total += v
	}
	n := min(want, total)
	ps := pass{ord: resize(reuse.ord, n), pred: resize(reuse.pred, n), hist: reuse.hist}
	if n == 0 {
		return ps
	}
	// The prefix holds every sample of the buckets below last and the
	// first take of bucket last, in keyed order.
	last, below := 0, 0
	for below+sc.buckets[last] < n {
		below += sc.buckets[last]
		last++
	}
	take := n - below
	start := resize(sc.start, last+1)
	sc.start = start
	k := 0
	for b := range last + 1 {
		start[b] = k
		k += sc.buckets[b]
	}
	parity, perPlane := sc.parity, sc.rows[g.h]
	planes := g.n / (g.w * g.h * g.c)
	// The predictions read u with the reserved samples hidden, as
	// contexts did.
	sc.saved = hideReserved(u, list, sc.saved)
	defer showReserved(u, list, sc.saved)
	pl := placer{g: g, u: u, ps: ps, start: start, last: last, take: take, n: n, off: ringOffsets(g.c, g.w*g.c)}
	if kc.raster() {
		// Version 2's keyed order is the raster order from rank first:
		// walk it, wrapping round once, reading each complexity in turn.
		rk := kc.first
		f := rk / perPlane
		y := sort.Search(g.h, func(y int) bool { return sc.rows[y+1] > rk-f*perPlane })
		off := rk - f*perPlane - sc.rows[y]
		x, ch := (parity-y)&1+2*(off/g.c), off%g.c
		for range kc.n {
			i := uint32(((f*g.h+y)*g.w+x)*g.c + ch)
			if b := int(sc.cx[rk]); b <= last && !res.has(i) && pl.put(i, b) {
				break
			}
			rk++
			if ch++; ch < g.c {
				continue
			}
			ch = 0
			if x += 2; x < g.w {
				continue
			}
			// The next row holding samples of the colour (a row one
			// column wide holds none every other row).
			for {
				if y++; y == g.h {
					y = 0
					if f++; f == planes {
						f, rk = 0, 0
					}
				}
				if x = (parity - y) & 1; x < g.w {
					break
				}
			}
		}
		return pl.ps
	}
	// low marks, by sample index, the samples of buckets up to last: a set
	// of the image's size in bits, which stays in cache while the walk
	// reads version 1's shuffled order straight through.
	sc.low = resize(sc.low, (g.n+63)/64)
	clear(sc.low)
	low := bitset(sc.low)
	bands := (g.h + bandRows - 1) / bandRows
	// The bands are shared among goroutines. A band visits increasing
	// sample indices, so it gathers each word of low before storing it;
	// only the words where two bands meet are shared, hence the atomic OR.
	par.Run(planes*bands, min(runtime.GOMAXPROCS(0), maxOrderWorkers), func(_, job int) {
		f, y0 := job/bands, job%bands*bandRows
		word, bits := -1, uint64(0)
		for y := y0; y < min(y0+bandRows, g.h); y++ {
			rank := f*perPlane + sc.rows[y]
			for x := (parity - y) & 1; x < g.w; x += 2 {
				i := ((f*g.h+y)*g.w + x) * g.c
				for ch := range g.c {
					if int(sc.cx[rank]) <= last {
						if j := (i + ch) / 64; j != word {
							if bits != 0 {
								atomic.OrUint64(&low[word], bits)
							}
							word, bits = j, 0
						}
						bits |= 1 << ((i + ch) % 64)
					}
					rank++
				}
			}
		}
		if bits != 0 {
			atomic.OrUint64(&low[word], bits)
		}
	})
	for _, i := range kc.order() {
		if !low.has(i) || res.has(i) {
			continue
		}
		if pl.put(i, int(sc.cx[g.rank(i, parity, sc.rows, perPlane)])) {
			break
		}
	}
	return pl.ps
}

// placer fills a prefix (see prefix) with the samples of its buckets in
// the keyed order they come in.
type placer struct {
	g                 *geom
	u                 []int32
	ps                pass
	start             []int
	last, take, taken int
	placed, n         int
	off               [2 * len(ring)]int
}

// put places sample i of bucket b, unless it is beyond the take of the
// last bucket, and reports whether the prefix is then full.
func (pl *placer) put(i uint32, b int) (full bool) {
	if b == pl.last {
		if pl.taken == pl.take {
			return false
		}
		pl.taken++
	}
	j := pl.start[b]
	pl.start[b]++
	g := pl.g
	var p int32
	if x, y := g.xy(i); x >= 2 && y >= 2 && x < g.w-2 && y < g.h-2 {
		p, _ = interior(pl.u, int(i), &pl.off, g.c, g.w*g.c)
	} else {
		p, _, _ = g.context(pl.u, nil, i)
	}
	pl.ps.ord[j], pl.ps.pred[j] = i, uint16(p)
	pl.placed++
	return pl.placed == pl.n
}

// keepGathered is the largest colour, in samples, whose contexts order
// keeps in keyed order between counting and placing (4 bytes a sample).
const keepGathered = 1 << 21

// maxOrderWorkers bounds order's goroutines (each keeps 0.5 MiB of counts).
const maxOrderWorkers = 8

// rank is sample i's index in the colour's raster order, or −1 when i is of
// the other colour.
func (g *geom) rank(i uint32, parity int, rows []int, perPlane int) int {
	// 32-bit divisions, and none where a plane has one channel or the image
	// one frame: this runs twice per sample in keyed order.
	q, ch := i, uint32(0)
	if g.c != 1 {
		c := uint32(g.c)
		q = i / c
		ch = i - q*c
	}
	w := uint32(g.w)
	r := q / w
	x := q - r*w
	y, f := r, uint32(0)
	if r >= uint32(g.h) {
		f = r / uint32(g.h)
		y = r - f*uint32(g.h)
	}
	if int(x+y)&1 != parity {
		return -1
	}
	return int(f)*perPlane + rows[y] + int(x/2)*g.c + int(ch)
}

func resize[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n)
	}
	return s[:n]
}
