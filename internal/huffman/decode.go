package huffman

import (
	"bytes"
	"errors"
	"fmt"
	"io"

	"edge/internal/medimg"
)

// Decoder reads streams written by Encoder (and by EncodeZeroOrder). Its
// buffers are kept between images.
type Decoder struct {
	r       io.Reader
	lim     Limits
	payload bytes.Buffer
	planeDecoder
	// stripes are the per-goroutine decoders of version 2 and 3 streams.
	stripes []*planeDecoder
	// zeroOnly refuses predictive streams, for DecodeZeroOrder.
	zeroOnly bool
	workers  int
}

// planeDecoder is the state that reads one run of planes: the whole payload
// of a version 1 stream, one stripe of a version 2 stream.
type planeDecoder struct {
	br       bitReader
	base     int64 // stream offset of br's first byte
	tabs     [numTables]decTable
	m        model
	plane    []int32
	regAlpha uint32
	es       errState
	// classTab is each residual class's table in version 3.
	classTab [numClasses]uint8
	cp       colourPred
	ch       chroma
}

// NewDecoder returns a Decoder reading from r within lim.
func NewDecoder(r io.Reader, lim Limits) *Decoder { return &Decoder{r: r, lim: lim} }

// Reset makes d read from r, keeping its buffers and limits.
func (d *Decoder) Reset(r io.Reader) { d.r = r }

// Decode reads one stream. It reads exactly the stream's bytes from r, so
// streams can follow each other.
func (d *Decoder) Decode() (*medimg.Image, error) {
	h, err := d.readPayload()
	if err != nil {
		return nil, err
	}
	return d.decode(h)
}

// DecodeBytes decodes the one stream that b holds, reading its payload in
// place: nothing of b is copied, and b must stay unchanged until it returns.
// Bytes after the stream are an error.
func (d *Decoder) DecodeBytes(b []byte) (*medimg.Image, error) {
	r := bytes.NewReader(b)
	br := byteReader{r: r}
	h, err := readHeader(&br, d.lim)
	if err != nil {
		return nil, err
	}
	d.base = br.off
	rest := b[br.off:]
	if int64(len(rest)) < h.nbody {
		return nil, &CorruptInputError{Offset: int64(len(b)), Reason: fmt.Sprintf("payload truncated: %d of %d bytes", len(rest), h.nbody), Err: io.ErrUnexpectedEOF}
	}
	if int64(len(rest)) > h.nbody {
		return nil, &CorruptInputError{Offset: br.off + h.nbody, Reason: fmt.Sprintf("%d bytes after the stream", int64(len(rest))-h.nbody)}
	}
	d.br.reset(rest)
	// Drop the readers' views of b when done: a long-lived Decoder would
	// otherwise keep the caller's buffer alive until the next image.
	defer d.dropInput()
	return d.decode(h)
}

func (d *Decoder) dropInput() {
	d.br = bitReader{}
	for _, pd := range d.stripes {
		pd.br = bitReader{}
	}
}

func (d *Decoder) decode(h *header) (*medimg.Image, error) {
	if d.zeroOnly && h.kind != kindZeroOrder {
		return nil, &CorruptInputError{Offset: 5, Reason: fmt.Sprintf("stream kind %d, want zero-order %d", h.kind, kindZeroOrder)}
	}
	if h.version >= version2 {
		return d.decodeStriped(h)
	}
	im := h.geom
	im.Pix = make([]int32, im.Samples())
	var err error
	switch h.kind {
	case kindPredictive:
		d.regAlpha = regAlphabet
		err = d.decodePredictive(&im)
	default:
		err = d.decodeZeroOrder(&im)
	}
	if err != nil {
		return nil, err
	}
	if err := d.finish(); err != nil {
		return nil, err
	}
	return &im, nil
}

// readPayload reads the header and the payload it declares. The payload
// buffer grows as bytes arrive, so a header that lies about the size costs
// no more memory than the bytes actually sent.
func (d *Decoder) readPayload() (*header, error) {
	br := byteReader{r: d.r}
	h, err := readHeader(&br, d.lim)
	if err != nil {
		return nil, err
	}
	d.base = br.off
	d.payload.Reset()
	n, err := d.payload.ReadFrom(io.LimitReader(d.r, h.nbody))
	if err != nil {
		return nil, fmt.Errorf("huffman: reading payload at byte %d: %w", d.base+n, err)
	}
	if n < h.nbody {
		return nil, &CorruptInputError{Offset: d.base + n, Reason: fmt.Sprintf("payload truncated: %d of %d bytes", n, h.nbody), Err: io.ErrUnexpectedEOF}
	}
	d.br.reset(d.payload.Bytes())
	return h, nil
}

func (d *planeDecoder) corrupt(format string, args ...any) error {
	off := d.br.byteOffset()
	if d.br.overrun() {
		off = int64(len(d.br.buf))
		format = "payload truncated: " + format
	}
	return &CorruptInputError{Offset: d.base + off, Reason: fmt.Sprintf(format, args...)}
}

// finish checks that the payload ended where its last symbol did, with zero padding.
func (d *planeDecoder) finish() error {
	if d.br.overrun() {
		return d.corrupt("after the last sample")
	}
	left := int64(len(d.br.buf))*8 - d.br.consumed()
	if left >= 8 {
		return d.corrupt("%d unused bytes after the last sample", left/8)
	}
	if d.br.read(uint(left)) != 0 {
		return d.corrupt("non-zero padding bits")
	}
	return nil
}

