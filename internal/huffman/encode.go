package huffman

import (
	"fmt"
	"io"

	"edge/internal/medimg"
)

// Encoder writes images as predictive Huffman streams (format version 4
// where an RGB stripe takes a chroma palette, else 3; see the package
// comment). Its buffers are kept between images, so a
// long-lived Encoder allocates little in steady state. An Encoder is not safe
// for concurrent use; it runs its own goroutines, at most GOMAXPROCS, one per
// stripe being coded.
type Encoder struct {
	w   io.Writer
	hdr []byte
	// coders are the per-goroutine model states; outs the coded stripes.
	coders []*planeCoder
	outs   [][]byte
	chroma []bool // which of outs took a chroma palette
	// zs is the zero-order coder's state.
	zs sink
	mp mapping
	// workers overrides GOMAXPROCS (tests use it to prove the bytes do not
	// depend on it).
	workers int
	// version is the predictive format written; 0 means version 4 where a
	// stripe needs it and 3 otherwise. Versions 2 and 3 are kept writable so
	// benchmarks and tests can compare them.
	version byte
}

// NewEncoder returns an Encoder writing to w.
func NewEncoder(w io.Writer) *Encoder { return &Encoder{w: w} }

// Reset makes e write to w, keeping its buffers.
func (e *Encoder) Reset(w io.Writer) { e.w = w }

// sink receives the symbols of the model: the counting pass counts them (and
// records them when the image is small enough), then they are written with
// the codes built from the counts, replayed from the record or produced by a
// second run of the model.
type sink struct {
	counting bool
	record   bool
	hist     [numTables][]uint64
	tabs     [numTables]encTable
	b        builder
	w        bitWriter
	syms     []uint32 // recorded symbols, see recordSym
	// remap is the table a recorded symbol's table index is written with:
	// the identity but for version 3's grouped classes.
	remap [numTables]uint8
	// Version 3's class groups: group[c] is class c's, ghist their histograms.
	group   [numClasses]uint8
	ngroups int
	ghist   [numClasses][]uint64
	merged  []uint64
}

// A recorded symbol is one uint32: table (6 bits), token (7 bits), extra-bit
// count (5 bits), and the extra bits themselves in the top 14 when they fit,
// else in the next word. Table recValue marks a plane's spread, its value in
// the next word.
const (
	recValue     = 63
	recExtraBits = 14
)

func (s *sink) startCounting(record bool, regAlpha int) {
	s.counting, s.record = true, record
	s.syms = s.syms[:0]
	for t := range s.hist {
		n := regAlpha
		if t == tabRun {
			n = runAlphabet
		}
		s.hist[t] = resize(s.hist[t], n)
		clear(s.hist[t])
	}
}

// putValue codes v ≥ 0 as token+offset of table tab and its extra bits.
func (s *sink) putValue(tab int, v uint32, offset uint32) {
	tok, ex, nb := token(v)
	tok += offset
	if s.counting {
		s.hist[tab][tok]++
		if s.record {
			if nb <= recExtraBits {
				s.syms = append(s.syms, uint32(tab)|tok<<6|uint32(nb)<<13|ex<<18)
			} else {
				s.syms = append(s.syms, uint32(tab)|tok<<6|uint32(nb)<<13, ex)
			}
		}
		return
	}
	t := &s.tabs[tab]
	s.w.write(t.code[tok], uint(t.len[tok]))
	s.w.write(ex, nb)
}

// cost is the number of bits the counted symbols take with codes built
// for them, extra bits and tables included.
func (s *sink) cost() int64 {
	var bitsN int64
	for t := range s.hist {
		h := s.hist[t]
		s.b.build(&s.tabs[t], h)
		bitsN += tableBits(&s.tabs[t], h)
		for sym, c := range h {
			if c == 0 {
				continue
			}
			bitsN += int64(c) * int64(s.tabs[t].len[sym])
			tok := uint32(sym)
			if t == tabRun {
				if tok == 0 {
					continue
				}
				tok--
			}
			if tok >= 16 {
				_, nb := tokenBits(tok)
				bitsN += int64(c) * int64(nb)
			}
		}
	}
	return bitsN
}

// putSpread sends a plane's value spread.
func (s *sink) putSpread(v uint32) {
	switch {
	case !s.counting:
		s.w.expGolomb(v)
	case s.record:
		s.syms = append(s.syms, recValue, v)
	}
}

// replay writes the recorded symbols.
func (s *sink) replay() {
	syms := s.syms
	for i := 0; i < len(syms); i++ {
		e := syms[i]
		tab := e & 63
		if tab == recValue {
			i++
			s.w.expGolomb(syms[i])
			continue
		}
		tok, nb := e>>6&127, uint(e>>13&31)
		t := &s.tabs[s.remap[tab]]
		s.w.write(t.code[tok], uint(t.len[tok]))
		if nb > 0 {
			ex := e >> 18
			if nb > recExtraBits {
				i++
				ex = syms[i]
			}
			s.w.write(ex, nb)
		}
	}
}

