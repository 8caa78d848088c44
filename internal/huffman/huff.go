package huffman

import (
	"fmt"
	"math/bits"
	"slices"
)

const (
	// maxCodeLen bounds every code: long enough that a 2¹⁶-symbol alphabet
	// with a skewed histogram loses almost nothing to the limit, short enough
	// that a symbol and its extra bits fit one 56-bit refill.
	maxCodeLen = 20
	// lutBits is the width of the first-level decoding table; longer codes,
	// rare by construction, take the canonical slow path.
	lutBits = 11
)

// encTable is one canonical code ready for writing.
type encTable struct {
	code []uint32
	len  []uint8
	// used is the number of symbols with a code. A table with one used symbol
	// gives it zero bits, so flat images and unused colour planes cost nothing.
	used int
}

// hnode is a leaf or an internal node while a code is built.
type hnode struct {
	freq   uint64
	parent int32
}

// builder holds the scratch a code construction needs, reused between tables.
type builder struct {
	order []int32 // present symbols, by (frequency, symbol)
	nodes []hnode
	depth []uint8
	freq  []uint64
}

// build sets t to an optimal code for freq with no code longer than
// maxCodeLen. Where the optimum is longer, frequencies are halved (rounding
// up, so no used symbol vanishes) and the code rebuilt: a simple limiter whose
// loss is negligible because it only acts on symbols rarer than 1 in ~10⁴.
func (b *builder) build(t *encTable, freq []uint64) {
	n := len(freq)
	t.code = resize(t.code, n)
	t.len = resize(t.len, n)
	clear(t.len)
	clear(t.code)
	b.freq = append(b.freq[:0], freq...)
	t.used = 0
	for _, f := range freq {
		if f != 0 {
			t.used++
		}
	}
	switch t.used {
	case 0:
		return
	case 1:
		return // the one symbol has length 0; t.len stays all zero
	}
	for !b.lengths(t.len) {
		for i, f := range b.freq {
			if f != 0 {
				b.freq[i] = (f + 1) >> 1
			}
		}
	}
	assignCodes(t.code, t.len)
}

// lengths computes Huffman code lengths for b.freq into lens; false when a
// length exceeds maxCodeLen (lens is then partly written).
func (b *builder) lengths(lens []uint8) bool {
	b.order = b.order[:0]
	for s, f := range b.freq {
		if f != 0 {
			b.order = append(b.order, int32(s))
		}
	}
	slices.SortFunc(b.order, func(x, y int32) int {
		fx, fy := b.freq[x], b.freq[y]
		switch {
		case fx < fy:
			return -1
		case fx > fy:
			return 1
		}
		return int(x - y)
	})
	m := len(b.order)
	// Two-queue construction: leaves in sorted order, then internal nodes in
	// the order they are made (their weights never decrease). Ties prefer
	// the leaf so every architecture builds the same tree.
	b.nodes = resize(b.nodes, 2*m-1)
	for i, s := range b.order {
		b.nodes[i] = hnode{freq: b.freq[s], parent: -1}
	}
	li, ni, next := 0, m, m
	pick := func() int {
		if li < m && (ni >= next || b.nodes[li].freq <= b.nodes[ni].freq) {
			li++
			return li - 1
		}
		ni++
		return ni - 1
	}
	for next < 2*m-1 {
		x, y := pick(), pick()
		b.nodes[next] = hnode{freq: b.nodes[x].freq + b.nodes[y].freq, parent: -1}
		b.nodes[x].parent = int32(next)
		b.nodes[y].parent = int32(next)
		next++
	}
	b.depth = resize(b.depth, 2*m-1)
	b.depth[2*m-2] = 0
	for i := 2*m - 3; i >= 0; i-- {
		d := b.depth[b.nodes[i].parent] + 1
		if d > maxCodeLen {
			return false
		}
		b.depth[i] = d
	}
	for i, s := range b.order {
		lens[s] = b.depth[i]
	}
	return true
}

// assignCodes gives canonical codes: shorter codes first, and within a length
// in symbol order, so the lengths alone describe the code.
func assignCodes(code []uint32, lens []uint8) {
	var count [maxCodeLen + 1]uint32
	for _, l := range lens {
		count[l]++
	}
	count[0] = 0
	var next [maxCodeLen + 2]uint32
	c := uint32(0)
	for l := 1; l <= maxCodeLen; l++ {
		c = (c + count[l-1]) << 1
		next[l] = c
	}
	for s, l := range lens {
		if l != 0 {
			code[s] = next[l]
			next[l]++
		}
	}
}

func resize[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n)
	}
	return s[:n]
}

// writeTable writes a code's lengths: the number of used symbols, then for
// each used symbol the gap since the previous one and its length as a signed
// difference from the previous length. Lengths of neighbouring symbols are
// close, so a typical table costs three to four bits per symbol.
func writeTable(w *bitWriter, t *encTable, freq []uint64) {
	w.expGolomb(uint32(t.used))
	prevSym, prevLen := -1, 0
	for s, l := range t.len {
		if freq[s] == 0 {
			continue
		}
		w.expGolomb(uint32(s - prevSym - 1))
		prevSym = s
		if t.used == 1 {
			break
		}
		d := int(l) - prevLen
		prevLen = int(l)
		w.expGolomb(zigzag(int32(d)))
	}
}

