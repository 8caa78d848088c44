package huffman

import (
	"encoding/binary"
	"fmt"
	"math/bits"
	"runtime"
	"slices"

	"edge/internal/medimg"
	"edge/internal/par"
)

// stripePixels sets the stripe height of version 2 streams: the fewest rows
// holding this many pixels. The layout is a function of the geometry alone,
// so the bytes are the same on every machine whatever its core count.
const stripePixels = 1 << 18

// Sample mappings of version 2.
const (
	mapRange   = 0 // v − lo, lo and hi from the data
	mapPalette = 1 // the index of v among the distinct values present
)

// stripeRows is the height of every stripe of a frame but the last.
func stripeRows(w int) int { return max(1, (stripePixels+w-1)/w) }

// stripeCount is the number of stripes of the whole image.
func stripeCount(g *medimg.Image) int64 {
	r := stripeRows(g.Width)
	return int64(g.Frames) * int64((g.Height+r-1)/r)
}

// maxPayload2 bounds a version 2 payload: maxPayload's figure for the
// samples, each stripe's tables and length, and the palette.
func maxPayload2(g *medimg.Image) int64 {
	return maxPayload(g.Samples()) + stripeCount(g)*(16<<10+16) + 1<<18
}

// mapping is how a version 2 stream turns samples into coded values in
// [0, top].
type mapping struct {
	kind    byte
	lo      int32
	top     int32
	palette []int32  // the distinct values, increasing, when kind is mapPalette
	index   []int32  // v − lo → palette index, encoder only
	seen    []uint64 // the values each goroutine of measure saw, encoder only
}

// measure takes the range [lo, hi] the samples of im actually use and finds
// the number of distinct values in it; palette says whether a palette is worth
// trying: fewer than half the values of that range occur, each used 16
// times on average (a 16-bit file holding 12-bit data scaled up, or a few
// hundred distinct levels, then codes as what it is). The samples are read
// on workers goroutines, each marking the values it sees in a set of its own.
func (mp *mapping) measure(im *medimg.Image, lo, hi int32, workers int) (palette bool) {
	pix := im.Pix
	span := int(hi-lo) + 1
	words := (span + 63) / 64
	workers = max(1, min(workers, par.PieceCount(len(pix))))
	mp.seen = resize(mp.seen, workers*words)
	clear(mp.seen)
	par.Pieces(len(pix), workers, func(wk, a, b int) {
		seen := mp.seen[wk*words : (wk+1)*words]
		for _, v := range pix[a:b] {
			u := uint32(v - lo)
			seen[u/64] |= 1 << (u % 64)
		}
	})
	all := mp.seen[:words]
	for wk := 1; wk < workers; wk++ {
		for k, b := range mp.seen[wk*words : (wk+1)*words] {
			all[k] |= b
		}
	}
	d := 0
	for _, b := range all {
		d += bits.OnesCount64(b)
	}
	mp.lo = lo
	mp.kind, mp.top, mp.palette = mapRange, hi-lo, mp.palette[:0]
	if 2*d > span || 16*d > len(pix) {
		return false
	}
	mp.index = resize(mp.index, span)
	for j := range span {
		if all[j/64]>>(j%64)&1 != 0 {
			mp.index[j] = int32(len(mp.palette))
			mp.palette = append(mp.palette, lo+int32(j))
		}
	}
	return true
}

// usePalette switches a measured mapping to its palette.
func (mp *mapping) usePalette() {
	mp.kind, mp.top = mapPalette, int32(len(mp.palette)-1)
}

func (mp *mapping) fwd(v int32) int32 {
	if mp.kind == mapRange {
		return v - mp.lo
	}
	return mp.index[v-mp.lo]
}

func (mp *mapping) append(b []byte) []byte {
	b = append(b, mp.kind)
	b = binary.AppendUvarint(b, uint64(zigzag(mp.lo)))
	b = binary.AppendUvarint(b, uint64(mp.top))
	if mp.kind == mapPalette {
		for j := 1; j < len(mp.palette); j++ {
			b = binary.AppendUvarint(b, uint64(mp.palette[j]-mp.palette[j-1]-1))
		}
	}
	return b
}

// stripe is one independently coded block of rows.
type stripe struct {
	frame, y0, y1 int
}

func stripes(g *medimg.Image, out []stripe) []stripe {
	out = out[:0]
	r := stripeRows(g.Width)
	for f := range g.Frames {
		for y := 0; y < g.Height; y += r {
			out = append(out, stripe{f, y, min(y+r, g.Height)})
		}
	}
	return out
}

func workerCount(override int) int {
	if override > 0 {
		return override
	}
	return runtime.GOMAXPROCS(0)
}

