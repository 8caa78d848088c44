package embed

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"runtime"

	"edge/internal/medimg"
	"edge/internal/par"
)

// MaxPayload is the largest payload Embed accepts, in bytes (its length
// travels in 16 bits).
const MaxPayload = 1<<16 - 1

// ErrCapacity is returned, wrapped with the bits needed and available, when a
// payload does not fit the image.
var ErrCapacity = errors.New("embed: payload does not fit")

const (
	// version is the mark version Embed writes; Extract reads versions 1
	// and 2, which differ only in the keyed order (see geom.colour).
	version  = 2
	tagBytes = 8
	// headerBits is the fixed header read from the first reserved samples:
	// version, R, payload length, L1, two pass settings and a keyed check.
	headerBits = 4 + 30 + 16 + 30 + 2*paramBits + 32
	// paramBits: k−1, mode, window index, tp−tn.
	paramBits = 2 + 2 + 6 + 1
	// streamOverhead is what the hidden stream carries besides the payload
	// and the reserved samples' low bits: the tag.
	streamOverhead = 8 * tagBytes
)

// header says where everything is.
type header struct {
	v      uint8
	r      int // reserved samples: header, then flags
	n      int // payload bytes
	l1     int // stream bits in pass 1; pass 2 has the rest
	p1, p2 params
}

// streamBits is the length of the hidden stream: payload, the reserved
// samples' original low bits, tag.
func streamBits(n, r int) int { return 8*n + r + streamOverhead }

// fields are the header's bits before the check, padded to whole bytes.
func (h *header) fields(m int32) bitWriter {
	var w bitWriter
	w.uint(uint64(h.v), 4)
	w.uint(uint64(h.r), 30)
	w.uint(uint64(h.n), 16)
	w.uint(uint64(h.l1), 30)
	ts := windows(m)
	for _, p := range []params{h.p1, h.p2} {
		idx := 0
		for idx < len(ts)-1 && ts[idx] < p.tp {
			idx++
		}
		w.uint(uint64(max(p.k, 1)-1), 2)
		w.uint(uint64(p.mode), 2)
		w.uint(uint64(idx), 6)
		w.uint(uint64(p.tp-p.tn), 1)
	}
	return w
}

func (h *header) write(w *bitWriter, k *keys, m int32) {
	f := h.fields(m)
	r := bitReader{b: f.b, n: f.n}
	for r.left() > 0 {
		w.bit(r.bit())
	}
	w.bytes(k.mac("header", f.b)[:4])
}

func readHeader(r *bitReader, k *keys, g *geom) (header, error) {
	var h header
	v := r.uint(4)
	if v < 1 || v > version {
		return h, errCorrupt
	}
	h.v = uint8(v)
	h.r = int(r.uint(30))
	h.n = int(r.uint(16))
	h.l1 = int(r.uint(30))
	ts := windows(g.m)
	bad := false
	for _, p := range []*params{&h.p1, &h.p2} {
		p.k = uint8(r.uint(2)) + 1
		p.mode = uint8(r.uint(2))
		idx := int(r.uint(6))
		shape := int32(r.uint(1))
		if idx >= len(ts) {
			bad = true
			continue
		}
		p.tp = ts[idx]
		p.tn = p.tp - shape
	}
	var check [4]byte
	binary.BigEndian.PutUint32(check[:], uint32(r.uint(32)))
	if bad || !hmac.Equal(check[:], k.mac("header", h.fields(g.m).b)[:4]) {
		return h, errCorrupt
	}
	// The check passed, so these came from Embed; still bound them before
	// they size anything.
	if h.r < headerBits || h.r > maxReserved(g.n) {
		return h, fmt.Errorf("%w: %d reserved samples in a %d-sample image", errCorrupt, h.r, g.n)
	}
	l := streamBits(h.n, h.r)
	if h.l1 > l {
		return h, fmt.Errorf("%w: pass 1 carries %d of %d bits", errCorrupt, h.l1, l)
	}
	for _, p := range []struct {
		pp params
		l  int
	}{{h.p1, h.l1}, {h.p2, l - h.l1}} {
		if p.l > 0 && (!p.pp.valid(g.m) || int64(p.l) > int64(p.pp.k)*int64(g.n)) {
			return h, fmt.Errorf("%w: pass settings %+v for %d bits", errCorrupt, p.pp, p.l)
		}
	}
	return h, nil
}

