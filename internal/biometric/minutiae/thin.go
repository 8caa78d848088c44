package minutiae

// thin reduces the ridge map to one-pixel-wide curves (Zhang and Suen 1984),
// in place. The one-pixel border is cleared first so neighbour look-ups
// never leave the image.
func thin(b []uint8, w, h int) {
	for x := 0; x < w; x++ {
		b[x], b[(h-1)*w+x] = 0, 0
	}
	for y := 0; y < h; y++ {
		b[y*w], b[y*w+w-1] = 0, 0
	}
	var del []int
	for changed := true; changed; {
		changed = false
		for pass := 0; pass < 2; pass++ {
			del = del[:0]
			for y := 1; y < h-1; y++ {
				for x := 1; x < w-1; x++ {
					i := y*w + x
					if b[i] == 0 {
						continue
					}
					// p2..p9 clockwise from north.
					p2, p3, p4, p5 := b[i-w], b[i-w+1], b[i+1], b[i+w+1]
					p6, p7, p8, p9 := b[i+w], b[i+w-1], b[i-1], b[i-w-1]
					n := int(p2) + int(p3) + int(p4) + int(p5) + int(p6) + int(p7) + int(p8) + int(p9)
					if n < 2 || n > 6 {
						continue
					}
					ring := [9]uint8{p2, p3, p4, p5, p6, p7, p8, p9, p2}
					tr := 0
					for k := 0; k < 8; k++ {
						if ring[k] == 0 && ring[k+1] == 1 {
							tr++
						}
					}
					if tr != 1 {
						continue
					}
					if pass == 0 {
						if p2*p4*p6 != 0 || p4*p6*p8 != 0 {
							continue
						}
					} else if p2*p4*p8 != 0 || p2*p6*p8 != 0 {
						continue
					}
					del = append(del, i)
				}
			}
			for _, i := range del {
				b[i] = 0
			}
			if len(del) > 0 {
				changed = true
			}
		}
	}
	// Zhang–Suen leaves 4-connected staircases: a pixel whose only two
	// neighbours are perpendicular 4-neighbours (N and E, say) is redundant,
	// as those two already touch diagonally.
	for y := 1; y < h-1; y++ {
		for x := 1; x < w-1; x++ {
			i := y*w + x
			if b[i] == 0 || neighbours(b, i, w) != 2 {
				continue
			}
			n, e, s, wst := b[i-w], b[i+1], b[i+w], b[i-1]
			if n&e == 1 || e&s == 1 || s&wst == 1 || wst&n == 1 {
				b[i] = 0
			}
		}
	}
}

// ring8 lists the 8 neighbour offsets clockwise from north.
func ring8(w int) [8]int { return [8]int{-w, -w + 1, 1, w + 1, w, w - 1, -1, -w - 1} }

// crossings is the crossing number: the count of 0→1 transitions around
// the pixel. 1 marks a ridge ending, 2 a ridge, 3 a bifurcation.
func crossings(b []uint8, i, w int) int {
	r := ring8(w)
	c := 0
	for k := 0; k < 8; k++ {
		if b[i+r[k]] == 0 && b[i+r[(k+1)%8]] == 1 {
			c++
		}
	}
	return c
}

func neighbours(b []uint8, i, w int) int {
	n := 0
	for _, o := range ring8(w) {
		n += int(b[i+o])
	}
	return n
}