// Encode writes im as one stream. It validates im first and writes nothing
// when it is not a well-formed image.
func (e *Encoder) Encode(im *medimg.Image) error {
	lo, hi, err := im.ValidExtremes()
	if err != nil {
		return fmt.Errorf("huffman: encode: %w", err)
	}
	if err := checkPhotometric(im.Photometric); err != nil {
		return err
	}
	mp := &e.mp
	try := mp.measure(im, lo, hi, workerCount(e.workers))
	ss := stripes(im, nil)
	n, chroma := e.code(im, ss, mp)
	if try {
		top := mp.top
		// A palette pays on large images; on small ones its table can cost
		// more than it saves, so both are tried there.
		keep := e.outs
		if len(im.Pix) <= paletteTrial {
			e.outs = make([][]byte, len(ss))
		}
		mp.usePalette()
		if m, c := e.code(im, ss, mp); m >= n && len(im.Pix) <= paletteTrial {
			e.outs = keep
			mp.kind, mp.top = mapRange, top
		} else {
			chroma = c
		}
	}
	sec := mp.append(e.hdr[:0:0])
	for _, o := range e.outs {
		sec = binary.AppendUvarint(sec, uint64(len(o)))
	}
	parts := append([][]byte{sec}, e.outs...)
	ver := e.predictiveVersion()
	if ver == version4 && !chroma {
		// Without a chroma palette stripe the stream is a version 3 one,
		// byte for byte: it says so, and firmware that reads version 3
		// reads it.
		ver = version3
	}
	return e.write(ver, kindPredictive, im, parts...)
}

func (e *Encoder) predictiveVersion() byte {
	if e.version == 0 {
		return version4
	}
	return e.version
}

// paletteTrial is the largest image, in samples, coded both with and
// without its palette.
const paletteTrial = 1 << 20

// code codes the stripes of im under mp into e.outs and returns the size of
// the payload that makes, mapping table included, and whether a stripe
// took a chroma palette.
func (e *Encoder) code(im *medimg.Image, ss []stripe, mp *mapping) (int, bool) {
	workers := workerCount(e.workers)
	for len(e.coders) < min(workers, len(ss)) {
		e.coders = append(e.coders, &planeCoder{})
	}
	for len(e.outs) < len(ss) {
		e.outs = append(e.outs, nil)
	}
	e.outs = e.outs[:len(ss)]
	e.chroma = resize(e.chroma, len(ss))
	w, ch := im.Width, im.Channels
	ver := e.predictiveVersion()
	par.Run(len(ss), workers, func(wk, j int) {
		pc, st := e.coders[wk], ss[j]
		rows := st.y1 - st.y0
		start := ((st.frame*im.Height + st.y0) * w) * ch
		src := im.Pix[start : start+rows*w*ch]
		pc.buf = resize(pc.buf, len(src))
		for i, v := range src {
			pc.buf[i] = mp.fwd(v)
		}
		e.outs[j], e.chroma[j] = pc.codeStripe(pc.buf, w, rows, ch, mp.top, ver, e.outs[j][:0])
	})
	n := len(mp.append(nil))
	for _, o := range e.outs {
		n += len(o) + 3
	}
	return n, slices.Contains(e.chroma, true)
}

// codeStripe codes the mapped samples of one stripe, values in [0, top],
// with its own tables, in format version ver, and appends the bytes to out.
// It reports whether the stripe took a chroma palette (version 4).
func (pc *planeCoder) codeStripe(pix []int32, w, h, ch int, top int32, ver byte, out []byte) ([]byte, bool) {
	s := &pc.s
	s.startCounting(true, regAlphabet2)
	var md rgbMode
	if ver == version2 {
		pc.codeRows(pix, w, h, ch, 0, top)
	} else {
		if ch == 3 {
			md = pc.pickRGB(pix, w, h, 0, top, ver >= version4)
		}
		pc.codeRows3(pix, w, h, ch, 0, top, md)
	}
	s.counting = false
	s.w.reset()
	if ver == version2 {
		for t := range s.tabs {
			s.b.build(&s.tabs[t], s.hist[t])
			writeTable(&s.w, &s.tabs[t], s.hist[t])
			s.remap[t] = uint8(t)
		}
	} else {
		if ch == 3 {
			s.w.write(md.bits(), rgbModeBits)
			if md.xform == xformChroma {
				pc.ch.write(&s.w)
			}
		}
		s.writeTables3()
	}
	s.replay()
	s.w.flush()
	return append(out, s.w.buf...), md.xform == xformChroma
}

// cursor reads the byte-aligned section of a version 2 payload.
type cursor struct {
	b    []byte
	pos  int
	base int64
}

func (c *cursor) corrupt(format string, args ...any) error {
	return &CorruptInputError{Offset: c.base + int64(c.pos), Reason: fmt.Sprintf(format, args...)}
}

func (c *cursor) uvarint(what string, limit uint64) (uint64, error) {
	v, n := binary.Uvarint(c.b[c.pos:])
	switch {
	case n == 0:
		return 0, c.corrupt("payload truncated in %s", what)
	case n < 0:
		return 0, c.corrupt("%s overflows 64 bits", what)
	case n > 1 && c.b[c.pos+n-1] == 0:
		return 0, c.corrupt("%s has a non-minimal encoding", what)
	case v > limit:
		return 0, c.corrupt("%s %d exceeds %d", what, v, limit)
	}
	c.pos += n
	return v, nil
}

