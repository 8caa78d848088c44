package embed

// bitWriter appends bits most significant first.
type bitWriter struct {
	b []byte
	n int // bits written
}

func (w *bitWriter) bit(v uint32) {
	if w.n%8 == 0 {
		w.b = append(w.b, 0)
	}
	if v&1 != 0 {
		w.b[w.n/8] |= 0x80 >> (w.n % 8)
	}
	w.n++
}

func (w *bitWriter) uint(v uint64, width int) {
	for i := width - 1; i >= 0; i-- {
		w.bit(uint32(v >> i))
	}
}

func (w *bitWriter) bytes(p []byte) {
	for _, c := range p {
		w.uint(uint64(c), 8)
	}
}

// bitReader reads bits most significant first from the first n bits of b.
type bitReader struct {
	b   []byte
	n   int // bits available
	pos int
}

func (r *bitReader) left() int { return r.n - r.pos }

// bit returns the next bit; past the end it returns 0, and callers check
// left() where running out is an error.
func (r *bitReader) bit() uint32 {
	if r.pos >= r.n {
		r.pos++
		return 0
	}
	v := uint32(r.b[r.pos/8]>>(7-r.pos%8)) & 1
	r.pos++
	return v
}

func (r *bitReader) uint(width int) uint64 {
	var v uint64
	for range width {
		v = v<<1 | uint64(r.bit())
	}
	return v
}
