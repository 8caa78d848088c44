package huffman

import "fmt"

// Version 4's chroma palette: an RGB stripe whose pixels are nearly all gray
// (R = G = B) with a few colours on top — the Doppler trace, colour bar and
// annotations of an ultrasound, a gray image stored as RGB, and the ±1
// changes a mark leaves in either — codes G, then one index plane J in
// place of the two colour-difference planes:
//
//	J = 0     the pixel is gray: chroma (R−G, B−G) = (0, 0)
//	J = 1     the chroma last seen at this pixel's G in the stripe
//	J = k ≥ 2 entry k−2 of the stripe's palette of chroma pairs
//
// A gray area is a run of zeros, and inside an overlay whose colours follow a
// map from G the index is mostly 1, so both cost little where the two
// difference planes cost a large residual at every edge between gray and
// colour (US1: 13.7 kB of colour planes against 2.7 kB of index plane).

// xformChroma is the rgbMode transform of a chroma palette stripe; versions
// up to 3 refuse it.
const xformChroma = 3

// chromaMax bounds a stream's chroma palette; chromaTry is the largest
// palette the encoder tries: beyond a few hundred colours the index plane
// loses the structure the difference planes keep (a CT rendered in colour
// has thousands, and its planes code smaller).
const (
	chromaMax = 1 << 12
	chromaTry = 1 << 10
)

// chromaHashBits sizes the encoder's open-addressing table of chroma pairs,
// at least twice chromaTry so probes stay short.
const chromaHashBits = 12

// chroma is a stripe's chroma palette and the map from G to the last chroma
// seen at it.
type chroma struct {
	dr, db []int32 // the palette: entry j is the chroma (dr[j], db[j])
	// last[g] is 1 + the palette entry last seen at a pixel whose G is g, 0
	// before any.
	last []int32
	// keys and slots are the encoder's hash table: a chroma pair, packed,
	// and 1 + its entry (0 for an empty slot).
	keys  []uint64
	slots []int32
}

func chromaKey(dr, db int32) uint64 { return uint64(uint32(dr))<<32 | uint64(uint32(db)) }

// find returns the slot of key: where it is, or the empty slot it would
// take.
func (c *chroma) find(key uint64) int {
	mask := len(c.slots) - 1
	for s := int((key * 0x9e3779b97f4a7c15) >> (64 - chromaHashBits)); ; s = (s + 1) & mask {
		if c.slots[s] == 0 || c.keys[s] == key {
			return s
		}
	}
}

// build makes the palette of the non-gray chroma pairs of interleaved RGB
// pix, in order of first appearance. It reports false, leaving no usable
// palette, when there are more than chromaTry.
func (c *chroma) build(pix []int32) bool {
	c.keys = resize(c.keys, 1<<chromaHashBits)
	c.slots = resize(c.slots, 1<<chromaHashBits)
	clear(c.slots)
	c.dr, c.db = c.dr[:0], c.db[:0]
	for i := 0; i+2 < len(pix); i += 3 {
		dr, db := pix[i]-pix[i+1], pix[i+2]-pix[i+1]
		if dr == 0 && db == 0 {
			continue
		}
		key := chromaKey(dr, db)
		if s := c.find(key); c.slots[s] == 0 {
			if len(c.dr) == chromaTry {
				c.dr, c.db = c.dr[:0], c.db[:0]
				return false
			}
			c.dr, c.db = append(c.dr, dr), append(c.db, db)
			c.keys[s], c.slots[s] = key, int32(len(c.dr))
		}
	}
	return true
}

// top is the largest index of the stripe's J plane.
func (c *chroma) top() int32 { return int32(len(c.dr)) + 1 }

