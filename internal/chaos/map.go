package chaos

import (
	"encoding/binary"
	"fmt"
	"math"
)

// KeySize is the length of a key in bytes: eight big-endian 32-bit words,
// each scaled by 2⁻³² into one of the map's eight starting values.
const KeySize = 32

// The map's constants, as published.
const (
	paramA = 0.115
	paramB = 0.564
	// twoAB is evaluated exactly by the compiler and rounded once, so it is the
	// same float64 on every architecture.
	twoAB = 2 * paramA * paramB
)

// warmUp is the number of pair updates made before the first word is emitted.
const warmUp = 32

// nValues is how many map values the key seeds.
const nValues = KeySize / 4

// step applies the map once to (x, y).
//
// Every product is wrapped in an explicit float64 conversion: the Go spec lets
// a compiler fuse x*y + z into one fused multiply-add (arm64, ppc64 and s390x
// do), which skips a rounding and changes the bits; an explicit conversion
// rounds and so forbids the fusion. Additions, subtractions and math.Sqrt are
// correctly rounded IEEE-754 operations on every Go target, so with products
// pinned the whole step is bit-identical everywhere.
func step(x, y float64) (float64, float64) {
	x3 := float64(float64(x*x) * x)
	x1 := float64(x3+float64(y*x)) + twoAB
	y1 := math.Sqrt(x+y) + float64(2*y)
	x2 := float64(float64(4*x1) * sin(1-x1))
	y2 := float64(float64(4*y1) * cos(1-y1))
	return frac(x2), frac(y2)
}

// frac is v mod 1 taken into [0, 1). For v ≥ 0 the subtraction is exact; for
// a tiny negative v it rounds up to 1, which is 0 modulo 1.
func frac(v float64) float64 {
	r := v - math.Floor(v)
	if r >= 1 {
		return 0
	}
	return r
}

// word turns a value in [0, 1) into the 32-bit word floor(v·2³²), as the
// published code does; the scaling is exact.
func word(v float64) uint32 {
	return uint32(uint64(v * 0x1p32))
}

// mapState is the eight map values and the index of the pair updated next.
type mapState struct {
	v [nValues]float64
	c int
}

func newMapState(key []byte) (mapState, error) {
	var m mapState
	if len(key) != KeySize {
		return m, fmt.Errorf("chaos: key is %d bytes, want %d", len(key), KeySize)
	}
	for i := range m.v {
		// float64 holds every uint32 exactly and the scaling is by a power of
		// two, so the starting values are exact.
		m.v[i] = float64(binary.BigEndian.Uint32(key[4*i:])) * 0x1p-32
	}
	for range warmUp {
		p := m.prev()
		m.v[p], m.v[m.c] = step(m.v[p], m.v[m.c])
		m.advance()
	}
	return m, nil
}

func (m *mapState) prev() int { return (m.c + nValues - 1) % nValues }

func (m *mapState) advance() { m.c = (m.c + 1) % nValues }

// next updates the next neighbouring pair and returns its two values as words.
// As in the published code, the emitting phase stores the new x at the later
// index and the new y at the earlier one (the warm-up does the opposite), and
// the words come out in index order.
func (m *mapState) next() (uint32, uint32) {
	p := m.prev()
	x, y := step(m.v[p], m.v[m.c])
	m.v[m.c], m.v[p] = x, y
	m.advance()
	return word(y), word(x)
}

// RawMap yields the unconditioned map output. It exists so that tests and
// analysis can show what the conditioning in Stream is for; its bytes are far
// from uniform and must not be used as a keystream.
type RawMap struct {
	m    mapState
	pend [8]byte
	off  int // first unread byte of pend; len(pend) when empty
}

// Raw starts the unconditioned map for key.
func Raw(key []byte) (*RawMap, error) {
	m, err := newMapState(key)
	if err != nil {
		return nil, err
	}
	return &RawMap{m: m, off: len(RawMap{}.pend)}, nil
}

// Words fills dst with successive map words, two per pair update; for an odd
// len(dst) the second word of the last update is dropped. Words and Read draw
// from the same sequence; Words discards any bytes Read left unread.
func (r *RawMap) Words(dst []uint32) {
	r.off = len(r.pend)
	for i := 0; i < len(dst); i += 2 {
		a, b := r.m.next()
		dst[i] = a
		if i+1 < len(dst) {
			dst[i+1] = b
		}
	}
}

// Read fills p with the map words as little-endian bytes (the byte order the
// published code wrote them in). It never fails.
func (r *RawMap) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		if r.off == len(r.pend) {
			a, b := r.m.next()
			binary.LittleEndian.PutUint32(r.pend[0:], a)
			binary.LittleEndian.PutUint32(r.pend[4:], b)
			r.off = 0
		}
		c := copy(p[n:], r.pend[r.off:])
		r.off += c
		n += c
	}
	return n, nil
}
