package embed

import (
	"math"
	"runtime"
	"slices"
	"testing"

	"edge/internal/medimg"
)

// The shuffle of a large colour draws its values hashed ahead in parallel;
// it must be the one Fisher–Yates shuffle that draws them one at a time.
func TestShuffleMatchesSequential(t *testing.T) {
	var seed [32]byte
	seed[0] = 7
	for _, n := range []int{10, parallelShuffle - 1, parallelShuffle, 3*shuffleChunk + 5} {
		for _, procs := range []int{1, 2, 3} {
			want := make([]uint32, n)
			for i := range want {
				want[i] = uint32(i)
			}
			got := slices.Clone(want)
			r := newPRNG(seed, "order 0")
			for i := len(want) - 1; i > 0; i-- {
				j := r.below(uint64(i + 1))
				want[i], want[j] = want[j], want[i]
			}
			old := runtime.GOMAXPROCS(procs)
			newPRNG(seed, "order 0").shuffle(got)
			runtime.GOMAXPROCS(old)
			if !slices.Equal(got, want) {
				t.Fatalf("n=%d, GOMAXPROCS=%d: the shuffle differs from the sequential one", n, procs)
			}
		}
	}
}

// words gives the values uint64 would, from any position in a block.
func TestWordsMatchUint64(t *testing.T) {
	var seed [32]byte
	for _, skip := range []int{0, 1, 3, 4, 5} {
		for _, n := range []int{0, 1, 7, 4*wordsJobBlocks + 3, 9 * wordsJobBlocks * 4} {
			a, b := newPRNG(seed, "x"), newPRNG(seed, "x")
			for range skip {
				a.uint64()
				b.uint64()
			}
			got := make([]uint64, n)
			a.words(got, 3)
			for i, v := range got {
				if w := b.uint64(); v != w {
					t.Fatalf("skip %d, n %d: value %d is %x, want %x", skip, n, i, v, w)
				}
			}
			if a.uint64() != b.uint64() {
				t.Fatalf("skip %d, n %d: the stream after words differs", skip, n)
			}
		}
	}
}

// reservedLayout is im's geometry and offset samples, a seed with byte k
// set, and r reserved samples under that seed.
func reservedLayout(im *medimg.Image, k, r int) (g geom, u []int32, seed [32]byte, list []uint32, res bitset) {
	g, u = geomOf(im), offset(im)
	seed[k] = byte(k)
	list, res = reserved(seed, g.n, r)
	return g, u, seed, list, res
}

// The extractor reads a prefix of each pass's order; it must be the start
// of the order the embedder sorted, for every length, with reserved samples
// and several planes.
func TestPrefixIsStartOfOrder(t *testing.T) {
	for _, im := range []*medimg.Image{
		synth(97, 61, 1, 1, 16, 12, false, 3),
		synth(40, 33, 2, 3, 8, 8, false, 9),
		synth(300, 200, 1, 1, 8, 8, false, 0),
		// One column (every other row holds none of a colour) and three
		// channels in a few samples: version 2's walk wraps round there.
		synth(1, 9, 2, 1, 8, 8, false, 5),
		synth(3, 2, 3, 3, 8, 8, false, 1),
	} {
		g, u, seed, list, res := reservedLayout(im, 3, min(500, im.Samples()/4))
		for pv := range 2 * version {
			parity, v := pv%2, uint8(1+pv/2)
			kc := g.shuffleColour(seed, parity, v)
			keyed := kc.order()
			if kc.n != len(keyed) {
				t.Fatalf("%d×%d×%d, colour %d: size %d from the geometry, %d in the order", g.w, g.h, g.c, parity, kc.n, len(keyed))
			}
			var sc orderScratch
			full := g.order(u, res, list, kc, &sc, pass{})
			var ps orderScratch
			g.contexts(u, list, parity, &ps, nil, true)
			check := func(when string, u []int32) {
				for _, want := range []int{0, 1, 17, len(full.ord) / 3, len(full.ord) - 1, len(full.ord), len(full.ord) + 5} {
					p := g.prefix(u, kc, res, list, &ps, want, pass{})
					n := min(want, len(full.ord))
					if !slices.Equal(p.ord, full.ord[:n]) || !slices.Equal(p.pred, full.pred[:n]) {
						t.Fatalf("%d×%d×%d, colour %d, %s: prefix of %d differs from the order's start", g.w, g.h, g.c, parity, when, want)
					}
				}
			}
			check("as ordered", u)
			// Extraction changes the colour's own samples between one
			// prefix and the next: the predictions must not move.
			w := slices.Clone(u)
			for _, i := range keyed {
				if !res.has(i) {
					w[i] = g.m - w[i]
				}
			}
			check("after its samples changed", w)
		}
	}
}

