package chaos

import (
	"crypto/cipher"
	"crypto/sha256"
	"crypto/subtle"
	"encoding"
	"encoding/binary"
	"fmt"
	"hash"
	"io"
	"runtime"

	"edge/internal/par"
)

// domain fills the rest of the first SHA-256 block after the key, so that no
// other use of the same key with SHA-256 can produce these blocks.
const domain = "edge/chaos keystream v1"

const (
	// blockWords is how many map words feed one output block: with the 8-byte
	// counter they fill the 48 bytes that, with SHA-256's 9 bytes of padding,
	// still fit one compression.
	blockWords = 10
	blockIn    = 8 + 4*blockWords
	blockOut   = sha256.Size
)

// Stream is the conditioned keystream: each 32-byte block is
//
//	SHA-256(key ‖ domain ‖ zero padding to 64 bytes ‖ counter ‖ 10 map words)
//
// with a 64-bit big-endian block counter and the map words little-endian. It
// implements cipher.Stream and io.Reader; any split of calls gives the same
// bytes. A Stream is not safe for concurrent use.
type Stream struct {
	m     mapState
	h     hash.Hash
	mid   []byte // h's state after the key block, to restart each block from
	ctr   uint64
	in    [blockIn]byte
	out   [blockOut]byte
	off   int // first unused byte of out; len(out) when empty
	reset encoding.BinaryUnmarshaler
}

var (
	_ cipher.Stream = (*Stream)(nil)
	_ io.Reader     = (*Stream)(nil)
)

// NewStream starts the keystream for key, which must be KeySize bytes.
func NewStream(key []byte) (*Stream, error) {
	m, err := newMapState(key)
	if err != nil {
		return nil, err
	}
	h := sha256.New()
	var first [sha256.BlockSize]byte
	copy(first[:], key)
	copy(first[KeySize:], domain)
	h.Write(first[:])
	// Restarting from the saved state after the key block makes each output
	// block cost one compression instead of two.
	m0, ok1 := h.(encoding.BinaryMarshaler)
	u, ok2 := h.(encoding.BinaryUnmarshaler)
	if !ok1 || !ok2 {
		return nil, fmt.Errorf("chaos: SHA-256 state cannot be saved (%T)", h)
	}
	mid, err := m0.MarshalBinary()
	if err != nil {
		return nil, fmt.Errorf("chaos: saving SHA-256 state: %w", err)
	}
	if err := u.UnmarshalBinary(mid); err != nil {
		return nil, fmt.Errorf("chaos: restoring SHA-256 state: %w", err)
	}
	return &Stream{m: m, h: h, mid: mid, reset: u, off: blockOut}, nil
}

func (s *Stream) refill() {
	binary.BigEndian.PutUint64(s.in[:8], s.ctr)
	s.ctr++
	for i := 8; i < blockIn; i += 8 {
		a, b := s.m.next()
		binary.LittleEndian.PutUint32(s.in[i:], a)
		binary.LittleEndian.PutUint32(s.in[i+4:], b)
	}
	if err := s.reset.UnmarshalBinary(s.mid); err != nil {
		// NewStream has restored this same state once already, and restoring
		// is a pure function of it: this cannot fail.
		panic("chaos: restoring SHA-256 state: " + err.Error())
	}
	s.h.Write(s.in[:])
	s.h.Sum(s.out[:0])
	s.off = 0
}

// Read fills p with keystream bytes. It never fails.
func (s *Stream) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		if s.off == blockOut {
			s.refill()
		}
		c := copy(p[n:], s.out[s.off:])
		s.off += c
		n += c
	}
	return n, nil
}

// XORKeyStream XORs src with the keystream into dst. dst and src must either
// be the same slice or not overlap, and dst must be at least as long as src;
// as with every cipher.Stream, a short dst panics.
func (s *Stream) XORKeyStream(dst, src []byte) {
	if len(dst) < len(src) {
		panic("chaos: XORKeyStream output smaller than input")
	}
	for len(src) > 0 {
		if s.off == blockOut && len(src) >= 2*spanBlocks*blockOut {
			n := s.xorSpans(dst, src)
			dst, src = dst[n:], src[n:]
			continue
		}
		if s.off == blockOut {
			s.refill()
		}
		n := subtle.XORBytes(dst, src, s.out[s.off:])
		s.off += n
		dst, src = dst[n:], src[n:]
	}
}

// spanBlocks is how many blocks xorSpans makes at a time.
const spanBlocks = 4096

// xorSpans XORs the keystream into dst from src in whole spans of
// spanBlocks blocks, as many as src holds, and returns the bytes done. The
// map is one chain of dependent steps, three fifths of the cost, so it runs
// on a goroutine of its own, drawing the next span's words while the
// blocks of the last one are hashed on the other cores; each block depends
// only on its counter and words, so the bytes are those of refill.
func (s *Stream) xorSpans(dst, src []byte) int {
	spans := len(src) / (spanBlocks * blockOut)
	ready, free := make(chan []byte, 2), make(chan []byte, 2)
	free <- make([]byte, spanBlocks*blockIn)
	free <- make([]byte, spanBlocks*blockIn)
	ctr := s.ctr
	go func() {
		for range spans {
			in := <-free
			for b := 0; b < len(in); b += blockIn {
				binary.BigEndian.PutUint64(in[b:], ctr)
				ctr++
				for i := b + 8; i < b+blockIn; i += 8 {
					x, y := s.m.next()
					binary.LittleEndian.PutUint32(in[i:], x)
					binary.LittleEndian.PutUint32(in[i+4:], y)
				}
			}
			ready <- in
		}
		close(ready)
	}()
	workers := runtime.GOMAXPROCS(0)
	hashers := make([]hasher, workers)
	const parts, per = 16, spanBlocks / 16
	off := 0
	for in := range ready {
		d, sr := dst[off:off+spanBlocks*blockOut], src[off:off+spanBlocks*blockOut]
		par.Run(parts, workers, func(w, part int) {
			hs := &hashers[w]
			if hs.h == nil {
				hs.h = sha256.New()
				hs.reset = hs.h.(encoding.BinaryUnmarshaler) // NewStream checked that it has it
			}
			var out [blockOut]byte
			for b := part * per; b < (part+1)*per; b++ {
				if err := hs.reset.UnmarshalBinary(s.mid); err != nil {
					panic("chaos: restoring SHA-256 state: " + err.Error())
				}
				hs.h.Write(in[b*blockIn : (b+1)*blockIn])
				hs.h.Sum(out[:0])
				subtle.XORBytes(d[b*blockOut:(b+1)*blockOut], sr[b*blockOut:], out[:])
			}
		})
		off += spanBlocks * blockOut
		free <- in
	}
	s.ctr = ctr
	return off
}

// hasher is one goroutine's SHA-256 for xorSpans.
type hasher struct {
	h     hash.Hash
	reset encoding.BinaryUnmarshaler
}
