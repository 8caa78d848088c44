package chaos

import (
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// fuzzSeeds are the committed starting points of FuzzKey: wrong lengths, the
// golden keys and keys whose words sit at the edges of [0, 1).
func fuzzSeeds() map[string]struct {
	key []byte
	n   uint16
} {
	ones := make([]byte, KeySize)
	for i := range ones {
		ones[i] = 0xff
	}
	low := make([]byte, KeySize)
	for i := 3; i < KeySize; i += 4 {
		low[i] = 1 // every value starts at 2⁻³²
	}
	seeds := map[string]struct {
		key []byte
		n   uint16
	}{
		"empty":     {nil, 0},
		"short":     {make([]byte, KeySize-1), 10},
		"long":      {make([]byte, KeySize+1), 10},
		"all-ones":  {ones, 1},
		"all-tiny":  {low, 2},
		"zero-4096": {make([]byte, KeySize), 4096},
	}
	for i, k := range goldenKeys {
		key, _ := hex.DecodeString(k.hex) // checked by the golden tests
		seeds["golden-"+k.name] = struct {
			key []byte
			n   uint16
		}{key, uint16(1000 + i)}
	}
	return seeds
}

// TestFuzzSeeds writes FuzzKey's corpus under -update and otherwise checks it
// is there, so the fuzz target always starts from the committed seeds.
func TestFuzzSeeds(t *testing.T) {
	dir := filepath.Join("testdata", "fuzz", "FuzzKey")
	for name, s := range fuzzSeeds() {
		body := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\nuint16(%d)\n", s.key, s.n)
		path := filepath.Join(dir, name)
		if *update {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		got, err := os.ReadFile(path)
		if err != nil || string(got) != body {
			t.Errorf("seed %s missing or stale (run go test -run FuzzSeeds -update): %v", path, err)
		}
	}
}

// FuzzKey feeds arbitrary keys and sizes: a wrong length is an error, and any
// right-length key gives map values in [0, 1), a stream that reads the same
// however it is split, and a permutation that Invert undoes.
func FuzzKey(f *testing.F) {
	f.Fuzz(func(t *testing.T, key []byte, n uint16) {
		s, err := NewStream(key)
		if (err != nil) != (len(key) != KeySize) {
			t.Fatalf("NewStream with %d bytes: error %v", len(key), err)
		}
		if err != nil {
			return
		}
		m, err := newMapState(key)
		if err != nil {
			t.Fatal(err)
		}
		for range 200 {
			m.next()
			for i, v := range m.v {
				if !(v >= 0 && v < 1) {
					t.Fatalf("map value %d is %v, outside [0, 1)", i, v)
				}
			}
		}
		a := make([]byte, 100)
		s.Read(a)
		s2, err := NewStream(key)
		if err != nil {
			t.Fatal(err)
		}
		b := make([]byte, 100)
		s2.Read(b[:37])
		s2.XORKeyStream(b[37:], b[37:])
		if string(a) != string(b) {
			t.Fatal("split read differs")
		}
		p, err := NewPermutation(key, int(n)%5000)
		if err != nil {
			t.Fatal(err)
		}
		src := iota32(p.Len())
		mid := make([]int32, p.Len())
		back := make([]int32, p.Len())
		if err := p.Apply(mid, src); err != nil {
			t.Fatal(err)
		}
		if err := p.Invert(back, mid); err != nil {
			t.Fatal(err)
		}
		for i := range src {
			if back[i] != src[i] {
				t.Fatalf("invert∘apply differs at %d", i)
			}
		}
	})
}