// A lazily ordered pass must mark exactly as the whole sort does: the same
// image, whatever share of the order the passes read, on images that use
// one pass or both and that need more than the first prefix.
func TestLazyPassesMarkTheSame(t *testing.T) {
	payload := make([]byte, 300)
	for i := range payload {
		payload[i] = byte(i * 7)
	}
	key := make([]byte, KeySize)
	key[5] = 9
	for _, im := range []*medimg.Image{
		synth(300, 200, 1, 1, 16, 12, false, 2),
		synth(120, 90, 1, 3, 8, 8, false, 1),
		synth(256, 256, 1, 1, 8, 8, false, 6),
		synth(64, 64, 3, 1, 16, 16, true, 40),
	} {
		var got [2][]int32
		var errs [2]error
		for j, lazyMin := range []int{math.MaxInt, 0} {
			// A first prefix of a few entries makes every pass grow.
			k, err := deriveKeys(key)
			if err != nil {
				t.Fatal(err)
			}
			g := geomOf(im)
			u := offset(im)
			e := newEmbedder(&g, &k, u)
			e.lazyMin, e.lazyFirst = lazyMin, 5
			tagv := markTag(&k, payload, digest(im))
			errs[j] = e.run(payload, func() []byte { return tagv })
			got[j] = u
		}
		if (errs[0] == nil) != (errs[1] == nil) {
			t.Fatalf("%d×%d×%d: whole sort %v, lazy %v", im.Width, im.Height, im.Channels, errs[0], errs[1])
		}
		if errs[0] == nil && !slices.Equal(got[0], got[1]) {
			t.Fatalf("%d×%d×%d: the lazy passes mark differently", im.Width, im.Height, im.Channels)
		}
		if errs[0] == nil {
			m := *im
			m.Pix = got[1]
			if lo, _ := im.Range(); lo != 0 {
				m.Pix = slices.Clone(got[1])
				for i := range m.Pix {
					m.Pix[i] += lo
				}
			}
			p, orig, err := Extract(&m, key)
			if err != nil || !slices.Equal(p, payload) || !slices.Equal(orig.Pix, im.Pix) {
				t.Fatalf("%d×%d×%d: the lazily made mark does not extract: %v", im.Width, im.Height, im.Channels, err)
			}
		}
	}
}

// contexts computes the rings of interior samples from shared diagonal
// differences: every sample's prediction and complexity must be what
// context gives it from its own neighbours, reserved samples read with the
// low bit cleared, for every shape and both colours.
func TestContextsAgreeWithContext(t *testing.T) {
	for _, im := range []*medimg.Image{
		synth(97, 61, 1, 1, 16, 12, false, 3),
		synth(40, 33, 2, 3, 8, 8, false, 9),
		synth(5, 5, 1, 1, 8, 8, false, 40),
		synth(6, 130, 3, 1, 16, 16, true, 700),
	} {
		g, u, _, list, res := reservedLayout(im, 5, min(300, im.Samples()/2))
		for parity := range 2 {
			var sc orderScratch
			g.contexts(u, list, parity, &sc, nil, false)
			perPlane := sc.rows[g.h]
			for i := range uint32(g.n) {
				j := g.rank(i, parity, sc.rows, perPlane)
				if j < 0 {
					continue
				}
				p, cx, _ := g.context(u, res, i)
				cx = min(cx, maxBucket-1)
				if got := sc.cp[j]; got != cx<<16|uint32(p) {
					x, y := g.xy(i)
					t.Fatalf("%d×%d×%d, colour %d, sample (%d, %d) %d: contexts gave complexity %d prediction %d, context %d %d",
						g.w, g.h, g.c, parity, x, y, i, got>>16, got&0xffff, cx, p)
				}
			}
		}
	}
}
