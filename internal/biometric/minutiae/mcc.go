package minutiae

import (
	"math"
	"math/bits"
	"slices"
	"sort"
)

// Minutia Cylinder-Code (Cappelli, Ferrara and Maltoni, IEEE TPAMI 2010),
// bit-based variant, with the parameters the paper gives for 500 dpi.
const (
	mccR      = 70.0            // cylinder radius, pixels
	mccNS     = 16              // cells along each side of the base
	mccND     = 6               // angular sections
	mccSigmaS = 28.0 / 3        // spatial contribution spread
	mccSigmaD = 2 * math.Pi / 9 // directional contribution spread
	mccMuPsi  = 0.01            // contribution sum above which a cell is set
	mccOmega  = 50.0            // convex-hull margin for valid cells
	mccMinVC  = 0.75            // share of the base that must be valid
	mccMinM   = 2               // neighbours a cylinder needs
	mccMinME  = 0.60            // share of the base two cylinders must share
	mccDeltaS = 2 * mccR / mccNS
	mccDeltaD = 2 * math.Pi / mccND
	baseWords = mccNS * mccNS / 64 // 4 words of 64 cells per angular section
)

// cylinder is the local structure around one minutia: which cells of its
// base are valid, and for each angular section which cells are set.
type cylinder struct {
	minutia int // index into the template's minutiae
	x, y    float64
	dir     float64 // image frame: clockwise on screen, radians
	valid   [baseWords]uint64
	cells   [mccND][baseWords]uint64
}

// Prepared is a template with its cylinders built, ready to be compared
// many times. It is immutable and safe for concurrent use.
type Prepared struct {
	t    *Template
	cyl  []cylinder
	pts  [][3]float64 // x, y, dir of every minutia, image frame
	base int          // cells of a base inside the radius
}

