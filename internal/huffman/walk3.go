package huffman

import "fmt"

// Version 3's walk over a stripe's planes: the version 2 model with the
// neighbours' prediction errors feeding the table choice, and for RGB a
// choice of colour transform and of predictor for the colour planes. The
// encoder's codePlane3 and the decoder's decodePlane3 mirror each other.

// Colour transforms of version 3: the first two planes are always G and
// R−G; the third is B minus G, minus R, or minus the mean of R and G
// (rounded down), whichever leaves the least to code.
const (
	xformBG   = 0
	xformBR   = 1
	xformBRG  = 2
	numXforms = 3
	xformBits = 2
)

// thirdPlane fills p with the third plane of interleaved RGB pix under
// transform t.
func thirdPlane(p, pix []int32, t int) {
	switch t {
	case xformBG:
		for i := range p {
			p[i] = pix[3*i+2] - pix[3*i+1]
		}
	case xformBR:
		for i := range p {
			p[i] = pix[3*i+2] - pix[3*i]
		}
	default:
		for i := range p {
			p[i] = pix[3*i+2] - (pix[3*i]+pix[3*i+1])>>1
		}
	}
}

// thirdBase is what the third plane's value is added to under transform t:
// the sample's G, R, or mean of R and G.
func thirdBase(r, g int32, t byte) int32 {
	switch t {
	case xformBG:
		return g
	case xformBR:
		return r
	}
	return (r + g) >> 1
}

// rgbMode is how a version 3 stripe codes RGB: the third plane's
// transform, and for the R−G and third planes whether they are predicted
// from the colour map (see codePlane3).
type rgbMode struct {
	xform        byte
	predR, predB byte
}

// rgbModeBits is the size of an rgbMode in the stream: xformBits, then one
// bit for each colour plane's predictor.
const rgbModeBits = xformBits + 2

func (md rgbMode) bits() uint32 {
	return uint32(md.xform)<<2 | uint32(md.predR)<<1 | uint32(md.predB)
}

// parseRGBMode reads the rgbMode of a stripe of format version ver.
func parseRGBMode(v uint32, ver byte) (rgbMode, error) {
	md := rgbMode{xform: byte(v >> 2), predR: byte(v >> 1 & 1), predB: byte(v & 1)}
	switch {
	case md.xform == xformChroma && ver >= version4:
		if md.predR != 0 || md.predB != 0 {
			return md, fmt.Errorf("chroma palette stripe with colour-map flags %d%d", md.predR, md.predB)
		}
	case md.xform >= numXforms:
		return md, fmt.Errorf("colour transform %d", md.xform)
	}
	return md, nil
}

// trialCost codes plane p (w×h, values in [lo, hi]) in a counting pass of
// its own and returns the bits it takes.
func (pc *planeCoder) trialCost(p []int32, w, h int, lo, hi int32, pix []int32, pred byte) int64 {
	pc.trial.startCounting(false, regAlphabet2)
	pc.codePlane3(&pc.trial, p, w, h, lo, hi, pix, pred)
	return pc.trial.cost()
}

// pickPred codes colour plane p with the colour map and returns predMap
// if that takes fewer bits than cost0, the gradient predictor's, and the
// bits the returned predictor takes.
func (pc *planeCoder) pickPred(p []int32, w, h int, lo, hi int32, pix []int32, cost0 int64) (byte, int64) {
	if c := pc.trialCost(p, w, h, lo, hi, pix, predMap); c < cost0 {
		return predMap, c
	}
	return predGradient, cost0
}

// trialBand is the height of the bands of rows the trials of pickRGB code:
// one band in four, on stripes of at least eight.
const trialBand = 16

// trialRows returns the rows of h rows of w RGB pixels that pickRGB
// measures, and their count.
func (pc *planeCoder) trialRows(pix []int32, w, h int) ([]int32, int) {
	if h < 8*trialBand {
		return pix, h
	}
	pc.sub = pc.sub[:0]
	hs := 0
	for y := 0; y < h; y += 4 * trialBand {
		n := min(trialBand, h-y)
		pc.sub = append(pc.sub, pix[3*y*w:3*(y+n)*w]...)
		hs += n
	}
	return pc.sub, hs
}