// plane fills p with the J plane of interleaved RGB pix, whose G samples lie
// in [0, gTop], every chroma pair of which is in the palette.
func (c *chroma) plane(p, pix []int32, gTop int32) {
	c.last = resize(c.last, int(gTop)+1)
	clear(c.last)
	for i := range p {
		g := pix[3*i+1]
		dr, db := pix[3*i]-g, pix[3*i+2]-g
		if dr == 0 && db == 0 {
			p[i] = 0
			continue
		}
		e := c.slots[c.find(chromaKey(dr, db))]
		if c.last[g] == e {
			p[i] = 1
		} else {
			p[i] = e + 1
			c.last[g] = e
		}
	}
}

// delta is entry j's difference from the entry before it ((0, 0) before
// the first), as the stream sends it: a pseudo-colour map's neighbouring
// colours are close, and first appearance in raster order tends to follow
// the map.
func (c *chroma) delta(j int) (uint32, uint32) {
	if j == 0 {
		return zigzag(c.dr[0]), zigzag(c.db[0])
	}
	return zigzag(c.dr[j] - c.dr[j-1]), zigzag(c.db[j] - c.db[j-1])
}

// bits is the size of the palette in the stream.
func (c *chroma) bits() int64 {
	n := expGolombBits(uint32(len(c.dr)))
	for j := range c.dr {
		ur, ub := c.delta(j)
		n += expGolombBits(ur) + expGolombBits(ub)
	}
	return n
}

// write sends the palette: its size, then for each entry the difference of
// its R−G and of its B−G from the entry before, zigzag coded, all
// Exp-Golomb.
func (c *chroma) write(w *bitWriter) {
	w.expGolomb(uint32(len(c.dr)))
	for j := range c.dr {
		ur, ub := c.delta(j)
		w.expGolomb(ur)
		w.expGolomb(ub)
	}
}

// read reads a palette for a stripe of samples in [0, top]: at most
// chromaMax entries, each in [−top, top] and not gray.
func (c *chroma) read(r *bitReader, top int32) error {
	n, ok := r.expGolomb()
	if !ok || n > chromaMax {
		return fmt.Errorf("chroma palette of %d entries, at most %d", n, chromaMax)
	}
	c.dr, c.db = resize(c.dr, int(n)), resize(c.db, int(n))
	var dr, db int64
	for j := range c.dr {
		ur, ok1 := r.expGolomb()
		ub, ok2 := r.expGolomb()
		if r.overrun() {
			return fmt.Errorf("chroma palette truncated at entry %d", j)
		}
		// In 64 bits: a hostile difference must not wrap into range.
		dr += int64(unzigzag(ur))
		db += int64(unzigzag(ub))
		switch {
		case !ok1 || !ok2 || dr < -int64(top) || dr > int64(top) || db < -int64(top) || db > int64(top):
			return fmt.Errorf("chroma palette entry %d outside [%d, %d]", j, -top, top)
		case dr == 0 && db == 0:
			return fmt.Errorf("chroma palette entry %d is gray", j)
		}
		c.dr[j], c.db[j] = int32(dr), int32(db)
	}
	return nil
}

// apply turns the decoded J plane p into the R and B samples of interleaved
// pix, whose G samples are decoded and lie in [0, top]; p's values lie in
// [0, c.top()].
func (c *chroma) apply(pix, p []int32, top int32) error {
	c.last = resize(c.last, int(top)+1)
	clear(c.last)
	for i, j := range p {
		g := pix[3*i+1]
		var dr, db int32
		switch {
		case j == 0:
		case j == 1:
			if e := c.last[g]; e > 0 {
				dr, db = c.dr[e-1], c.db[e-1]
			}
		default:
			dr, db = c.dr[j-2], c.db[j-2]
			c.last[g] = j - 1
		}
		r, b := g+dr, g+db
		if r < 0 || r > top || b < 0 || b > top {
			return fmt.Errorf("pixel %d: chroma (%d, %d) takes G %d outside [0, %d]", i, dr, db, g, top)
		}
		pix[3*i], pix[3*i+2] = r, b
	}
	return nil
}