// Prepare builds the cylinders of t. It never fails: a template with too
// few minutiae simply has no valid cylinders and scores 0 against anything.
func Prepare(t *Template) *Prepared {
	p := &Prepared{t: t}
	for _, m := range t.Minutiae {
		p.pts = append(p.pts, [3]float64{float64(m.X), float64(m.Y), -float64(m.Angle) * 2 * math.Pi / 256})
	}
	hull := convexHull(p.pts)
	// Directional contribution of a neighbour to each angular section
	// depends on the angle difference only: the integral of a Gaussian
	// over the section, precomputed at 256 angle steps.
	var cd [256][mccND]float64
	for a := 0; a < 256; a++ {
		dt := angleDiff(float64(a)*2*math.Pi/256, 0)
		for k := 0; k < mccND; k++ {
			phi := -math.Pi + (float64(k)+0.5)*mccDeltaD
			al := angleDiff(phi, dt)
			s := mccSigmaD * math.Sqrt2
			cd[a][k] = 0.5 * (math.Erf((al+mccDeltaD/2)/s) - math.Erf((al-mccDeltaD/2)/s))
		}
	}
	gs := 1 / (mccSigmaS * math.Sqrt(2*math.Pi))
	var inCircle [baseWords]uint64
	for j := 0; j < mccNS; j++ {
		for i := 0; i < mccNS; i++ {
			u, v := (float64(i)-(mccNS-1)/2.0)*mccDeltaS, (float64(j)-(mccNS-1)/2.0)*mccDeltaS
			if u*u+v*v <= mccR*mccR {
				c := j*mccNS + i
				inCircle[c/64] |= 1 << (c % 64)
				p.base++
			}
		}
	}
	var sum [mccND][mccNS * mccNS]float64
	for mi, m := range p.pts {
		c := cylinder{minutia: mi, x: m[0], y: m[1], dir: m[2]}
		cs, sn := math.Cos(m[2]), math.Sin(m[2])
		nValid := 0
		for j := 0; j < mccNS; j++ {
			for i := 0; i < mccNS; i++ {
				cell := j*mccNS + i
				if inCircle[cell/64]&(1<<(cell%64)) == 0 {
					continue
				}
				u, v := (float64(i)-(mccNS-1)/2.0)*mccDeltaS, (float64(j)-(mccNS-1)/2.0)*mccDeltaS
				x, y := m[0]+u*cs-v*sn, m[1]+u*sn+v*cs
				if hull.near(x, y, mccOmega) {
					c.valid[cell/64] |= 1 << (cell % 64)
					nValid++
				}
			}
		}
		if float64(nValid) < mccMinVC*float64(p.base) {
			continue
		}
		for k := range sum {
			sum[k] = [mccNS * mccNS]float64{}
		}
		neighbours := 0
		for ti, t := range p.pts {
			if ti == mi {
				continue
			}
			dx, dy := t[0]-m[0], t[1]-m[1]
			if dx*dx+dy*dy > (mccR+3*mccSigmaS)*(mccR+3*mccSigmaS) {
				continue
			}
			// Neighbour in cell units of the cylinder's rotated frame.
			u := (dx*cs+dy*sn)/mccDeltaS + (mccNS-1)/2.0
			v := (-dx*sn+dy*cs)/mccDeltaS + (mccNS-1)/2.0
			a := int(math.Floor(angleDiff(t[2], m[2])/(2*math.Pi)*256+0.5)) & 255
			reach := 3 * mccSigmaS / mccDeltaS
			i0, i1 := max(int(math.Ceil(u-reach)), 0), min(int(math.Floor(u+reach)), mccNS-1)
			j0, j1 := max(int(math.Ceil(v-reach)), 0), min(int(math.Floor(v+reach)), mccNS-1)
			contributed := false
			for j := j0; j <= j1; j++ {
				for i := i0; i <= i1; i++ {
					cell := j*mccNS + i
					if c.valid[cell/64]&(1<<(cell%64)) == 0 {
						continue
					}
					du, dv := (float64(i)-u)*mccDeltaS, (float64(j)-v)*mccDeltaS
					d2 := du*du + dv*dv
					if d2 > 9*mccSigmaS*mccSigmaS {
						continue
					}
					s := gs * math.Exp(-d2/(2*mccSigmaS*mccSigmaS))
					for k := 0; k < mccND; k++ {
						sum[k][cell] += s * cd[a][k]
					}
					contributed = true
				}
			}
			if contributed {
				neighbours++
			}
		}
		if neighbours < mccMinM {
			continue
		}
		for k := 0; k < mccND; k++ {
			for cell, s := range sum[k] {
				if s > mccMuPsi {
					c.cells[k][cell/64] |= 1 << (cell % 64)
				}
			}
		}
		p.cyl = append(p.cyl, c)
	}
	return p
}

// Template returns the template p was built from.
func (p *Prepared) Template() *Template { return p.t }

// localSimilarity compares two cylinders (the paper's bit-based measure).
func (p *Prepared) localSimilarity(a, b *cylinder, minME int) float64 {
	if math.Abs(angleDiff(a.dir, b.dir)) > math.Pi/2 {
		return 0
	}
	var v [baseWords]uint64
	shared := 0
	for w := range v {
		v[w] = a.valid[w] & b.valid[w]
		shared += bits.OnesCount64(v[w])
	}
	if shared < minME {
		return 0
	}
	var na, nb, nx int
	for k := 0; k < mccND; k++ {
		for w := 0; w < baseWords; w++ {
			ca, cb := a.cells[k][w]&v[w], b.cells[k][w]&v[w]
			na += bits.OnesCount64(ca)
			nb += bits.OnesCount64(cb)
			nx += bits.OnesCount64(ca ^ cb)
		}
	}
	if na+nb == 0 {
		return 0
	}
	return 1 - math.Sqrt(float64(nx))/(math.Sqrt(float64(na))+math.Sqrt(float64(nb)))
}

// pair is one candidate correspondence between cylinders of two prints.
type pair struct {
	a, b int // cylinder indices
	sim  float64
}

