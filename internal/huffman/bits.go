package huffman

import (
	"encoding/binary"
	"math/bits"
)

// bitWriter packs codes most significant bit first, the order canonical
// Huffman codes compare in, so a decoder can index a table with the next bits.
type bitWriter struct {
	buf []byte
	acc uint64 // the low n bits are pending output
	n   uint
}

func (w *bitWriter) reset() {
	w.buf = w.buf[:0]
	w.acc, w.n = 0, 0
}

// write appends the low nb bits of v; nb ≤ 32 and v has no bits above nb.
func (w *bitWriter) write(v uint32, nb uint) {
	w.acc = w.acc<<nb | uint64(v)
	w.n += nb
	if w.n >= 32 {
		w.n -= 32
		w.buf = binary.BigEndian.AppendUint32(w.buf, uint32(w.acc>>w.n))
	}
}

// expGolomb writes v < 2³¹ as an order-0 Exp-Golomb code: small values, the
// common case in table headers, take one or three bits.
func (w *bitWriter) expGolomb(v uint32) {
	u := v + 1
	nb := uint(bits.Len32(u)) - 1
	w.write(0, nb)
	w.write(u, nb+1)
}

// flush pads the last byte with zero bits.
func (w *bitWriter) flush() {
	for w.n >= 8 {
		w.n -= 8
		w.buf = append(w.buf, byte(w.acc>>w.n))
	}
	if w.n > 0 {
		w.buf = append(w.buf, byte(w.acc<<(8-w.n)))
		w.n = 0
	}
	w.acc = 0
}

// bitReader reads what bitWriter wrote. Past the end of its buffer it reads
// zero bits and counts them, so the hot loops need no bounds checks and a
// truncated stream is caught by overrun after a row or a table.
type bitReader struct {
	buf  []byte
	pos  int    // next byte of buf to load
	acc  uint64 // the next n bits, most significant first
	n    uint
	fake int64 // zero bytes loaded past the end of buf; int64 because a hostile stream can make a 32-bit board load more than 2³¹
}

func (r *bitReader) reset(b []byte) {
	*r = bitReader{buf: b}
	r.refill()
}

// refill makes at least 56 bits available.
func (r *bitReader) refill() {
	if r.n > 56 {
		return
	}
	if r.pos+8 <= len(r.buf) {
		r.acc |= binary.BigEndian.Uint64(r.buf[r.pos:]) >> r.n
		r.pos += int(63-r.n) >> 3
		r.n |= 56
		return
	}
	for r.n <= 56 {
		if r.pos < len(r.buf) {
			r.acc |= uint64(r.buf[r.pos]) << (56 - r.n)
			r.pos++
		} else {
			r.fake++
		}
		r.n += 8
	}
}

// peek returns the next k bits, 1 ≤ k ≤ 56, without consuming them; the
// caller has refilled.
func (r *bitReader) peek(k uint) uint32 { return uint32(r.acc >> (64 - k)) }

func (r *bitReader) skip(k uint) {
	r.acc <<= k
	r.n -= k
}

// read returns the next k bits, k ≤ 32.
func (r *bitReader) read(k uint) uint32 {
	if k == 0 {
		return 0
	}
	r.refill()
	v := uint32(r.acc >> (64 - k))
	r.skip(k)
	return v
}

// consumed is the number of bits read so far.
func (r *bitReader) consumed() int64 {
	return (int64(r.pos)+r.fake)*8 - int64(r.n)
}

// overrun reports whether more bits were read than the buffer holds.
func (r *bitReader) overrun() bool { return r.consumed() > int64(len(r.buf))*8 }

// byteOffset is the offset of the byte holding the next unread bit.
func (r *bitReader) byteOffset() int64 { return r.consumed() / 8 }

// expGolomb reads what bitWriter.expGolomb wrote; ok is false for a prefix
// longer than any value the format allows.
func (r *bitReader) expGolomb() (v uint32, ok bool) {
	nb := uint(0)
	for r.read(1) == 0 {
		nb++
		if nb > 31 || r.overrun() {
			return 0, false
		}
	}
	u := uint64(1)<<nb | uint64(r.read(nb))
	return uint32(u - 1), true
}
