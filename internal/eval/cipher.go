package eval

import (
	"math"

	"edge/internal/medimg"
)

// Entropy is the Shannon entropy of b in bits per byte; 8 is the most a byte
// can carry, and a good cipher's output comes within a hair of it.
func Entropy(b []byte) float64 {
	if len(b) == 0 {
		return 0
	}
	var n [256]int
	for _, v := range b {
		n[v]++
	}
	h := 0.0
	for _, c := range n {
		if c > 0 {
			p := float64(c) / float64(len(b))
			h -= p * math.Log2(p)
		}
	}
	return h
}

// NPCRUACIBytes compares two ciphertexts byte by byte: NPCR is the share of
// positions that differ, UACI the mean absolute difference relative to 255,
// both in per cent. Bytes past the shorter one count as differing by the
// whole range, since a receiver sees them as entirely changed.
func NPCRUACIBytes(a, b []byte) (npcr, uaci float64) {
	n := max(len(a), len(b))
	if n == 0 {
		return 0, 0
	}
	m := min(len(a), len(b))
	diff, sum := n-m, float64(n-m)*255
	for i := range m {
		if a[i] != b[i] {
			diff++
			sum += math.Abs(float64(a[i]) - float64(b[i]))
		}
	}
	return 100 * float64(diff) / float64(n), 100 * sum / (255 * float64(n))
}

// NPCRUACIImages is the usual image-cipher NPCR and UACI between two cipher
// images of the same geometry, with the image's peak as the UACI range.
func NPCRUACIImages(a, b *medimg.Image) (npcr, uaci float64) {
	if len(a.Pix) != len(b.Pix) || len(a.Pix) == 0 {
		return 0, 0
	}
	diff, sum := 0, 0.0
	for i, v := range a.Pix {
		if v != b.Pix[i] {
			diff++
			sum += math.Abs(float64(v) - float64(b.Pix[i]))
		}
	}
	n := float64(len(a.Pix))
	return 100 * float64(diff) / n, 100 * sum / (a.Peak() * n)
}

// Correlation is the Pearson correlation of horizontally, vertically and
// diagonally adjacent samples, over every pair in every frame and channel.
// Natural images sit near 1; a good cipher image near 0.
func Correlation(im *medimg.Image) (h, v, d float64) {
	pair := func(dx, dy int) float64 {
		var s pearson
		w, ch := im.Width, im.Channels
		plane := w * im.Height * ch
		for f := 0; f < im.Frames; f++ {
			base := f * plane
			for y := 0; y+dy < im.Height; y++ {
				for x := 0; x+dx < w; x++ {
					for c := range ch {
						a := im.Pix[base+(y*w+x)*ch+c]
						b := im.Pix[base+((y+dy)*w+x+dx)*ch+c]
						s.add(float64(a), float64(b))
					}
				}
			}
		}
		return s.r()
	}
	return pair(1, 0), pair(0, 1), pair(1, 1)
}

type pearson struct{ n, sx, sy, sxx, syy, sxy float64 }

func (p *pearson) add(x, y float64) {
	p.n++
	p.sx += x
	p.sy += y
	p.sxx += x * x
	p.syy += y * y
	p.sxy += x * y
}

// r is 0 for a constant series, where correlation is undefined: a flat image
// has nothing a cipher could leak.
func (p *pearson) r() float64 {
	if p.n < 2 {
		return 0
	}
	cov := p.sxy/p.n - p.sx/p.n*p.sy/p.n
	vx := p.sxx/p.n - p.sx/p.n*p.sx/p.n
	vy := p.syy/p.n - p.sy/p.n*p.sy/p.n
	if vx <= 0 || vy <= 0 {
		return 0
	}
	return cov / math.Sqrt(vx*vy)
}
