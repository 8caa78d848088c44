package huffman

import "testing"

// TestLengthLimit builds a code for Fibonacci frequencies, whose optimal
// code has one more bit per symbol (up to 39 here), and checks the limiter
// leaves a complete code no longer than maxCodeLen that reads back.
func TestLengthLimit(t *testing.T) {
	freq := make([]uint64, 40)
	a, b := uint64(1), uint64(1)
	for i := range freq {
		freq[i] = a
		a, b = b, a+b
	}
	var bl builder
	var et encTable
	bl.build(&et, freq)
	var kraft uint64
	for s, l := range et.len {
		if l < 1 || l > maxCodeLen {
			t.Fatalf("symbol %d has length %d", s, l)
		}
		kraft += 1 << (maxCodeLen - l)
	}
	if kraft != 1<<maxCodeLen {
		t.Fatalf("Kraft sum %d/2^%d, want 1", kraft, maxCodeLen)
	}
	if et.len[len(freq)-1] > et.len[0] {
		t.Fatalf("most frequent symbol has a longer code (%d) than the rarest (%d)", et.len[len(freq)-1], et.len[0])
	}
	var w bitWriter
	writeTable(&w, &et, freq)
	for s := range freq {
		w.write(et.code[s], uint(et.len[s]))
	}
	w.flush()
	var r bitReader
	r.reset(w.buf)
	var dt decTable
	if err := dt.read(&r, len(freq)); err != nil {
		t.Fatal(err)
	}
	for s := range freq {
		r.refill()
		if got := dt.decode(&r); got != uint32(s) {
			t.Fatalf("decoded %d, want %d", got, s)
		}
	}
}

func TestTokens(t *testing.T) {
	for _, m := range []uint32{0, 1, 15, 16, 17, 31, 32, 100, 255, 256, 4095, 65535, 1<<30 - 1} {
		tok, extra, nb := token(m)
		got := tok
		if tok >= 16 {
			base, n := tokenBits(tok)
			if n != nb {
				t.Fatalf("%d: %d extra bits coded, %d read", m, nb, n)
			}
			got = base | extra
		}
		if got != m {
			t.Fatalf("token(%d) = %d+%d/%d, reads back as %d", m, tok, extra, nb, got)
		}
	}
	if tok, _, _ := token(65535); tok >= regAlphabet {
		t.Fatalf("token(65535) = %d, outside the residual alphabet of %d", tok, regAlphabet)
	}
	if tok, _, _ := token(1<<maxRunBits - 1); tok+1 >= runAlphabet {
		t.Fatalf("run token %d outside the run alphabet of %d", tok+1, runAlphabet)
	}
}

// TestTableBits checks that the size the encoder's trials and class grouping
// reckon with is what writeTable writes, for empty, one-symbol, sparse and
// dense histograms.
func TestTableBits(t *testing.T) {
	lcg := uint32(5)
	var bl builder
	var et encTable
	for i := range 200 {
		freq := make([]uint64, regAlphabet2)
		used := i % 70
		for j := 0; j < used; j++ {
			lcg = lcg*1664525 + 1013904223
			freq[lcg>>26] += uint64(lcg>>16&1023) + 1
		}
		bl.build(&et, freq)
		var w bitWriter
		writeTable(&w, &et, freq)
		if got, want := tableBits(&et, freq), int64(len(w.buf))*8+int64(w.n); got != want {
			t.Fatalf("histogram %d (%d used): tableBits %d, writeTable wrote %d bits", i, et.used, got, want)
		}
	}
}
