package minutiae

import (
	"math"
	"sort"
)

// candidate is a minutia while it is being found and filtered, in image
// coordinates (y down) with its direction in radians, clockwise on screen.
type candidate struct {
	x, y   int
	kind   Kind
	dir    float64
	q      float64
	drop   bool
	branch [3][2]int // first skeleton pixel of each branch (bifurcations)
}

// detector finds minutiae on a skeleton.
type detector struct {
	w, h   int
	skel   []uint8
	id     []int32 // candidate index at a pixel, -1 none, -2 a crossing
	stamp  []uint32
	tick   uint32
	period float64
}

// traceResult is where a walk along a ridge from a minutia stopped.
type traceResult struct {
	x, y   int   // last pixel reached
	hit    int32 // candidate reached, or -1
	length int
}

// trace walks the skeleton from (x0, y0) through its neighbour (x1, y1) for
// at most maxLen pixels, stopping at another minutia or a dead end.
func (d *detector) trace(x0, y0, x1, y1, maxLen int, self int32) traceResult {
	d.tick++
	w := d.w
	prev := y0*w + x0
	cur := y1*w + x1
	d.stamp[prev] = d.tick
	r := ring8(w)
	n := 1
	for {
		if id := d.id[cur]; id != -1 && id != self {
			return traceResult{cur % w, cur / w, id, n}
		}
		if n >= maxLen {
			return traceResult{cur % w, cur / w, -1, n}
		}
		d.stamp[cur] = d.tick
		// Neighbours of the pixel we came from are not a way forward: that
		// stops the walk from cutting back across a staircase corner.
		for _, o := range r {
			if q := prev + o; d.skel[q] == 1 && d.id[q] == -1 {
				d.stamp[q] = d.tick
			}
		}
		next := -1
		// 4-neighbours first (even ring positions), then diagonals.
		for pass := 0; pass < 2 && next < 0; pass++ {
			for k := pass; k < 8; k += 2 {
				q := cur + r[k]
				if d.skel[q] == 1 && (d.stamp[q] != d.tick || d.id[q] >= 0 && d.id[q] != self) {
					next = q
					break
				}
			}
		}
		if next < 0 {
			return traceResult{cur % w, cur / w, -1, n}
		}
		prev, cur = cur, next
		n++
	}
}