// pickRGB chooses the rgbMode of h rows of w RGB pixels in [lo, hi] by
// coding the colour planes of a sample of their rows (trialRows) each way in
// counting passes and taking the fewest bits (the first of equals): the
// third plane's transform with the gradient predictor, then each plane's
// predictor, then, with chromaOK (version 4), the chroma palette in place of
// both colour planes when the rows have few enough colours (pc.ch then
// holds the palette).
func (pc *planeCoder) pickRGB(pix []int32, w, h int, lo, hi int32, chromaOK bool) rgbMode {
	var md rgbMode
	whole, rows := pix, h
	pix, h = pc.trialRows(pix, w, h)
	pc.plane = resize(pc.plane, w*h)
	p := pc.plane
	for i := range p {
		p[i] = pix[3*i] - pix[3*i+1]
	}
	var costR, costB int64
	md.predR, costR = pc.pickPred(p, w, h, lo-hi, hi-lo, pix, pc.trialCost(p, w, h, lo-hi, hi-lo, pix, predGradient))
	best := int64(-1)
	for t := range numXforms {
		thirdPlane(p, pix, t)
		if c := pc.trialCost(p, w, h, lo-hi, hi-lo, pix, predGradient); best < 0 || c < best {
			md.xform, best = byte(t), c
		}
	}
	thirdPlane(p, pix, int(md.xform))
	md.predB, costB = pc.pickPred(p, w, h, lo-hi, hi-lo, pix, best)
	if !chromaOK || !pc.ch.build(whole) {
		return md
	}
	// The palette is sent once for all the stripe's rows, the planes'
	// costs are those of the sampled rows: compare per stripe row.
	pc.ch.plane(p, pix, hi)
	costJ := pc.trialCost(p, w, h, 0, pc.ch.top(), nil, predGradient)
	if costJ*int64(rows)+pc.ch.bits()*int64(h) < (costR+costB)*int64(rows) {
		return rgbMode{xform: xformChroma}
	}
	return md
}

// codeRows3 is codeRows for version 3, md saying how RGB rows are coded.
func (pc *planeCoder) codeRows3(pix []int32, w, h, ch int, lo, hi int32, md rgbMode) {
	if ch == 1 {
		pc.codePlane3(&pc.s, pix, w, h, lo, hi, nil, predGradient)
		return
	}
	n := w * h
	pc.plane = resize(pc.plane, n)
	for i := range n {
		pc.plane[i] = pix[3*i+1]
	}
	pc.codePlane3(&pc.s, pc.plane, w, h, lo, hi, nil, predGradient)
	if md.xform == xformChroma {
		pc.ch.plane(pc.plane, pix, hi)
		pc.codePlane3(&pc.s, pc.plane, w, h, 0, pc.ch.top(), nil, predGradient)
		return
	}
	for i := range n {
		pc.plane[i] = pix[3*i] - pix[3*i+1]
	}
	pc.codePlane3(&pc.s, pc.plane, w, h, lo-hi, hi-lo, pix, md.predR)
	thirdPlane(pc.plane, pix, int(md.xform))
	pc.codePlane3(&pc.s, pc.plane, w, h, lo-hi, hi-lo, pix, md.predB)
}

// codePlane3 is codePlane with version 3's classes, its symbols going to s.
// A colour plane (pred other than predGradient) is predicted with the
// colour map of the stripe's interleaved RGB samples pix.
func (pc *planeCoder) codePlane3(s *sink, p []int32, w, h int, lo, hi int32, pix []int32, pred byte) {
	m, es := &pc.m, &pc.es
	maxval := spread(p)
	s.putSpread(uint32(maxval))
	m.reset(lo, hi, maxval)
	es.reset(w)
	var cp *colourPred
	if pred != predGradient {
		// A colour plane's range is [−top, top]; G lies in [0, top].
		cp = &pc.cp
		cp.reset(pix, hi)
	}
	zero := min(max(0, lo), hi)
	for y := 0; y < h; y++ {
		row, up := rows(p, w, y)
		es.row(y)
		for x := 0; x < w; {
			a, b, c, d := neighbours(row, up, x, zero)
			if a == b && b == c && c == d {
				r, end, rb := s.putRun(m, row, up, x, a)
				es.flat(x, r)
				if end {
					break
				}
				x += r
				es.set(x, rb-row[x])
				x++
				continue
			}
			q, neg := m.context(d-b, b-c, c-a)
			px := m.predict(q, neg, a, b, c)
			if cp != nil {
				px = cp.predict(y*w+x, m.lo, m.hi)
				cp.update(row[x])
			}
			err := row[x] - px
			es.set(x, -err)
			if neg {
				err = -err
			}
			err = m.reduce(err)
			s.putValue(tabReg+m.class3(q, es.near(x)), zigzag(err), 0)
			m.update(q, err)
			x++
		}
	}
}