func (pp params) valid(m int32) bool {
	return pp.k >= 1 && pp.k <= maxK && pp.mode <= 3 && pp.tn >= 0 && pp.tp >= 0 &&
		pp.tn+pp.tp >= 1 && pp.tn <= m && pp.tp <= m
}

// maxReserved bounds the header and flag samples: half the image.
func maxReserved(n int) int { return n / 2 }

// reserved returns the first r samples of the keyed sequence of distinct
// positions that holds the header and flags, and their set.
func reserved(pos [32]byte, n, r int) ([]uint32, bitset) {
	set := newBitset(n)
	list := make([]uint32, 0, r)
	g := newPRNG(pos, "reserved")
	for len(list) < r {
		i := uint32(g.below(uint64(n)))
		if !set.has(i) {
			set.set(i)
			list = append(list, i)
		}
	}
	return list, set
}

// digest binds the tag to the original image: geometry and every sample.
func digest(im *medimg.Image) []byte {
	h := sha256.New()
	var b [8]byte
	put := func(v int) {
		binary.BigEndian.PutUint64(b[:], uint64(v))
		h.Write(b[:])
	}
	put(im.Width)
	put(im.Height)
	put(im.Frames)
	put(im.Channels)
	put(im.BitsAllocated)
	put(im.BitsStored)
	if im.Signed {
		put(1)
	} else {
		put(0)
	}
	writeSamples(h, im.Pix)
	return h.Sum(nil)
}

// digestWhile is digest(im), with meanwhile(im) run on another goroutine
// while im is hashed (none when meanwhile is nil).
func digestWhile(im *medimg.Image, meanwhile func(*medimg.Image)) []byte {
	if meanwhile == nil {
		return digest(im)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		meanwhile(im)
	}()
	d := digest(im)
	<-done
	return d
}

func writeSamples(h hash.Hash, pix []int32) {
	buf := make([]byte, 0, 4096)
	for _, v := range pix {
		buf = binary.BigEndian.AppendUint32(buf, uint32(v))
		if len(buf) == cap(buf) {
			h.Write(buf)
			buf = buf[:0]
		}
	}
	h.Write(buf)
}

func markTag(k *keys, payload, dig []byte) []byte {
	var n [2]byte
	binary.BigEndian.PutUint16(n[:], uint16(len(payload)))
	return k.mac("tag", n[:], payload, dig)[:tagBytes]
}

// offset copies the samples into [0, m], where the arithmetic needs no signs.
func offset(im *medimg.Image) []int32 {
	lo, _ := im.Range()
	u := make([]int32, len(im.Pix))
	// The copies in and out of the offset domain are a sizeable share of a
	// large image's time, and would otherwise hold all but one core idle.
	par.Pieces(len(u), runtime.GOMAXPROCS(0), func(_, a, b int) {
		for i, v := range im.Pix[a:b] {
			u[a+i] = v - lo
		}
	})
	return u
}

// fromOffset turns u back into samples, in place, and returns it as an
// image described like im.
func fromOffset(im *medimg.Image, u []int32) *medimg.Image {
	lo, _ := im.Range()
	if lo != 0 {
		par.Pieces(len(u), runtime.GOMAXPROCS(0), func(_, a, b int) {
			for i := range u[a:b] {
				u[a+i] += lo
			}
		})
	}
	out := *im
	out.Pix = u
	return &out
}

// Embed hides payload in a copy of im at positions chosen by key (KeySize
// bytes) and returns the copy; im is not modified. Extract with the same key
// gives back payload and im exactly. A payload that does not fit gives an
// error wrapping ErrCapacity.
func Embed(im *medimg.Image, payload, key []byte) (*medimg.Image, error) {
	return embedVersion(im, payload, key, version)
}

// embedVersion is Embed making a mark of version v (tests make version 1
// marks, which Extract must still read).
func embedVersion(im *medimg.Image, payload, key []byte, v uint8) (*medimg.Image, error) {
	if err := im.Validate(); err != nil {
		return nil, fmt.Errorf("embed: %w", err)
	}
	k, err := deriveKeys(key)
	if err != nil {
		return nil, err
	}
	if len(payload) > MaxPayload {
		return nil, fmt.Errorf("%w: %d bytes, the limit is %d", ErrCapacity, len(payload), MaxPayload)
	}
	g := geomOf(im)
	u := offset(im)
	e := newEmbedder(&g, &k, u)
	e.v = v
	// The tag hashes the whole image; it is taken on another core while
	// the first pass is ordered, which needs only the key and the samples.
	tc := make(chan []byte, 1)
	go func() { tc <- markTag(&k, payload, digest(im)) }()
	var t []byte
	tag := func() []byte {
		if t == nil {
			t = <-tc
		}
		return t
	}
	if err := e.run(payload, tag); err != nil {
		return nil, err
	}
	return fromOffset(im, u), nil
}

