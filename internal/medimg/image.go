package medimg

import (
	"fmt"
	"io"
	"math/bits"
	"runtime"

	"edge/internal/par"
)

// Photometric is the DICOM photometric interpretation of the samples.
type Photometric string

const (
	Monochrome1  Photometric = "MONOCHROME1"
	Monochrome2  Photometric = "MONOCHROME2"
	RGB          Photometric = "RGB"
	PaletteColor Photometric = "PALETTE COLOR"
)

// Image is a decoded pixel buffer. Every stage of the pipeline (embedding,
// coding, evaluation) works on this one form so that none of them has to know
// where the pixels came from.
//
// Pix holds logical sample values: sign-extended for signed images, so that
// arithmetic on them (prediction, histogram shifting) needs no special cases.
// Readers keep BitsStored only when every sample fits in it; otherwise they
// widen it to BitsAllocated, so that writing Pix back always reproduces the
// original bytes.
type Image struct {
	Width, Height int
	Frames        int // ≥ 1
	Channels      int // 1 (gray or palette index) or 3 (RGB, interleaved)
	BitsAllocated int // 8 or 16
	BitsStored    int // 1..BitsAllocated
	Signed        bool
	Photometric   Photometric
	// Pix is in frame, row, column, channel order: len = Frames·Height·Width·Channels.
	Pix []int32
}

// Range is the closed interval every sample must lie in.
func (im *Image) Range() (lo, hi int32) {
	if im.Signed {
		return -(1 << (im.BitsStored - 1)), 1<<(im.BitsStored-1) - 1
	}
	return 0, 1<<im.BitsStored - 1
}

// Peak is the largest possible difference between two samples, the PSNR peak.
func (im *Image) Peak() float64 {
	lo, hi := im.Range()
	return float64(hi - lo)
}

// Samples is the number of samples the geometry implies.
func (im *Image) Samples() int { return im.Frames * im.Height * im.Width * im.Channels }

// BytesPerSample is 1 for 8-bit and 2 for 16-bit images.
func (im *Image) BytesPerSample() int { return im.BitsAllocated / 8 }

// RawSize is the size of the pixels as raw bytes, the figure compression is measured against.
func (im *Image) RawSize() int { return im.Samples() * im.BytesPerSample() }

// MaxSamples bounds the images this package will build or accept (a 4096² RGB
// image with 64 frames); decoders check declared geometry against it before
// allocating.
const MaxSamples = 1 << 30

// CheckGeometry validates the description of an image without looking at Pix.
func (im *Image) CheckGeometry() error {
	switch {
	case im.Width <= 0 || im.Height <= 0:
		return fmt.Errorf("medimg: empty image %d×%d", im.Width, im.Height)
	case im.Frames <= 0:
		return fmt.Errorf("medimg: frame count %d", im.Frames)
	case im.Channels != 1 && im.Channels != 3:
		return fmt.Errorf("medimg: %d channels, want 1 or 3", im.Channels)
	case im.BitsAllocated != 8 && im.BitsAllocated != 16:
		return fmt.Errorf("medimg: %d bits allocated, want 8 or 16", im.BitsAllocated)
	case im.BitsStored < 1 || im.BitsStored > im.BitsAllocated:
		return fmt.Errorf("medimg: %d bits stored with %d allocated", im.BitsStored, im.BitsAllocated)
	}
	// Each product in uint64: Frames*Channels in int would wrap on 32-bit ARM.
	hi, n := bits.Mul64(uint64(im.Width), uint64(im.Height))
	hi2, n := bits.Mul64(n, uint64(im.Frames))
	hi3, n := bits.Mul64(n, uint64(im.Channels))
	if hi != 0 || hi2 != 0 || hi3 != 0 || n > MaxSamples {
		return fmt.Errorf("medimg: %d×%d×%d frames×%d channels exceeds %d samples", im.Width, im.Height, im.Frames, im.Channels, MaxSamples)
	}
	return nil
}

// Validate checks the geometry, the buffer length and that every sample is in range.
func (im *Image) Validate() error {
	_, _, err := im.ValidExtremes()
	return err
}

// ValidExtremes validates im as Validate does and returns its lowest and
// highest sample, so that a caller needing both reads the samples once.
func (im *Image) ValidExtremes() (lo, hi int32, err error) {
	if err := im.CheckGeometry(); err != nil {
		return 0, 0, err
	}
	if len(im.Pix) != im.Samples() {
		return 0, 0, fmt.Errorf("medimg: %d samples for a %d×%d×%d×%d image", len(im.Pix), im.Width, im.Height, im.Frames, im.Channels)
	}
	low, high := im.Range()
	// Every caller on the way from a file to an envelope validates, so the
	// check is the extremes, on every core; only a bad image is searched
	// again, for its first bad sample.
	if lo, hi = Extremes(im.Pix, runtime.GOMAXPROCS(0)); lo >= low && hi <= high {
		return lo, hi, nil
	}
	for i, v := range im.Pix {
		if v < low || v > high {
			return 0, 0, fmt.Errorf("medimg: sample %d is %d, outside [%d, %d]", i, v, low, high)
		}
	}
	return 0, 0, fmt.Errorf("medimg: samples span [%d, %d], outside [%d, %d]", lo, hi, low, high)
}

// Extremes returns the lowest and the highest of pix, (0, 0) when it is
// empty. It reads pix in pieces on workers goroutines, each piece by a
// running min and max with no branch per sample.
func Extremes(pix []int32, workers int) (lo, hi int32) {
	if len(pix) == 0 {
		return 0, 0
	}
	ends := make([][2]int32, par.PieceCount(len(pix)))
	par.Pieces(len(pix), workers, func(_, a, b int) {
		c := pix[a:b]
		mn, mx := c[0], c[0]
		for _, v := range c {
			mn, mx = min(mn, v), max(mx, v)
		}
		ends[a/par.Piece] = [2]int32{mn, mx}
	})
	lo, hi = ends[0][0], ends[0][1]
	for _, e := range ends[1:] {
		lo, hi = min(lo, e[0]), max(hi, e[1])
	}
	return lo, hi
}

// Clone returns a deep copy.
func (im *Image) Clone() *Image {
	c := *im
	c.Pix = append([]int32(nil), im.Pix...)
	return &c
}

// RawBytes is the canonical byte form of the samples: one byte each for 8-bit
// images, two little-endian bytes (two's complement when signed) for 16-bit.
// Exact restore is judged on the SHA-256 of these bytes.
func (im *Image) RawBytes() []byte {
	if im.BitsAllocated == 8 {
		b := make([]byte, len(im.Pix))
		for i, v := range im.Pix {
			b[i] = byte(v)
		}
		return b
	}
	b := make([]byte, 2*len(im.Pix))
	for i, v := range im.Pix {
		b[2*i] = byte(v)
		b[2*i+1] = byte(v >> 8)
	}
	return b
}

// WriteRaw writes RawBytes to w a block at a time, so hashing or sending the
// samples needs no copy of the whole image.
func (im *Image) WriteRaw(w io.Writer) error {
	var buf [32 << 10]byte
	bps := im.BytesPerSample()
	for pix := im.Pix; len(pix) > 0; {
		n := min(len(pix), len(buf)/bps)
		b := buf[:0]
		if bps == 1 {
			for _, v := range pix[:n] {
				b = append(b, byte(v))
			}
		} else {
			for _, v := range pix[:n] {
				b = append(b, byte(v), byte(v>>8))
			}
		}
		if _, err := w.Write(b); err != nil {
			return err
		}
		pix = pix[n:]
	}
	return nil
}
