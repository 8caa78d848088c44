package embed

import "edge/internal/medimg"

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
		if res.has(uint32(j)) {
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
// for 1) of every plane in a keyed order, independent of the pixel values.
func (g *geom) colour(pos [32]byte, parity int) []uint32 {
	s := make([]uint32, 0, g.n/2+1)
	for i := 0; i < g.n; i++ {
		x, y := g.xy(uint32(i))
		if (x+y)&1 == parity {
			s = append(s, uint32(i))
		}
	}
	label := "order 0"
	if parity == 1 {
		label = "order 1"
	}
	newPRNG(pos, label).shuffle(s)
	return s
}

// maxBucket bounds the complexity used for sorting; busier samples keep
// their keyed order among themselves.
const maxBucket = 1 << 16

// order sorts the unreserved samples of a colour (already in keyed order) by
// neighbourhood complexity, stably, so that the smoothest come first and
// equally smooth ones stay in keyed order. It returns the samples with
// their predictions.
func (g *geom) order(u []int32, res bitset, keyed []uint32) (ord []uint32, pred []int32) {
	type ctx struct {
		i  uint32
		p  int32
		cx uint32
	}
	cs := make([]ctx, 0, len(keyed))
	count := make([]int, maxBucket+1)
	for _, i := range keyed {
		if res.has(i) {
			continue
		}
		p, cx, ok := g.context(u, res, i)
		if !ok {
			continue
		}
		cx = min(cx, maxBucket-1)
		cs = append(cs, ctx{i, p, cx})
		count[cx+1]++
	}
	for b := 1; b <= maxBucket; b++ {
		count[b] += count[b-1]
	}
	ord = make([]uint32, len(cs))
	pred = make([]int32, len(cs))
	for _, c := range cs {
		k := count[c.cx]
		count[c.cx]++
		ord[k], pred[k] = c.i, c.p
	}
	return ord, pred
}
