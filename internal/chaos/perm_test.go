package chaos

import (
	"bytes"
	"strings"
	"testing"
)

func newPerm(t testing.TB, key []byte, n int) *Permutation {
	t.Helper()
	p, err := NewPermutation(key, n)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func isPermutation(p *Permutation) bool {
	seen := make([]bool, p.Len())
	for i := range p.Len() {
		j := p.Source(i)
		if j < 0 || j >= len(seen) || seen[j] {
			return false
		}
		seen[j] = true
	}
	return true
}

func iota32(n int) []int32 {
	v := make([]int32, n)
	for i := range v {
		v[i] = int32(i)
	}
	return v
}

func TestPermutationRoundTrip(t *testing.T) {
	for _, n := range []int{0, 1, 2, 3, 1000, 65537} {
		p := newPerm(t, testKey(10), n)
		if p.Len() != n || !isPermutation(p) {
			t.Fatalf("n=%d: not a permutation of %d positions", n, n)
		}
		src := iota32(n)
		for i := range src {
			src[i] = src[i]*7 - 3 // values unlike their positions
		}
		mid := make([]int32, n)
		back := make([]int32, n)
		if err := p.Apply(mid, src); err != nil {
			t.Fatal(err)
		}
		if err := p.Invert(back, mid); err != nil {
			t.Fatal(err)
		}
		for i := range src {
			if back[i] != src[i] {
				t.Fatalf("n=%d: invert∘apply differs at %d: %d, want %d", n, i, back[i], src[i])
			}
		}
		for i := range n {
			if mid[i] != src[p.Source(i)] {
				t.Fatalf("n=%d: apply put %d at %d, want src[%d]", n, mid[i], i, p.Source(i))
			}
		}
	}
}

func samePositions(a, b *Permutation) int {
	n := 0
	for i := range a.Len() {
		if a.Source(i) == b.Source(i) {
			n++
		}
	}
	return n
}

func TestPermutationKeys(t *testing.T) {
	const n = 10000
	key := testKey(11)
	p := newPerm(t, key, n)
	if fixed := samePositions(p, &Permutation{p: iota32(n)}); fixed > n/100 {
		t.Errorf("%d of %d positions stay in place", fixed, n)
	}
	if same := samePositions(p, newPerm(t, testKey(12), n)); same > n/100 {
		t.Errorf("two keys agree on %d of %d positions", same, n)
	}
	for _, bit := range []int{0, 77, 255} {
		k := bytes.Clone(key)
		k[bit/8] ^= 1 << (bit % 8)
		if same := samePositions(p, newPerm(t, k, n)); same > n/100 {
			t.Errorf("key bit %d flipped: %d of %d positions unchanged", bit, same, n)
		}
	}
}

// TestPermutationUniform shuffles four positions under many keys: each of the
// 24 orders must come up about equally often.
func TestPermutationUniform(t *testing.T) {
	const keys = 4800
	counts := map[[4]int]int{}
	for i := range keys {
		key := make([]byte, KeySize)
		key[0], key[1] = byte(i), byte(i>>8)
		p := newPerm(t, key, 4)
		counts[[4]int{p.Source(0), p.Source(1), p.Source(2), p.Source(3)}]++
	}
	if len(counts) != 24 {
		t.Fatalf("%d distinct orders of 4, want 24", len(counts))
	}
	for order, c := range counts {
		if c < 120 || c > 280 { // expected 200, σ ≈ 14
			t.Errorf("order %v came up %d times in %d, want about 200", order, c, keys)
		}
	}
}

func TestPermutationErrors(t *testing.T) {
	key := testKey(13)
	for _, n := range []int{-1, MaxPermutation + 1} {
		if _, err := NewPermutation(key, n); err == nil || !strings.Contains(err.Error(), "chaos: permutation of") {
			t.Errorf("n=%d: error %v, want a size error", n, err)
		}
	}
	p := newPerm(t, key, 10)
	buf := make([]int32, 10)
	for _, c := range []struct {
		name     string
		dst, src []int32
	}{
		{"short dst", make([]int32, 9), make([]int32, 10)},
		{"short src", make([]int32, 10), make([]int32, 9)},
		{"in place", buf, buf},
	} {
		if err := p.Apply(c.dst, c.src); err == nil {
			t.Errorf("Apply, %s: no error", c.name)
		}
		if err := p.Invert(c.dst, c.src); err == nil {
			t.Errorf("Invert, %s: no error", c.name)
		}
	}
}
