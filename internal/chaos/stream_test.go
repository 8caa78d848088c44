package chaos

import (
	"bytes"
	"math/bits"
	"runtime"
	"strings"
	"testing"
)

func testKey(seed byte) []byte {
	k := make([]byte, KeySize)
	for i := range k {
		k[i] = seed + byte(i)*37
	}
	return k
}

func keystream(t testing.TB, key []byte, n int) []byte {
	t.Helper()
	s, err := NewStream(key)
	if err != nil {
		t.Fatal(err)
	}
	b := make([]byte, n)
	s.Read(b)
	return b
}

func TestKeyLength(t *testing.T) {
	for _, n := range []int{0, 1, KeySize - 1, KeySize + 1, 64} {
		key := make([]byte, n)
		if _, err := NewStream(key); err == nil || !strings.Contains(err.Error(), "chaos: key is") {
			t.Errorf("NewStream with a %d-byte key: error %v, want a key length error", n, err)
		}
		if _, err := Raw(key); err == nil {
			t.Errorf("Raw with a %d-byte key: no error", n)
		}
		if _, err := NewPermutation(key, 10); err == nil {
			t.Errorf("NewPermutation with a %d-byte key: no error", n)
		}
	}
}

// TestStreamSplits checks that the stream does not depend on how it is asked
// for: reads and XORs of any sizes, mixed, give the bytes of one long read.
func TestStreamSplits(t *testing.T) {
	key := testKey(1)
	want := keystream(t, key, 5000)
	sizes := []int{1, 31, 32, 33, 0, 7, 64, 100, 3, 1000}
	s, err := NewStream(key)
	if err != nil {
		t.Fatal(err)
	}
	var got []byte
	for i := 0; len(got) < len(want); i++ {
		n := min(sizes[i%len(sizes)], len(want)-len(got))
		b := make([]byte, n)
		if i%2 == 0 {
			s.Read(b)
		} else {
			s.XORKeyStream(b, b) // XOR onto zeros, in place, yields the keystream
		}
		got = append(got, b...)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("split reads and XORs differ from one read")
	}
}

// TestLongXORSameBytes: XORs long enough to be made span by span, one
// starting inside a block, give the bytes of small reads on any number of
// cores.
func TestLongXORSameBytes(t *testing.T) {
	key := testKey(3)
	n := 5*spanBlocks*blockOut + 1000
	want := keystream(t, key, n)
	for _, procs := range []int{1, 2, 5} {
		old := runtime.GOMAXPROCS(procs)
		s, err := NewStream(key)
		if err != nil {
			t.Fatal(err)
		}
		got := make([]byte, n)
		s.XORKeyStream(got[:7], got[:7])
		src := bytes.Repeat([]byte{0x5a}, n-7)
		s.XORKeyStream(got[7:], src)
		runtime.GOMAXPROCS(old)
		for i := 7; i < n; i++ {
			got[i] ^= 0x5a
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("GOMAXPROCS=%d: a long XOR differs from small reads", procs)
		}
	}
}

func TestXORKeyStreamRoundTrip(t *testing.T) {
	key := testKey(2)
	plain := []byte(strings.Repeat("the same pixels again and again ", 50))
	enc, err := NewStream(key)
	if err != nil {
		t.Fatal(err)
	}
	ct := make([]byte, len(plain))
	enc.XORKeyStream(ct, plain)
	if bytes.Equal(ct, plain) {
		t.Fatal("ciphertext equals plaintext")
	}
	dec, err := NewStream(key)
	if err != nil {
		t.Fatal(err)
	}
	back := make([]byte, len(ct)+10) // a longer dst is allowed
	dec.XORKeyStream(back, ct)
	if !bytes.Equal(back[:len(plain)], plain) {
		t.Fatal("decryption did not restore the plaintext")
	}
}

func TestXORKeyStreamShortDst(t *testing.T) {
	s, err := NewStream(testKey(3))
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if recover() == nil {
			t.Fatal("a dst shorter than src did not panic, as cipher.Stream requires")
		}
	}()
	s.XORKeyStream(make([]byte, 3), make([]byte, 4))
}

func bitDiff(a, b []byte) float64 {
	n := 0
	for i := range a {
		n += bits.OnesCount8(a[i] ^ b[i])
	}
	return float64(n) / float64(8*len(a))
}

// TestKeySensitivity flips each key bit in turn: every flip must change about
// half of the keystream's bits, from the first block on.
func TestKeySensitivity(t *testing.T) {
	key := testKey(4)
	base := keystream(t, key, 4096)
	for bit := range 8 * KeySize {
		k := bytes.Clone(key)
		k[bit/8] ^= 1 << (bit % 8)
		ks := keystream(t, k, 4096)
		if d := bitDiff(base, ks); d < 0.47 || d > 0.53 {
			t.Errorf("key bit %d flipped: %.2f%% of keystream bits change, want about 50%%", bit, 100*d)
		}
		if d := bitDiff(base[:32], ks[:32]); d < 0.25 || d > 0.75 {
			t.Errorf("key bit %d flipped: %.2f%% of the first block's bits change", bit, 100*d)
		}
	}
}

// TestRawKeySensitivity shows the map alone also spreads a one-bit key change
// (through the warm-up) but that its output words are not uniform bits.
func TestRawKeySensitivity(t *testing.T) {
	key := testKey(5)
	read := func(k []byte) []byte {
		r, err := Raw(k)
		if err != nil {
			t.Fatal(err)
		}
		b := make([]byte, 4096)
		r.Read(b)
		return b
	}
	base := read(key)
	k := bytes.Clone(key)
	k[KeySize-1] ^= 1
	if d := bitDiff(base, read(k)); d < 0.4 {
		t.Errorf("last key bit flipped: only %.2f%% of the raw map's bits change", 100*d)
	}
}

func TestRawWordsMatchRead(t *testing.T) {
	key := testKey(6)
	a, err := Raw(key)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Raw(key)
	if err != nil {
		t.Fatal(err)
	}
	words := make([]uint32, 100)
	a.Words(words)
	buf := make([]byte, 4*len(words))
	for off := 0; off < len(buf); off += 3 { // odd-sized reads cross word boundaries
		b.Read(buf[off:min(off+3, len(buf))])
	}
	for i, w := range words {
		got := uint32(buf[4*i]) | uint32(buf[4*i+1])<<8 | uint32(buf[4*i+2])<<16 | uint32(buf[4*i+3])<<24
		if got != w {
			t.Fatalf("word %d: Read gives %#x, Words gives %#x", i, got, w)
		}
	}
}

func TestDifferentKeysDiffer(t *testing.T) {
	a := keystream(t, testKey(7), 1024)
	b := keystream(t, testKey(8), 1024)
	if d := bitDiff(a, b); d < 0.45 || d > 0.55 {
		t.Errorf("two keys' streams differ in %.2f%% of bits, want about 50%%", 100*d)
	}
}
