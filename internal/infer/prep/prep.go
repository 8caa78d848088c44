package prep

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	"image/color"
	"io"
	"math"

	// The formats prints arrive in.
	_ "image/jpeg"
	_ "image/png"

	_ "golang.org/x/image/bmp"
	_ "golang.org/x/image/tiff"
)

// Size is ResNet's usual input side.
const Size = 224

// Limits on accepted images.
const (
	MaxSide  = 4096
	MinSide  = 32
	MaxBytes = 64 << 20 // a 4096² 16-bit uncompressed TIFF is 32 MiB
)

// ErrNotImage is wrapped when the bytes are not an image in a known format.
var ErrNotImage = errors.New("prep: not an image")

// ImageNet statistics, the ones torchvision's ResNet weights expect.
var (
	mean = [3]float32{0.485, 0.456, 0.406}
	std  = [3]float32{0.229, 0.224, 0.225}
)

// Decode reads one image of at most MaxBytes, checking its size from the
// header before the pixels are decoded.
func Decode(r io.Reader) (image.Image, error) {
	b, err := io.ReadAll(io.LimitReader(r, MaxBytes+1))
	if err != nil {
		return nil, fmt.Errorf("prep: read image: %w", err)
	}
	if len(b) > MaxBytes {
		return nil, fmt.Errorf("prep: image file is more than %d bytes", MaxBytes)
	}
	// A PNG's size is read from its header first: on 32-bit boards Go's
	// decoder refuses a huge one as an int overflow before our limit could
	// say what is wrong.
	if w, h, ok := pngSize(b); ok {
		if err := CheckSize(w, h); err != nil {
			return nil, err
		}
	}
	cfg, format, err := image.DecodeConfig(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("%w (PNG, JPEG, BMP or TIFF expected): %v", ErrNotImage, err)
	}
	if err := CheckSize(cfg.Width, cfg.Height); err != nil {
		return nil, err
	}
	img, _, err := image.Decode(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("prep: decode %s image: %w", format, err)
	}
	if r := img.Bounds(); r.Dx() != cfg.Width || r.Dy() != cfg.Height {
		return nil, fmt.Errorf("prep: %s header says %d×%d, pixels are %d×%d", format, cfg.Width, cfg.Height, r.Dx(), r.Dy())
	}
	return img, nil
}

// CheckSize refuses images no fingerprint could be or too big to handle.
func CheckSize(w, h int) error {
	switch {
	case w < MinSide || h < MinSide:
		return fmt.Errorf("prep: %d×%d image is too small to be a fingerprint (at least %d×%d)", w, h, MinSide, MinSide)
	case w > MaxSide || h > MaxSide:
		return fmt.Errorf("prep: %d×%d image is larger than %d×%d", w, h, MaxSide, MaxSide)
	}
	return nil
}

// Tensor is the network input for img: 3·size·size float32 in NCHW order.
func Tensor(img image.Image, size int) ([]float32, error) {
	if size < 1 || size > MaxSide {
		return nil, fmt.Errorf("prep: input size %d, want 1 to %d", size, MaxSide)
	}
	g, w, h, err := Gray16(img)
	if err != nil {
		return nil, err
	}
	Stretch(g)
	sq, side := square(g, w, h)
	small := Resize(sq, side, side, size, size)
	t := make([]float32, 3*size*size)
	for c := 0; c < 3; c++ {
		plane := t[c*size*size : (c+1)*size*size]
		for i, v := range small {
			x := float32(v) / 65535
			plane[i] = (x - mean[c]) / std[c]
		}
	}
	return t, nil
}

// Gray16 converts img to 16-bit gray, row by row.
func Gray16(img image.Image) ([]uint16, int, int, error) {
	r := img.Bounds()
	w, h := r.Dx(), r.Dy()
	if err := CheckSize(w, h); err != nil {
		return nil, 0, 0, err
	}
	g := make([]uint16, w*h)
	switch m := img.(type) {
	case *image.Gray:
		for y := 0; y < h; y++ {
			row := m.Pix[y*m.Stride : y*m.Stride+w]
			for x, v := range row {
				g[y*w+x] = uint16(v) * 0x101
			}
		}
	case *image.Gray16:
		for y := 0; y < h; y++ {
			row := m.Pix[y*m.Stride : y*m.Stride+2*w]
			for x := 0; x < w; x++ {
				g[y*w+x] = uint16(row[2*x])<<8 | uint16(row[2*x+1])
			}
		}
	case *image.Paletted:
		var lut [256]uint16
		for i, c := range m.Palette {
			lut[i] = luma(c)
		}
		for y := 0; y < h; y++ {
			row := m.Pix[y*m.Stride : y*m.Stride+w]
			for x, v := range row {
				g[y*w+x] = lut[v]
			}
		}
	default:
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				g[y*w+x] = luma(img.At(r.Min.X+x, r.Min.Y+y))
			}
		}
	}
	return g, w, h, nil
}

// luma is BT.601 luma of c composited over white.
func luma(c color.Color) uint16 {
	r, gr, b, a := c.RGBA()
	// RGBA is alpha-premultiplied: adding the missing coverage as white
	// composites over paper.
	bg := 0xffff - a
	r, gr, b = r+bg, gr+bg, b+bg
	return uint16((19595*r + 38470*gr + 7471*b + 1<<15) >> 16)
}