// tableBits is the number of bits writeTable writes for t and freq.
func tableBits(t *encTable, freq []uint64) int64 {
	n := expGolombBits(uint32(t.used))
	prevSym, prevLen := -1, 0
	for s, l := range t.len {
		if freq[s] == 0 {
			continue
		}
		n += expGolombBits(uint32(s - prevSym - 1))
		prevSym = s
		if t.used == 1 {
			break
		}
		n += expGolombBits(zigzag(int32(int(l) - prevLen)))
		prevLen = int(l)
	}
	return n
}

// expGolombBits is the length of v's order-0 Exp-Golomb code.
func expGolombBits(v uint32) int64 { return int64(2*bits.Len32(v+1) - 1) }

// decTable is one canonical code ready for reading.
type decTable struct {
	used   int
	single uint32   // the symbol when used == 1
	lut    []uint32 // next lutBits bits → symbol<<8 | length; 0 for longer codes
	maxLen uint
	first  [maxCodeLen + 1]uint32 // first code of each length
	count  [maxCodeLen + 1]uint32
	offset [maxCodeLen + 1]uint32 // index in syms of each length's first symbol
	syms   []uint32               // used symbols in canonical order
	lens   []uint8
}

// readTable reads what writeTable wrote for an alphabet of n symbols and
// checks that the code is complete: an over-subscribed code would decode
// ambiguously and an incomplete one has bit strings that mean nothing.
func (t *decTable) read(r *bitReader, n int) error {
	used, ok := r.expGolomb()
	if !ok || int64(used) > int64(n) {
		return fmt.Errorf("table declares %d symbols of %d", used, n)
	}
	t.used = int(used)
	if t.used == 0 {
		return nil
	}
	t.lens = resize(t.lens, n)
	clear(t.lens)
	t.syms = t.syms[:0]
	prevSym, prevLen := -1, 0
	for i := 0; i < t.used; i++ {
		gap, ok := r.expGolomb()
		if !ok || int64(prevSym)+1+int64(gap) >= int64(n) {
			return fmt.Errorf("table symbol past alphabet of %d", n)
		}
		prevSym += 1 + int(gap)
		if t.used == 1 {
			t.single = uint32(prevSym)
			return nil
		}
		d, ok := r.expGolomb()
		if !ok {
			return fmt.Errorf("table length of symbol %d unreadable", prevSym)
		}
		l := prevLen + int(unzigzag(d))
		if l < 1 || l > maxCodeLen {
			return fmt.Errorf("code length %d for symbol %d", l, prevSym)
		}
		prevLen = l
		t.lens[prevSym] = uint8(l)
	}
	if r.overrun() {
		return fmt.Errorf("table truncated")
	}
	var kraft uint64
	t.count = [maxCodeLen + 1]uint32{}
	t.maxLen = 0
	for _, l := range t.lens {
		if l != 0 {
			kraft += 1 << (maxCodeLen - l)
			t.count[l]++
			t.maxLen = max(t.maxLen, uint(l))
		}
	}
	switch {
	case kraft > 1<<maxCodeLen:
		return fmt.Errorf("over-subscribed code of %d symbols", t.used)
	case kraft < 1<<maxCodeLen:
		return fmt.Errorf("incomplete code of %d symbols", t.used)
	}
	c, off := uint32(0), uint32(0)
	for l := 1; l <= maxCodeLen; l++ {
		t.first[l] = c
		t.offset[l] = off
		off += t.count[l]
		c = (c + t.count[l]) << 1
	}
	t.syms = resize(t.syms, t.used)
	var fill [maxCodeLen + 1]uint32
	for s, l := range t.lens {
		if l != 0 {
			t.syms[t.offset[l]+fill[l]] = uint32(s)
			fill[l]++
		}
	}
	t.lut = resize(t.lut, 1<<lutBits)
	clear(t.lut)
	for l := 1; l <= lutBits; l++ {
		for i := uint32(0); i < t.count[l]; i++ {
			s := t.syms[t.offset[l]+i]
			lo := (t.first[l] + i) << (lutBits - l)
			hi := lo + 1<<(lutBits-l)
			for j := lo; j < hi; j++ {
				t.lut[j] = s<<8 | uint32(l)
			}
		}
	}
	return nil
}

// noSymbol is what decode gives for a table with no symbols; it is outside
// every alphabet, so the caller's range check rejects it.
const noSymbol = ^uint32(0)

// decode reads one symbol. The caller has refilled r (56 bits are enough for
// any code).
func (t *decTable) decode(r *bitReader) uint32 {
	if t.used <= 1 {
		if t.used == 0 {
			return noSymbol
		}
		return t.single
	}
	if e := t.lut[r.peek(lutBits)]; e != 0 {
		r.skip(uint(e & 0xff))
		return e >> 8
	}
	code := r.peek(t.maxLen)
	for l := uint(lutBits + 1); l <= t.maxLen; l++ {
		c := code >> (t.maxLen - l)
		if c-t.first[l] < t.count[l] {
			r.skip(l)
			return t.syms[t.offset[l]+c-t.first[l]]
		}
	}
	// A complete code always matches by maxLen; this is unreachable for a
	// table that passed read, but a symbol is returned rather than a panic.
	r.skip(t.maxLen)
	return t.syms[0]
}

func zigzag(v int32) uint32 { return uint32(v<<1) ^ uint32(v>>31) }

func unzigzag(u uint32) int32 { return int32(u>>1) ^ -int32(u&1) }
