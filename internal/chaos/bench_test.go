package chaos

import (
	"testing"

	"golang.org/x/crypto/chacha20"
)

const benchSize = 64 << 10

// BenchmarkKeystream and BenchmarkChaCha20 XOR the same 64 KiB buffer, so
// their MB/s compare the conditioned chaotic keystream with a standard
// stream cipher.
func BenchmarkKeystream(b *testing.B) {
	s, err := NewStream(testKey(30))
	if err != nil {
		b.Fatal(err)
	}
	buf := make([]byte, benchSize)
	b.SetBytes(benchSize)
	b.ReportAllocs()
	for b.Loop() {
		s.XORKeyStream(buf, buf)
	}
}

func BenchmarkChaCha20(b *testing.B) {
	c, err := chacha20.NewUnauthenticatedCipher(testKey(30), make([]byte, chacha20.NonceSize))
	if err != nil {
		b.Fatal(err)
	}
	buf := make([]byte, benchSize)
	b.SetBytes(benchSize)
	b.ReportAllocs()
	for b.Loop() {
		c.XORKeyStream(buf, buf)
	}
}

// BenchmarkRawMap is the map alone, without conditioning.
func BenchmarkRawMap(b *testing.B) {
	r, err := Raw(testKey(30))
	if err != nil {
		b.Fatal(err)
	}
	buf := make([]byte, benchSize)
	b.SetBytes(benchSize)
	b.ReportAllocs()
	for b.Loop() {
		r.Read(buf)
	}
}

// BenchmarkPermutation512x512 makes and applies the pixel permutation of a
// 512×512 image, as the paper scheme does.
func BenchmarkPermutation512x512(b *testing.B) {
	const n = 512 * 512
	src := make([]int32, n)
	dst := make([]int32, n)
	b.SetBytes(4 * n)
	b.ReportAllocs()
	for b.Loop() {
		p, err := NewPermutation(testKey(30), n)
		if err != nil {
			b.Fatal(err)
		}
		if err := p.Apply(dst, src); err != nil {
			b.Fatal(err)
		}
	}
}