// Stretch maps the 1st..99th percentile range of g onto 0..65535 in place.
func Stretch(g []uint16) {
	var hist [65536]uint32
	for _, v := range g {
		hist[v]++
	}
	n := uint64(len(g))
	lo := percentile(&hist, n/100)
	hi := percentile(&hist, n-1-n/100)
	if hi <= lo {
		return // a flat image has no contrast to stretch
	}
	span := uint64(hi - lo)
	for i, v := range g {
		switch {
		case v <= lo:
			g[i] = 0
		case v >= hi:
			g[i] = 65535
		default:
			g[i] = uint16((uint64(v-lo)*65535 + span/2) / span)
		}
	}
}

// percentile is the smallest value with more than k samples at or below it.
func percentile(hist *[65536]uint32, k uint64) uint16 {
	var c uint64
	for v, n := range hist {
		c += uint64(n)
		if c > k {
			return uint16(v)
		}
	}
	return 65535
}

// square centres the w×h image on a white square of the longer side.
func square(g []uint16, w, h int) ([]uint16, int) {
	if w == h {
		return g, w
	}
	s := max(w, h)
	out := make([]uint16, s*s)
	for i := range out {
		out[i] = 65535
	}
	ox, oy := (s-w)/2, (s-h)/2
	for y := 0; y < h; y++ {
		copy(out[(y+oy)*s+ox:], g[y*w:(y+1)*w])
	}
	return out, s
}

// Resize resamples src (sw×sh) to dw×dh by area averaging, one axis at a time.
func Resize(src []uint16, sw, sh, dw, dh int) []uint16 {
	tmp := make([]uint16, dw*sh)
	for y := 0; y < sh; y++ {
		resample1(src[y*sw:(y+1)*sw], 1, tmp[y*dw:(y+1)*dw], 1, sw, dw)
	}
	out := make([]uint16, dw*dh)
	for x := 0; x < dw; x++ {
		resample1(tmp[x:], dw, out[x:], dw, sh, dh)
	}
	return out
}

// resample1 resamples n samples spaced sstride apart into m spaced dstride
// apart. In a common coordinate where a source sample is m long and a
// destination sample n long, both spans are n·m; each output is the sum of
// source values times their integer overlap, divided by n, rounded.
func resample1(src []uint16, sstride int, dst []uint16, dstride int, n, m int) {
	i := 0
	for j := 0; j < m; j++ {
		lo, hi := j*n, (j+1)*n
		var acc uint64
		for i*m < hi {
			a, b := max(i*m, lo), min((i+1)*m, hi)
			acc += uint64(src[i*sstride]) * uint64(b-a)
			if (i+1)*m <= hi {
				i++
			} else {
				break
			}
		}
		dst[j*dstride] = uint16((acc + uint64(n)/2) / uint64(n))
	}
}

// Synthetic draws a fingerprint-like test image: dark ridges about 9 pixels
// apart, curving around an off-centre core, on a light background with a
// soft elliptic edge. It is integer arithmetic only, so every machine draws
// the same pixels; it stands in for real prints where none are available
// (model calibration's default, tests).
func Synthetic(w, h int, seed uint64) *image.Gray {
	img := image.NewGray(image.Rect(0, 0, w, h))
	cx, cy := w/2+int(seed%17)-8, h*2/5+int(seed/17%17)-8
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			dx, dy := int64(x-cx), int64(y-cy)
			// A skewed quadratic gives loop-like ridge lines; its square
			// root-free phase grows roughly with distance from the core.
			q := dx*dx + 2*dy*dy + dx*dy*int64(seed%3)
			r := isqrt(uint64(q)) // distance-like, in pixels
			phase := (r*256/9 + uint64(dx*16)/uint64(w+1)) % 256
			tri := phase
			if tri > 128 {
				tri = 256 - tri
			}
			v := 40 + tri*180/128 // ridges 40, valleys 220
			// Fade to background outside an ellipse covering most of the image.
			ex, ey := dx*1000/int64(w/2+1), dy*1000/int64(h/2+1)
			if e := ex*ex + ey*ey; e > 900_000 {
				v = 235
			}
			img.Pix[y*img.Stride+x] = uint8(v)
		}
	}
	return img
}

func isqrt(n uint64) uint64 {
	if n < 2 {
		return n
	}
	x := n
	y := (x + 1) / 2
	for y < x {
		x = y
		y = (x + n/x) / 2
	}
	return x
}

// pngSize reads width and height from a PNG's IHDR chunk, which the format
// puts first; ok is false for anything else.
func pngSize(b []byte) (w, h int, ok bool) {
	const sig = "\x89PNG\r\n\x1a\n"
	if len(b) < 24 || string(b[:8]) != sig || string(b[12:16]) != "IHDR" {
		return 0, 0, false
	}
	// Dimensions are 31-bit by the format; int64 keeps them whole on 32-bit.
	w64, h64 := int64(binary.BigEndian.Uint32(b[16:20])), int64(binary.BigEndian.Uint32(b[20:24]))
	if w64 > math.MaxInt32 || h64 > math.MaxInt32 {
		return math.MaxInt32, math.MaxInt32, true
	}
	return int(w64), int(h64), true
}