// detect finds endings and bifurcations (crossing number) on the skeleton
// inside the inner mask, gives them directions, and removes the false ones:
// spurs, short ridges, bridges and holes, broken ridges, clusters.
func detect(skel []uint8, inner []uint8, w, h int, f *field, period float64) []candidate {
	d := &detector{w: w, h: h, skel: skel, id: make([]int32, w*h), stamp: make([]uint32, w*h), period: period}
	for i := range d.id {
		d.id[i] = -1
	}
	var cs []candidate
	r := ring8(w)
	for y := 1; y < h-1; y++ {
		for x := 1; x < w-1; x++ {
			i := y*w + x
			if skel[i] == 0 {
				continue
			}
			cn := crossings(skel, i, w)
			switch {
			case cn == 1 && neighbours(skel, i, w) <= 2:
				c := candidate{x: x, y: y, kind: Ending}
				for _, o := range r {
					if skel[i+o] == 1 {
						c.branch[0] = [2]int{(i + o) % w, (i + o) / w}
						break
					}
				}
				d.id[i] = int32(len(cs))
				cs = append(cs, c)
			case cn == 3:
				c := candidate{x: x, y: y, kind: Bifurcation}
				nb := 0
				for k := 0; k < 8 && nb < 3; k++ {
					// The first pixel of each run of ridge around the fork,
					// a 4-neighbour where the run has one.
					if skel[i+r[k]] == 1 && skel[i+r[(k+7)%8]] == 0 {
						q := i + r[k]
						if k%2 == 1 && skel[i+r[(k+1)%8]] == 1 {
							q = i + r[(k+1)%8]
						}
						c.branch[nb] = [2]int{q % w, q / w}
						nb++
					}
				}
				d.id[i] = int32(len(cs))
				cs = append(cs, c)
			case cn > 3:
				d.id[i] = -2
			}
		}
	}
	// A fork drawn by thinning as two touching branch points is one
	// bifurcation: the later one is folded into the earlier.
	for k := range cs {
		c := &cs[k]
		if c.kind != Bifurcation || c.drop {
			continue
		}
		for _, o := range r {
			q := c.y*w + c.x + o
			if id := d.id[q]; id > int32(k) && cs[id].kind == Bifurcation {
				cs[id].drop = true
				d.id[q] = int32(k)
			}
		}
	}
	short := int(1.5*period + 0.5)
	bridge := int(1.2*period + 0.5)
	dirLen := int(period + 0.5)
	for k := range cs {
		c := &cs[k]
		if c.drop {
			continue
		}
		switch c.kind {
		case Ending:
			t := d.trace(c.x, c.y, c.branch[0][0], c.branch[0][1], max(short, dirLen), int32(k))
			if t.hit >= 0 && t.length <= short {
				// A spur (ending → fork) or a short ridge (ending → ending).
				c.drop = true
				cs[t.hit].drop = true
				continue
			}
			if t.hit == -2 {
				c.drop = true
				continue
			}
			c.dir = math.Atan2(float64(t.y-c.y), float64(t.x-c.x))
		case Bifurcation:
			var v [3][2]float64
			bad := false
			for b := 0; b < 3; b++ {
				t := d.trace(c.x, c.y, c.branch[b][0], c.branch[b][1], max(bridge, dirLen), int32(k))
				if t.hit >= 0 && t.length <= bridge && cs[t.hit].kind == Bifurcation {
					// Two forks joined by a short ridge: a bridge between
					// ridges, or the two ends of a hole.
					c.drop = true
					cs[t.hit].drop = true
					bad = true
					break
				}
				if t.hit == -2 {
					bad = true
				}
				v[b] = [2]float64{float64(t.x - c.x), float64(t.y - c.y)}
			}
			if bad {
				c.drop = true
				continue
			}
			// The two branches closest in angle fork; the direction is
			// their bisector (ISO/IEC 19794-2: along the valley between
			// them), which matches the ending convention under ridge–valley
			// duality.
			best, bestCos := 0, -2.0
			for b := 0; b < 3; b++ {
				a, e := v[(b+1)%3], v[(b+2)%3]
				na, ne := math.Hypot(a[0], a[1]), math.Hypot(e[0], e[1])
				if na == 0 || ne == 0 {
					continue
				}
				if cs := (a[0]*e[0] + a[1]*e[1]) / (na * ne); cs > bestCos {
					best, bestCos = b, cs
				}
			}
			stem := v[best]
			c.dir = math.Atan2(-stem[1], -stem[0])
		}
		// Refine with the smoothed orientation field, keeping the sense.
		t := f.orientation(float64(c.x), float64(c.y))
		if math.Abs(angleDiff(t, c.dir)) > math.Pi/2 {
			t += math.Pi
		}
		if math.Abs(angleDiff(t, c.dir)) < math.Pi/4 {
			c.dir = t
		}
	}
	// Everything from here on looks at the minutiae alone.
	var out []candidate
	for _, c := range cs {
		if !c.drop && inner[c.y*w+c.x] == 1 {
			out = append(out, c)
		}
	}
	// Broken ridge: two endings facing each other across a short gap.
	gap := 1.6 * period
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			a, b := &out[i], &out[j]
			dx, dy := float64(b.x-a.x), float64(b.y-a.y)
			dist := math.Hypot(dx, dy)
			if dist < 0.5*period {
				a.drop, b.drop = true, true
				continue
			}
			if a.kind != Ending || b.kind != Ending || dist > gap {
				continue
			}
			// Ending directions point back along their ridge: across a break
			// they are opposite, and a's points away from b.
			ab := math.Atan2(dy, dx)
			if math.Abs(angleDiff(a.dir, b.dir+math.Pi)) < math.Pi/4 &&
				math.Abs(angleDiff(a.dir, ab+math.Pi)) < math.Pi/3 {
				a.drop, b.drop = true, true
			}
		}
	}
	kept := out[:0]
	for _, c := range out {
		if c.drop {
			continue
		}
		b := (c.y/blockSize)*f.bw + c.x/blockSize
		c.q = f.coh[b]
		if c.q < 0.1 {
			continue
		}
		kept = append(kept, c)
	}
	// Best first, position breaking ties, so truncation is deterministic.
	sort.SliceStable(kept, func(i, j int) bool {
		if kept[i].q != kept[j].q {
			return kept[i].q > kept[j].q
		}
		if kept[i].y != kept[j].y {
			return kept[i].y < kept[j].y
		}
		return kept[i].x < kept[j].x
	})
	return kept
}

// angleDiff returns a − b wrapped to (−π, π].
func angleDiff(a, b float64) float64 {
	d := a - b
	if d > 64 || d < -64 {
		d = math.Mod(d, 2*math.Pi)
	}
	for d > math.Pi {
		d -= 2 * math.Pi
	}
	for d <= -math.Pi {
		d += 2 * math.Pi
	}
	return d
}
