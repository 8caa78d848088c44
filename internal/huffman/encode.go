package huffman

import (
	"fmt"
	"io"

	"edge/internal/medimg"
)

// Encoder writes images as predictive Huffman streams. Its buffers are kept
// between images, so a long-lived Encoder allocates nothing in steady state.
type Encoder struct {
	w     io.Writer
	s     sink
	m     model
	plane []int32
	hdr   []byte
}

// NewEncoder returns an Encoder writing to w.
func NewEncoder(w io.Writer) *Encoder { return &Encoder{w: w} }

// Reset makes e write to w, keeping its buffers.
func (e *Encoder) Reset(w io.Writer) { e.w = w }

// sink receives the symbols of a plane: the first pass counts them, the
// second writes them with the codes built from the counts. Running the model
// twice costs less than storing every symbol between the passes.
type sink struct {
	counting bool
	hist     [numTables][]uint64
	tabs     [numTables]encTable
	b        builder
	w        bitWriter
}

func (s *sink) startCounting() {
	s.counting = true
	for t := range s.hist {
		n := regAlphabet
		if t == tabRun {
			n = runAlphabet
		}
		s.hist[t] = resize(s.hist[t], n)
		clear(s.hist[t])
	}
}

func (s *sink) put(tab int, tok uint32) {
	if s.counting {
		s.hist[tab][tok]++
		return
	}
	t := &s.tabs[tab]
	s.w.write(t.code[tok], uint(t.len[tok]))
}

func (s *sink) extra(v uint32, nb uint) {
	if !s.counting {
		s.w.write(v, nb)
	}
}

// putValue codes v ≥ 0 as a token of table tab and its extra bits.
func (s *sink) putValue(tab int, v uint32, offset uint32) {
	tok, ex, nb := token(v)
	s.put(tab, tok+offset)
	s.extra(ex, nb)
}

// Encode writes im as one stream. It validates im first and writes nothing
// when it is not a well-formed image.
func (e *Encoder) Encode(im *medimg.Image) error {
	if err := im.Validate(); err != nil {
		return fmt.Errorf("huffman: encode: %w", err)
	}
	if err := checkPhotometric(im.Photometric); err != nil {
		return err
	}
	s := &e.s
	s.startCounting()
	e.codePlanes(im, nil)
	for t := range s.tabs {
		s.b.build(&s.tabs[t], s.hist[t])
	}
	s.counting = false
	s.w.reset()
	for t := range s.tabs {
		writeTable(&s.w, &s.tabs[t], s.hist[t])
	}
	e.codePlanes(im, &s.w)
	s.w.flush()
	return e.write(kindPredictive, im, s.w.buf)
}

func (e *Encoder) write(kind byte, im *medimg.Image, body []byte) error {
	h := header{kind: kind, geom: *im, nbody: int64(len(body))}
	h.geom.Pix = nil
	e.hdr = appendHeader(e.hdr[:0], &h)
	if _, err := e.w.Write(e.hdr); err != nil {
		return fmt.Errorf("huffman: writing header: %w", err)
	}
	if _, err := e.w.Write(body); err != nil {
		return fmt.Errorf("huffman: writing %d-byte payload: %w", len(body), err)
	}
	return nil
}

// codePlanes runs the model over every plane of im: each frame's gray plane,
// or for three channels G, R−G and B−G (the differences take out what the
// colours share; they need one more bit of range, which the model's modular
// residuals absorb). Before each plane its value spread goes into the stream
// (when w is not nil) because the model's thresholds depend on it.
func (e *Encoder) codePlanes(im *medimg.Image, w *bitWriter) {
	lo, hi := im.Range()
	n := im.Width * im.Height
	for f := 0; f < im.Frames; f++ {
		pix := im.Pix[f*n*im.Channels : (f+1)*n*im.Channels]
		if im.Channels == 1 {
			e.codePlane(pix, im.Width, im.Height, lo, hi, w)
			continue
		}
		e.plane = resize(e.plane, n)
		for i := range n {
			e.plane[i] = pix[3*i+1]
		}
		e.codePlane(e.plane, im.Width, im.Height, lo, hi, w)
		for _, ch := range []int{0, 2} {
			for i := range n {
				e.plane[i] = pix[3*i+ch] - pix[3*i+1]
			}
			e.codePlane(e.plane, im.Width, im.Height, lo-hi, hi-lo, w)
		}
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

// codePlane is the model's walk over one plane; decodePlane mirrors it.
func (e *Encoder) codePlane(p []int32, w, h int, lo, hi int32, bw *bitWriter) {
	s, m := &e.s, &e.m
	maxval := spread(p)
	if bw != nil {
		bw.expGolomb(uint32(maxval))
	}
	m.reset(lo, hi, maxval)
	zero := min(max(0, lo), hi)
	for y := 0; y < h; y++ {
		row := p[y*w : y*w+w]
		var up []int32
		if y > 0 {
			up = p[(y-1)*w : y*w]
		}
		for x := 0; x < w; {
			a, b, c, d := neighbours(row, up, x, zero)
			if a == b && b == c && c == d {
				// Run mode: the run of samples equal to a, cut at the row end.
				r := 0
				for x+r < w && row[x+r] == a {
					r++
				}
				if x+r == w {
					s.put(tabRun, 0)
					break
				}
				s.putValue(tabRun, uint32(r), 1)
				x += r
				// The interruption sample: predicted from above, or from the
				// left where the two agree.
				rb := a
				if up != nil {
					rb = up[x]
				}
				tab, err := tabIntrEq, row[x]-a
				if a != rb {
					tab, err = tabIntr, row[x]-rb
					if a > rb {
						err = -err
					}
				}
				s.putValue(tab, zigzag(m.reduce(err)), 0)
				x++
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
