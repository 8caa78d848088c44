package embed

import (
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"math/bits"
	"runtime"

	"edge/internal/par"
)

// KeySize is the length of the embedding key (K_bio).
const KeySize = 32

// keys are the independent secrets derived from K_bio, so that the positions
// reveal nothing about the MAC key and the reverse.
type keys struct {
	pos    [32]byte // seeds the position generators
	macKey [32]byte // keys the header check and the tag
}

func deriveKeys(key []byte) (keys, error) {
	var k keys
	if len(key) != KeySize {
		return k, fmt.Errorf("embed: key is %d bytes, want %d", len(key), KeySize)
	}
	p, err := hkdf.Key(sha256.New, key, nil, "edge embed v1 positions", 32)
	if err != nil {
		return k, fmt.Errorf("embed: derive position key: %w", err)
	}
	m, err := hkdf.Key(sha256.New, key, nil, "edge embed v1 mac", 32)
	if err != nil {
		return k, fmt.Errorf("embed: derive mac key: %w", err)
	}
	copy(k.pos[:], p)
	copy(k.macKey[:], m)
	return k, nil
}

// mac returns HMAC-SHA256 under the MAC key of the label and the parts.
func (k *keys) mac(label string, parts ...[]byte) []byte {
	h := hmac.New(sha256.New, k.macKey[:])
	h.Write([]byte(label))
	for _, p := range parts {
		h.Write(p)
	}
	return h.Sum(nil)
}

// prng is SHA-256 in counter mode: block i is SHA-256(seed ‖ label ‖ i).
// It is defined on bytes alone, so every architecture draws the same numbers.
type prng struct {
	in  []byte // seed ‖ label ‖ 8-byte counter
	ctr uint64
	buf [sha256.Size]byte
	pos int
}

func newPRNG(seed [32]byte, label string) *prng {
	in := make([]byte, 0, 32+len(label)+8)
	in = append(in, seed[:]...)
	in = append(in, label...)
	in = append(in, make([]byte, 8)...)
	return &prng{in: in, pos: sha256.Size}
}

func (r *prng) uint64() uint64 {
	if r.pos+8 > sha256.Size {
		binary.BigEndian.PutUint64(r.in[len(r.in)-8:], r.ctr)
		r.ctr++
		r.buf = sha256.Sum256(r.in)
		r.pos = 0
	}
	v := binary.BigEndian.Uint64(r.buf[r.pos:])
	r.pos += 8
	return v
}

// below returns a uniform value in [0, n), n > 0, without modulo bias
// (Lemire's multiply-and-reject).
func (r *prng) below(n uint64) uint64 {
	hi, lo := bits.Mul64(r.uint64(), n)
	if lo < n {
		thresh := -n % n
		for lo < thresh {
			hi, lo = bits.Mul64(r.uint64(), n)
		}
	}
	return hi
}

// words fills dst with the next len(dst) values uint64 would return. The
// blocks are independent (counter mode), so whole ones are hashed on up to
// workers goroutines; the values do not depend on how many.
func (r *prng) words(dst []uint64, workers int) {
	n := 0
	for n < len(dst) && r.pos+8 <= sha256.Size {
		dst[n] = r.uint64()
		n++
	}
	rest := dst[n:]
	blocks := len(rest) / 4
	if blocks > 0 {
		ctr := r.ctr
		jobs := (blocks + wordsJobBlocks - 1) / wordsJobBlocks
		par.Run(jobs, workers, func(_, j int) {
			in := append(make([]byte, 0, len(r.in)), r.in...)
			for b := j * wordsJobBlocks; b < min((j+1)*wordsJobBlocks, blocks); b++ {
				binary.BigEndian.PutUint64(in[len(in)-8:], ctr+uint64(b))
				sum := sha256.Sum256(in)
				for q := range 4 {
					rest[4*b+q] = binary.BigEndian.Uint64(sum[8*q:])
				}
			}
		})
		r.ctr += uint64(blocks)
	}
	for q := 4 * blocks; q < len(rest); q++ {
		rest[q] = r.uint64()
	}
}

// wordsJobBlocks is how many blocks one of words' jobs hashes.
const wordsJobBlocks = 256

// shuffleChunk is how many values shuffle draws from words at a time; a
// shuffle of fewer than parallelShuffle elements draws them one by one.
const (
	shuffleChunk    = 1 << 14
	parallelShuffle = 1 << 14
)

// shuffle permutes s in place (Fisher–Yates). It leaves r past the values
// it used and, on a large s, possibly some more: a prng that shuffles is
// used for nothing else.
func (r *prng) shuffle(s []uint32) {
	workers := runtime.GOMAXPROCS(0)
	if len(s) < parallelShuffle || workers == 1 {
		for i := len(s) - 1; i > 0; i-- {
			j := r.below(uint64(i + 1))
			s[i], s[j] = s[j], s[i]
		}
		return
	}
	// The same draws as below's, taken from values hashed ahead in
	// parallel: one value per element, and another for each rare
	// rejection.
	buf := make([]uint64, shuffleChunk)
	k := len(buf)
	for i := len(s) - 1; i > 0; i-- {
		n := uint64(i + 1)
		if k == len(buf) {
			r.words(buf[:min(len(buf), i+8)], workers)
			buf, k = buf[:min(len(buf), i+8)], 0
		}
		hi, lo := bits.Mul64(buf[k], n)
		k++
		if lo < n {
			thresh := -n % n
			for lo < thresh {
				if k == len(buf) {
					r.words(buf, workers)
					k = 0
				}
				hi, lo = bits.Mul64(buf[k], n)
				k++
			}
		}
		s[i], s[hi] = s[hi], s[i]
	}
}

// whiten XORs b with a keyed keystream. The stream holds the reserved
// samples' own low bits, which in a saturated image are all alike; whitened,
// every stream bit moves a sample half the time at most, whatever it says.
func whiten(b []byte, k *keys) {
	g := newPRNG(k.pos, "stream")
	var w uint64
	for i := range b {
		if i%8 == 0 {
			w = g.uint64()
		}
		b[i] ^= byte(w >> (56 - 8*(i%8)))
	}
}
