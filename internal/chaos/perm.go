package chaos

import (
	"encoding/binary"
	"fmt"
)

// MaxPermutation is the largest permutation NewPermutation makes: 2²⁸
// positions, 1 GiB of indices. A larger image is refused, not split: the
// image decoders' limits (medimg.DefaultMaxSamples, 2²⁶ samples on 32-bit
// builds, and less on a board profile) keep every image the paper scheme is
// given below it, so the scheme stays the publication's one whole-image
// permutation.
const MaxPermutation = 1 << 28

// Permutation is a keyed shuffle of the positions 0…n−1.
type Permutation struct {
	p []int32 // p[i] is the source position of output position i
}

// NewPermutation shuffles 0…n−1 with Fisher–Yates driven by the keystream
// for key. Each index is drawn without bias (Lemire's multiply-and-reject on
// 32-bit keystream words, little-endian), so every permutation is reachable
// with equal probability up to the keystream's own quality.
func NewPermutation(key []byte, n int) (*Permutation, error) {
	if n < 0 || n > MaxPermutation {
		return nil, fmt.Errorf("chaos: permutation of %d positions, want 0…%d", n, MaxPermutation)
	}
	s, err := NewStream(key)
	if err != nil {
		return nil, err
	}
	p := make([]int32, n)
	for i := range p {
		p[i] = int32(i)
	}
	var buf [256]byte
	r := wordReader{s: s, buf: buf[:], off: len(buf)}
	for i := n - 1; i > 0; i-- {
		j := r.below(uint32(i + 1))
		p[i], p[j] = p[j], p[i]
	}
	return &Permutation{p: p}, nil
}

// wordReader hands out keystream words from a buffer, so that drawing one
// index costs a copy rather than a call into the stream.
type wordReader struct {
	s   *Stream
	buf []byte
	off int
}

func (r *wordReader) word() uint32 {
	if r.off == len(r.buf) {
		r.s.Read(r.buf)
		r.off = 0
	}
	w := binary.LittleEndian.Uint32(r.buf[r.off:])
	r.off += 4
	return w
}

// below returns a uniform value in [0, bound) for 0 < bound ≤ 2³²−1.
func (r *wordReader) below(bound uint32) uint32 {
	m := uint64(r.word()) * uint64(bound)
	if uint32(m) < bound {
		// Reject the 2³² mod bound low products that would make some
		// results one draw more likely than others.
		t := -bound % bound
		for uint32(m) < t {
			m = uint64(r.word()) * uint64(bound)
		}
	}
	return uint32(m >> 32)
}

// Len is the number of positions.
func (p *Permutation) Len() int { return len(p.p) }

// Source returns the position output position i is taken from.
func (p *Permutation) Source(i int) int { return int(p.p[i]) }

func (p *Permutation) check(op string, dst, src []int32) error {
	switch {
	case len(dst) != len(p.p) || len(src) != len(p.p):
		return fmt.Errorf("chaos: %s of %d and %d values with a permutation of %d", op, len(dst), len(src), len(p.p))
	case len(dst) > 0 && &dst[0] == &src[0]:
		return fmt.Errorf("chaos: %s in place: dst and src must not overlap", op)
	}
	return nil
}

// Apply shuffles src into dst: dst[i] = src[p(i)]. dst and src must both
// have Len values and must not overlap.
func (p *Permutation) Apply(dst, src []int32) error {
	if err := p.check("apply", dst, src); err != nil {
		return err
	}
	for i, j := range p.p {
		dst[i] = src[j]
	}
	return nil
}

// Invert undoes Apply: dst[p(i)] = src[i]. After Apply(y, x), Invert(z, y)
// makes z equal to x.
func (p *Permutation) Invert(dst, src []int32) error {
	if err := p.check("invert", dst, src); err != nil {
		return err
	}
	for i, j := range p.p {
		dst[j] = src[i]
	}
	return nil
}