// Extract finds the mark that Embed made with key in marked and returns the
// payload and the original image. A wrong key, an unmarked image or one
// altered after marking gives an error, never a wrong payload or image.
func Extract(marked *medimg.Image, key []byte) (payload []byte, original *medimg.Image, err error) {
	return extract(marked, key, nil)
}

// extract is Extract, running meanwhile (when not nil) as ExtractBestMeanwhile says.
func extract(marked *medimg.Image, key []byte, meanwhile func(*medimg.Image)) (payload []byte, original *medimg.Image, err error) {
	k, err := deriveKeys(key)
	if err != nil {
		return nil, nil, err
	}
	if err := marked.Validate(); err != nil {
		return nil, nil, fmt.Errorf("embed: %w", err)
	}
	g := geomOf(marked)
	if maxReserved(g.n) < headerBits {
		return nil, nil, fmt.Errorf("%w: %d samples cannot hold a header", errCorrupt, g.n)
	}
	u := offset(marked)

	// The header lies in the low bits of the first reserved samples; their
	// positions depend only on the key, so they can be read first.
	first, _ := reserved(k.pos, g.n, headerBits)
	var hw bitWriter
	for _, i := range first {
		hw.bit(uint32(u[i]))
	}
	hr := bitReader{b: hw.b, n: hw.n}
	h, err := readHeader(&hr, &k, &g)
	if err != nil {
		return nil, nil, err
	}
	list, res := reserved(k.pos, g.n, h.r)
	var fw bitWriter
	for _, i := range list[headerBits:] {
		fw.bit(uint32(u[i]))
	}
	flags := bitReader{b: fw.b, n: fw.n}

	// Undo pass 2 (its contexts are pass 1's output, as when it was made),
	// then pass 1 (its contexts are the now restored colour 1). Colour 0's
	// keyed order is made meanwhile.
	var s1, s2 bitWriter
	var sc orderScratch
	l := streamBits(h.n, h.r)
	keyed0 := g.shuffleColour(k.pos, 0, h.v)
	if l > h.l1 {
		if err := g.extractKeyed(u, res, list, g.shuffleColour(k.pos, 1, h.v), &sc, h.p2, l-h.l1, &flags, &s2); err != nil {
			return nil, nil, err
		}
	}
	if h.l1 > 0 {
		if err := g.extractKeyed(u, res, list, keyed0, &sc, h.p1, h.l1, &flags, &s1); err != nil {
			return nil, nil, err
		}
	}
	for j := 0; j < s2.n; j++ {
		s1.bit(uint32(s2.b[j/8] >> (7 - j%8)))
	}
	whiten(s1.b, &k)
	s := bitReader{b: s1.b, n: s1.n}
	payload = make([]byte, h.n)
	for j := range payload {
		payload[j] = byte(s.uint(8))
	}
	for _, i := range list {
		u[i] = withLow(u[i], s.bit())
	}
	var got [tagBytes]byte
	for j := range got {
		got[j] = byte(s.uint(8))
	}
	original = fromOffset(marked, u)
	if !hmac.Equal(got[:], markTag(&k, payload, digestWhile(original, meanwhile))) {
		return nil, nil, fmt.Errorf("%w: tag does not verify", errCorrupt)
	}
	return payload, original, nil
}

// Capacity is the most payload, in bits, that im could carry under key at the
// most generous settings. It counts every sample that could be expanded and
// ignores those held back at the ends of the range, so Embed may still refuse
// a payload close to it; Embed alone decides.
func Capacity(im *medimg.Image, key []byte) (bits int, err error) {
	if err := im.Validate(); err != nil {
		return 0, fmt.Errorf("embed: %w", err)
	}
	k, err := deriveKeys(key)
	if err != nil {
		return 0, err
	}
	g := geomOf(im)
	e := newEmbedder(&g, &k, offset(im))
	c := e.upperBound() - streamOverhead - 2*headerBits
	return min(max(c, 0)/8*8, 8*MaxPayload), nil
}