func sigmoid(v, mu, tau float64) float64 { return 1 / (1 + math.Exp(-tau*(v-mu))) }

// Compare returns the similarity of two prints in [0, 1]: the Local
// Similarity Sort with Relaxation of the MCC paper. It is symmetric up to
// rounding, and invariant to translation and rotation because cylinders
// are.
func (p *Prepared) Compare(q *Prepared) float64 { return p.compare(q, &scratch{}) }

// scratch holds a comparison's working buffers, so a loop of comparisons
// (an enrollment's impressions, a 1:N search) allocates them once. It
// belongs to one goroutine at a time.
type scratch struct {
	pairs, top   []pair
	usedA, usedB []bool
	rho          []float64
	lam, next    []float64
	order        []int
}

// grow returns b resized to n, its contents cleared.
func grow[T any](b []T, n int) []T {
	if cap(b) < n {
		return make([]T, n)
	}
	b = b[:n]
	clear(b)
	return b
}

func (p *Prepared) compare(q *Prepared, sc *scratch) float64 {
	nA, nB := len(p.cyl), len(q.cyl)
	if nA == 0 || nB == 0 {
		return 0
	}
	minME := int(math.Ceil(mccMinME * float64(min(p.base, q.base))))
	if sc.pairs == nil {
		sc.pairs = make([]pair, 0, nA*nB/4)
	}
	pairs := sc.pairs[:0]
	for i := range p.cyl {
		for j := range q.cyl {
			if s := p.localSimilarity(&p.cyl[i], &q.cyl[j], minME); s > 0 {
				pairs = append(pairs, pair{i, j, s})
			}
		}
	}
	sc.pairs = pairs
	if len(pairs) == 0 {
		return 0
	}
	slices.SortFunc(pairs, func(x, y pair) int {
		if x.sim != y.sim {
			if x.sim > y.sim {
				return -1
			}
			return 1
		}
		if x.a != y.a {
			return x.a - y.a
		}
		return x.b - y.b
	})
	// The nR best pairs, each cylinder used once.
	nR := min(nA, nB)
	sc.usedA, sc.usedB = grow(sc.usedA, nA), grow(sc.usedB, nB)
	usedA, usedB := sc.usedA, sc.usedB
	top := sc.top[:0]
	for _, pr := range pairs {
		if len(top) == nR {
			break
		}
		if !usedA[pr.a] && !usedB[pr.b] {
			usedA[pr.a], usedB[pr.b] = true, true
			top = append(top, pr)
		}
	}
	sc.top = top
	nP := 4 + int(math.Round(sigmoid(float64(min(len(p.pts), len(q.pts))), 20, 0.4)*8))
	return relax(p, q, top, nP, sc)
}