func (d *planeDecoder) readTables() error {
	for t := range d.tabs {
		n := int(d.regAlpha)
		if t == tabRun {
			n = runAlphabet
		}
		if err := d.tabs[t].read(&d.br, n); err != nil {
			return d.corrupt("code table %d: %v", t, err)
		}
	}
	return nil
}

func (d *planeDecoder) decodePredictive(im *medimg.Image) error {
	if err := d.readTables(); err != nil {
		return err
	}
	lo, hi := im.Range()
	n := im.Width * im.Height * im.Channels
	for f := 0; f < im.Frames; f++ {
		if err := d.decodeRows(im.Pix[f*n:(f+1)*n], im.Width, im.Height, im.Channels, lo, hi); err != nil {
			return fmt.Errorf("%w (frame %d)", err, f)
		}
	}
	return nil
}

// decodeRows mirrors planeCoder.codeRows: h rows of w pixels of ch
// channels, samples in [lo, hi].
func (d *planeDecoder) decodeRows(pix []int32, w, h, ch int, lo, hi int32) error {
	if ch == 1 {
		return d.decodePlane(pix, w, h, lo, hi)
	}
	n := w * h
	d.plane = resize(d.plane, n)
	if err := d.decodePlane(d.plane, w, h, lo, hi); err != nil {
		return err
	}
	for i, v := range d.plane {
		pix[3*i+1] = v
	}
	for _, c := range []int{0, 2} {
		if err := d.decodePlane(d.plane, w, h, lo-hi, hi-lo); err != nil {
			return err
		}
		for i, v := range d.plane {
			s := v + pix[3*i+1]
			if s < lo || s > hi {
				return d.corrupt("channel %d sample %d is %d, outside [%d, %d]", c, i, s, lo, hi)
			}
			pix[3*i+c] = s
		}
	}
	return nil
}

// errSample reports a symbol outside what the model allows at this point.
var errSample = errors.New("symbol out of range")

// symbol reads one symbol of table tab; bad is true for a symbol outside
// the table's alphabet (the table is empty).
func (d *planeDecoder) symbol(tab int, alphabet uint32) (tok uint32, bad bool) {
	d.br.refill()
	tok = d.tabs[tab].decode(&d.br)
	return tok, tok >= alphabet
}

// untoken reads the extra bits of tok and returns its value.
func (d *planeDecoder) untoken(tok uint32) uint32 {
	if tok < 16 {
		return tok
	}
	base, nb := tokenBits(tok)
	return base | d.br.read(nb)
}

// value reads a token of a residual table and its extra bits.
func (d *planeDecoder) value(tab int) (v uint32, bad bool) {
	tok, bad := d.symbol(tab, d.regAlpha)
	if bad {
		return 0, true
	}
	return d.untoken(tok), false
}

// decodePlane mirrors Encoder.codePlane.
func (d *planeDecoder) decodePlane(p []int32, w, h int, lo, hi int32) error {
	m := &d.m
	mv, ok := d.br.expGolomb()
	if !ok || int64(mv) > int64(hi-lo) {
		return d.corrupt("plane value spread %d outside [0, %d]", mv, hi-lo)
	}
	m.reset(lo, hi, int32(mv))
	zero := min(max(0, lo), hi)
	rng := uint32(m.rng)
	for y := 0; y < h; y++ {
		if d.br.overrun() {
			return d.corrupt("row %d", y)
		}
		row, up := rows(p, w, y)
		for x := 0; x < w; {
			a, b, c, dd := neighbours(row, up, x, zero)
			if a == b && b == c && c == dd {
				r, end, _, err := d.run(m, row, up, x, y, a)
				if err != nil {
					return err
				}
				if end {
					break
				}
				x += r + 1
				continue
			}
			q, neg := m.context(dd-b, b-c, c-a)
			px := m.predict(q, neg, a, b, c)
			u, bad := d.value(tabReg + m.class(q))
			if bad || u >= rng {
				return d.corrupt("row %d column %d: residual: %v", y, x, errSample)
			}
			e := unzigzag(u)
			m.update(q, e)
			if neg {
				e = -e
			}
			row[x] = m.wrap(px + e)
			x++
		}
	}
	return nil
}

// run decodes run mode from sample x of row y, where the neighbours all
// equal a, as putRun coded it, and returns the run's length, whether it
// ended the row, and the interruption's reference sample.
func (d *planeDecoder) run(m *model, row, up []int32, x, y int, a int32) (r int, end bool, rb int32, err error) {
	w := len(row)
	tok, bad := d.symbol(tabRun, runAlphabet)
	if bad {
		return 0, false, 0, d.corrupt("row %d column %d: run symbol: %v", y, x, errSample)
	}
	if tok == 0 {
		for i := x; i < w; i++ {
			row[i] = a
		}
		return w - x, true, a, nil
	}
	r = int(d.untoken(tok - 1))
	if r >= w-x {
		return 0, false, 0, d.corrupt("row %d column %d: run of %d past the row end", y, x, r)
	}
	for i := x; i < x+r; i++ {
		row[i] = a
	}
	x += r
	tab, rb, neg := interruption(a, up, x)
	u, bad := d.value(tab)
	if bad || u >= uint32(m.rng) {
		return 0, false, 0, d.corrupt("row %d column %d: run interruption residual: %v", y, x, errSample)
	}
	e := unzigzag(u)
	if neg {
		e = -e
	}
	row[x] = m.wrap(rb + e)
	return r, false, rb, nil
}