// readMapping reads and checks a mapping against the image's range.
func (c *cursor) readMapping(im *medimg.Image, mp *mapping) error {
	if c.pos >= len(c.b) {
		return c.corrupt("payload truncated in sample mapping")
	}
	mp.kind = c.b[c.pos]
	c.pos++
	if mp.kind != mapRange && mp.kind != mapPalette {
		return c.corrupt("sample mapping %d", mp.kind)
	}
	lo, hi := im.Range()
	span := uint64(int64(hi) - int64(lo))
	z, err := c.uvarint("lowest sample", 1<<32-1)
	if err != nil {
		return err
	}
	mp.lo = unzigzag(uint32(z))
	if mp.lo < lo || mp.lo > hi {
		return c.corrupt("lowest sample %d outside [%d, %d]", mp.lo, lo, hi)
	}
	top, err := c.uvarint("coded range", uint64(int64(hi)-int64(mp.lo)))
	if err != nil {
		return err
	}
	mp.top = int32(top)
	mp.palette = mp.palette[:0]
	if mp.kind == mapPalette {
		if top >= span/2+1 || top > uint64(len(c.b)-c.pos) {
			return c.corrupt("palette of %d values", top+1)
		}
		v := mp.lo
		mp.palette = append(mp.palette, v)
		for range top {
			left := int64(hi) - int64(v) - 1
			if left < 0 {
				return c.corrupt("palette runs past the highest sample %d", hi)
			}
			g, err := c.uvarint("palette gap", uint64(left))
			if err != nil {
				return err
			}
			v += int32(g) + 1
			mp.palette = append(mp.palette, v)
		}
	}
	return nil
}

// decodeStriped reads a version 2 or 3 payload, held whole in d.br.
func (d *Decoder) decodeStriped(h *header) (*medimg.Image, error) {
	im := h.geom
	c := cursor{b: d.br.buf, base: d.base}
	var mp mapping
	if err := c.readMapping(&im, &mp); err != nil {
		return nil, err
	}
	if n := stripeCount(&im); n > int64(len(c.b)-c.pos) {
		return nil, c.corrupt("%d stripes in a %d-byte payload", n, len(c.b))
	}
	ss := stripes(&im, nil)
	lens := make([]int, len(ss))
	for j := range ss {
		n, err := c.uvarint("stripe length", uint64(len(c.b)))
		if err != nil {
			return nil, err
		}
		lens[j] = int(n)
	}
	offs := make([]int, len(ss)+1)
	offs[0] = c.pos
	for j, n := range lens {
		if n > len(c.b)-offs[j] {
			return nil, c.corrupt("stripe %d of %d bytes runs past the payload", j, n)
		}
		offs[j+1] = offs[j] + n
	}
	if offs[len(ss)] != len(c.b) {
		return nil, c.corrupt("%d unused bytes after the last stripe", len(c.b)-offs[len(ss)])
	}
	im.Pix = make([]int32, im.Samples())
	workers := workerCount(d.workers)
	for len(d.stripes) < min(workers, len(ss)) {
		d.stripes = append(d.stripes, &planeDecoder{})
	}
	errs := make([]error, len(ss))
	w, ch := im.Width, im.Channels
	par.Run(len(ss), workers, func(wk, j int) {
		pd, st := d.stripes[wk], ss[j]
		pd.br.reset(c.b[offs[j]:offs[j+1]])
		pd.base = d.base + int64(offs[j])
		pd.regAlpha = regAlphabet2
		rows := st.y1 - st.y0
		start := ((st.frame*im.Height + st.y0) * w) * ch
		dst := im.Pix[start : start+rows*w*ch]
		var err error
		var md rgbMode
		if h.version != version2 && ch == 3 {
			var perr error
			if md, perr = parseRGBMode(pd.br.read(rgbModeBits), h.version); perr != nil {
				err = pd.corrupt("%v", perr)
			} else if md.xform == xformChroma {
				if perr = pd.ch.read(&pd.br, mp.top); perr != nil {
					err = pd.corrupt("%v", perr)
				}
			}
		}
		switch {
		case err != nil:
		case h.version == version2:
			err = pd.readTables()
		default:
			err = pd.readTables3()
		}
		switch {
		case err != nil:
		case h.version == version2:
			err = pd.decodeRows(dst, w, rows, ch, 0, mp.top)
		default:
			err = pd.decodeRows3(dst, w, rows, ch, 0, mp.top, md)
		}
		if err == nil {
			err = pd.finish()
		}
		if err != nil {
			errs[j] = fmt.Errorf("%w (stripe %d: frame %d, rows %d–%d)", err, j, st.frame, st.y0, st.y1-1)
			return
		}
		if mp.kind == mapRange {
			for i, v := range dst {
				dst[i] = v + mp.lo
			}
		} else {
			for i, v := range dst {
				dst[i] = mp.palette[v]
			}
		}
	})
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return &im, nil
}