// relax runs the paper's relaxation: each pair's similarity is reinforced
// by the pairs geometrically compatible with it (distance, relative
// direction, relative radial angle), and the score is the mean relaxed
// similarity of the nP pairs whose similarity held up best.
func relax(p, q *Prepared, top []pair, nP int, sc *scratch) float64 {
	n := len(top)
	if n == 0 {
		return 0
	}
	const wR, nRel = 0.5, 5
	sc.rho = grow(sc.rho, n*n)
	rho := sc.rho
	for t := 0; t < n; t++ {
		at, bt := &p.cyl[top[t].a], &q.cyl[top[t].b]
		for k := t + 1; k < n; k++ {
			ak, bk := &p.cyl[top[k].a], &q.cyl[top[k].b]
			d1 := math.Abs(math.Hypot(at.x-ak.x, at.y-ak.y) - math.Hypot(bt.x-bk.x, bt.y-bk.y))
			if d1 > 20 {
				// The distance term alone is below 1e-10: incompatible.
				continue
			}
			d2 := math.Abs(angleDiff(angleDiff(at.dir, ak.dir), angleDiff(bt.dir, bk.dir)))
			d3 := math.Abs(angleDiff(radial(at, ak), radial(bt, bk)))
			r := sigmoid(d1, 5, -8.0/5) * sigmoid(d2, math.Pi/12, -30) * sigmoid(d3, math.Pi/12, -30)
			rho[t*n+k], rho[k*n+t] = r, r
		}
	}
	sc.lam, sc.next = grow(sc.lam, n), grow(sc.next, n)
	lam, next := sc.lam, sc.next
	for t := range top {
		lam[t] = top[t].sim
	}
	for it := 0; it < nRel; it++ {
		for t := 0; t < n; t++ {
			var s float64
			for k := 0; k < n; k++ {
				s += rho[t*n+k] * lam[k]
			}
			if n > 1 {
				s /= float64(n - 1)
			}
			next[t] = wR*lam[t] + (1-wR)*s
		}
		lam, next = next, lam
	}
	sc.order = grow(sc.order, n)
	order := sc.order
	for i := range order {
		order[i] = i
	}
	eff := func(i int) float64 { return lam[i] / top[i].sim }
	slices.SortStableFunc(order, func(i, j int) int {
		ei, ej := eff(i), eff(j)
		switch {
		case ei > ej:
			return -1
		case ei < ej:
			return 1
		}
		return 0
	})
	nP = min(nP, n)
	var s float64
	for _, i := range order[:nP] {
		s += lam[i]
	}
	return s / float64(nP)
}

// radial is the angle between a's direction and the line from a to b.
func radial(a, b *cylinder) float64 {
	return angleDiff(a.dir, math.Atan2(b.y-a.y, b.x-a.x))
}

// hull is a convex polygon, counter-clockwise in image coordinates.
type hull [][2]float64

// convexHull is Andrew's monotone chain over the minutiae positions.
func convexHull(pts [][3]float64) hull {
	ps := make([][2]float64, len(pts))
	for i, p := range pts {
		ps[i] = [2]float64{p[0], p[1]}
	}
	sort.Slice(ps, func(i, j int) bool {
		if ps[i][0] != ps[j][0] {
			return ps[i][0] < ps[j][0]
		}
		return ps[i][1] < ps[j][1]
	})
	if len(ps) < 3 {
		return ps
	}
	cross := func(o, a, b [2]float64) float64 { return (a[0]-o[0])*(b[1]-o[1]) - (a[1]-o[1])*(b[0]-o[0]) }
	var h [][2]float64
	for _, p := range ps {
		for len(h) >= 2 && cross(h[len(h)-2], h[len(h)-1], p) <= 0 {
			h = h[:len(h)-1]
		}
		h = append(h, p)
	}
	lower := len(h) + 1
	for i := len(ps) - 2; i >= 0; i-- {
		p := ps[i]
		for len(h) >= lower && cross(h[len(h)-2], h[len(h)-1], p) <= 0 {
			h = h[:len(h)-1]
		}
		h = append(h, p)
	}
	return h[:len(h)-1]
}

// near reports whether (x, y) is inside the hull or within r of it.
func (h hull) near(x, y, r float64) bool {
	if len(h) == 0 {
		return false
	}
	inside := len(h) >= 3
	for i := range h {
		a, b := h[i], h[(i+1)%len(h)]
		if (b[0]-a[0])*(y-a[1])-(b[1]-a[1])*(x-a[0]) < 0 {
			inside = false
		}
		if segDist2(a, b, x, y) <= r*r {
			return true
		}
	}
	return inside
}

func segDist2(a, b [2]float64, x, y float64) float64 {
	dx, dy := b[0]-a[0], b[1]-a[1]
	l := dx*dx + dy*dy
	t := 0.0
	if l > 0 {
		t = math.Min(math.Max(((x-a[0])*dx+(y-a[1])*dy)/l, 0), 1)
	}
	ex, ey := a[0]+t*dx-x, a[1]+t*dy-y
	return ex*ex + ey*ey
}