// write sends the header and the payload, given as parts.
func (e *Encoder) write(ver, kind byte, im *medimg.Image, body ...[]byte) error {
	h := header{version: ver, kind: kind, geom: *im}
	for _, b := range body {
		h.nbody += int64(len(b))
	}
	h.geom.Pix = nil
	e.hdr = appendHeader(e.hdr[:0], &h)
	if g, ok := e.w.(interface{ Grow(int) }); ok {
		// A bytes.Buffer then takes the stream in one allocation.
		g.Grow(len(e.hdr) + int(h.nbody))
	}
	if _, err := e.w.Write(e.hdr); err != nil {
		return fmt.Errorf("huffman: writing header: %w", err)
	}
	for _, b := range body {
		if _, err := e.w.Write(b); err != nil {
			return fmt.Errorf("huffman: writing %d-byte payload: %w", h.nbody, err)
		}
	}
	return nil
}

// planeCoder is the model state of one goroutine: it codes one run of
// planes (a stripe) at a time.
type planeCoder struct {
	s     sink
	m     model
	plane []int32
	buf   []int32 // the stripe's samples, mapped
	es    errState
	// trial counts the symbols of a plane coded only to measure it.
	trial sink
	sub   []int32 // the rows the trials code
	cp    colourPred
	ch    chroma
}

// codeRows runs the model over h rows of w pixels of ch channels, samples
// in [lo, hi]: the gray plane, or for three channels G, R−G and B−G (the
// differences take out what the colours share; they need one more bit of
// range, which the model's modular residuals absorb).
func (pc *planeCoder) codeRows(pix []int32, w, h, ch int, lo, hi int32) {
	if ch == 1 {
		pc.codePlane(pix, w, h, lo, hi)
		return
	}
	n := w * h
	pc.plane = resize(pc.plane, n)
	for i := range n {
		pc.plane[i] = pix[3*i+1]
	}
	pc.codePlane(pc.plane, w, h, lo, hi)
	for _, c := range []int{0, 2} {
		for i := range n {
			pc.plane[i] = pix[3*i+c] - pix[3*i+1]
		}
		pc.codePlane(pc.plane, w, h, lo-hi, hi-lo)
	}
}

func spread(p []int32) int32 {
	mn, mx := p[0], p[0]
	for _, v := range p {
		mn = min(mn, v)
		mx = max(mx, v)
	}
	return mx - mn
}

// codePlane is the model's walk over one plane; decodePlane mirrors it. The
// plane's value spread goes first because the model's thresholds depend on it.
func (pc *planeCoder) codePlane(p []int32, w, h int, lo, hi int32) {
	s, m := &pc.s, &pc.m
	maxval := spread(p)
	s.putSpread(uint32(maxval))
	m.reset(lo, hi, maxval)
	zero := min(max(0, lo), hi)
	for y := 0; y < h; y++ {
		row, up := rows(p, w, y)
		for x := 0; x < w; {
			a, b, c, d := neighbours(row, up, x, zero)
			if a == b && b == c && c == d {
				r, end, _ := s.putRun(m, row, up, x, a)
				if end {
					break
				}
				x += r + 1
				continue
			}
			q, neg := m.context(d-b, b-c, c-a)
			px := m.predict(q, neg, a, b, c)
			err := row[x] - px
			if neg {
				err = -err
			}
			err = m.reduce(err)
			s.putValue(tabReg+m.class(q), zigzag(err), 0)
			m.update(q, err)
			x++
		}
	}
}

// putRun codes run mode from sample x of row, where the neighbours all
// equal a: the run of samples equal to a, cut at the row end, then the
// sample that interrupts it. It returns the run's length, whether the run
// ended the row (and nothing interrupts it), and the interruption's
// reference sample.
func (s *sink) putRun(m *model, row, up []int32, x int, a int32) (r int, end bool, rb int32) {
	for _, v := range row[x:] {
		if v != a {
			break
		}
		r++
	}
	if x+r == len(row) {
		s.putValue(tabRun, 0, 0) // token 0, no extra bits: the run ends the row
		return r, true, a
	}
	s.putValue(tabRun, uint32(r), 1)
	x += r
	tab, rb, neg := interruption(a, up, x)
	err := row[x] - rb
	if neg {
		err = -err
	}
	s.putValue(tab, zigzag(m.reduce(err)), 0)
	return r, false, rb
}

// interruption is how the sample x that interrupts a run of a is coded: its
// reference rb is the sample above, and where that differs from a the
// residual has its own table and is negated when a > rb, so that its sign
// says whether the sample went on past the reference, away from the run.
// (rb = a where the two agree, or on the first row.)
func interruption(a int32, up []int32, x int) (tab int, rb int32, neg bool) {
	rb = a
	if up != nil {
		rb = up[x]
	}
	if a == rb {
		return tabIntrEq, rb, false
	}
	return tabIntr, rb, a > rb
}

// rows returns row y of the plane p of width w and the row above it, nil
// for the first row.
func rows(p []int32, w, y int) (row, up []int32) {
	if y > 0 {
		up = p[(y-1)*w : y*w]
	}
	return p[y*w : y*w+w], up
}

// neighbours gives the causal neighbours left, above, above-left and
// above-right of sample x. Outside the plane they repeat the nearest known
// sample (the first row sees only its left neighbour, the first sample sees
// zero clamped into range), so the first row is coded in run mode and each
// row start is predicted from above.
func neighbours(row, up []int32, x int, zero int32) (a, b, c, d int32) {
	if up == nil {
		a = zero
		if x > 0 {
			a = row[x-1]
		}
		return a, a, a, a
	}
	b = up[x]
	a, c = b, b
	if x > 0 {
		a, c = row[x-1], up[x-1]
	}
	d = b
	if x+1 < len(up) {
		d = up[x+1]
	}
	return a, b, c, d
}