// decodeRows3 mirrors codeRows3.
func (d *planeDecoder) decodeRows3(pix []int32, w, h, ch int, lo, hi int32, md rgbMode) error {
	if ch == 1 {
		return d.decodePlane3(pix, w, h, lo, hi, nil, predGradient)
	}
	n := w * h
	d.plane = resize(d.plane, n)
	if err := d.decodePlane3(d.plane, w, h, lo, hi, nil, predGradient); err != nil {
		return err
	}
	for i, v := range d.plane {
		pix[3*i+1] = v
	}
	if md.xform == xformChroma {
		if err := d.decodePlane3(d.plane, w, h, 0, d.ch.top(), nil, predGradient); err != nil {
			return err
		}
		if err := d.ch.apply(pix, d.plane, hi); err != nil {
			return d.corrupt("%v", err)
		}
		return nil
	}
	if err := d.decodePlane3(d.plane, w, h, lo-hi, hi-lo, pix, md.predR); err != nil {
		return err
	}
	for i, v := range d.plane {
		r := v + pix[3*i+1]
		if r < lo || r > hi {
			return d.corrupt("red sample %d is %d, outside [%d, %d]", i, r, lo, hi)
		}
		pix[3*i] = r
	}
	if err := d.decodePlane3(d.plane, w, h, lo-hi, hi-lo, pix, md.predB); err != nil {
		return err
	}
	for i, v := range d.plane {
		bl := v + thirdBase(pix[3*i], pix[3*i+1], md.xform)
		if bl < lo || bl > hi {
			return d.corrupt("blue sample %d is %d, outside [%d, %d]", i, bl, lo, hi)
		}
		pix[3*i+2] = bl
	}
	return nil
}

// decodePlane3 mirrors codePlane3. pix's G samples are decoded already and
// lie in [0, hi].
func (d *planeDecoder) decodePlane3(p []int32, w, h int, lo, hi int32, pix []int32, pred byte) error {
	m, es := &d.m, &d.es
	mv, ok := d.br.expGolomb()
	if !ok || int64(mv) > int64(hi-lo) {
		return d.corrupt("plane value spread %d outside [0, %d]", mv, hi-lo)
	}
	m.reset(lo, hi, int32(mv))
	es.reset(w)
	var cp *colourPred
	if pred != predGradient {
		cp = &d.cp
		cp.reset(pix, hi)
	}
	zero := min(max(0, lo), hi)
	rng := uint32(m.rng)
	for y := 0; y < h; y++ {
		if d.br.overrun() {
			return d.corrupt("row %d", y)
		}
		row, up := rows(p, w, y)
		es.row(y)
		for x := 0; x < w; {
			a, b, c, dd := neighbours(row, up, x, zero)
			if a == b && b == c && c == dd {
				r, end, rb, err := d.run(m, row, up, x, y, a)
				if err != nil {
					return err
				}
				es.flat(x, r)
				if end {
					break
				}
				x += r
				es.set(x, rb-row[x])
				x++
				continue
			}
			q, neg := m.context(dd-b, b-c, c-a)
			px := m.predict(q, neg, a, b, c)
			if cp != nil {
				px = cp.predict(y*w+x, m.lo, m.hi)
			}
			u, bad := d.value(int(d.classTab[m.class3(q, es.near(x))]))
			if bad || u >= rng {
				return d.corrupt("row %d column %d: residual: %v", y, x, errSample)
			}
			e := unzigzag(u)
			m.update(q, e)
			if neg {
				e = -e
			}
			row[x] = m.wrap(px + e)
			es.set(x, px-row[x])
			if cp != nil {
				cp.update(row[x])
			}
			x++
		}
	}
	return nil
}
