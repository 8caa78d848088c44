package medimg

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"image"
	"image/color"
	"image/png"
	"io"
)

// maxDeflateRatio is the most a deflate stream can expand (258-byte matches
// at about two bits each, 1032:1), with some slack. A PNG whose declared
// pixels need more than this many times its own size cannot be genuine, so it
// is refused before image/png allocates the whole image.
const maxDeflateRatio = 1040

// PNG colour types (PNG spec 11.2.2).
const (
	pngGray      = 0
	pngRGB       = 2
	pngPalette   = 3
	pngGrayAlpha = 4
	pngRGBA      = 6
)

// ihdr is the PNG header chunk, which the PNG spec fixes right after the
// signature. It is read here, before image/png sees the file, so that the size
// limits apply the same way on 32- and 64-bit machines, and because its depth
// and colour type say more than png.DecodeConfig does.
func ihdr(data []byte) (w, h uint64, depth, ctype int, err error) {
	const end = 8 + 4 + 4 + 13 + 4
	if len(data) < end {
		return 0, 0, 0, 0, pngError("file is truncated in its header (%d bytes)", len(data))
	}
	if binary.BigEndian.Uint32(data[8:]) != 13 || string(data[12:16]) != "IHDR" {
		return 0, 0, 0, 0, pngError("no IHDR chunk after the signature")
	}
	if got, want := crc32.ChecksumIEEE(data[12:29]), binary.BigEndian.Uint32(data[29:]); got != want {
		return 0, 0, 0, 0, pngError("IHDR checksum is %#08x, the chunk gives %#08x", want, got)
	}
	w, h = uint64(binary.BigEndian.Uint32(data[16:])), uint64(binary.BigEndian.Uint32(data[20:]))
	if w == 0 || h == 0 || w > 1<<31-1 || h > 1<<31-1 {
		return 0, 0, 0, 0, pngError("image size %d×%d", w, h)
	}
	return w, h, int(data[24]), int(data[25]), nil
}

func decodePNG(data []byte, lim Limits) (*Image, error) {
	w, h, depth, ctype, err := ihdr(data)
	if err != nil {
		return nil, err
	}
	channels, fileChannels := 1, 1
	switch ctype {
	case pngGray:
	case pngGrayAlpha:
		fileChannels = 2
	case pngRGB:
		channels, fileChannels = 3, 3
	case pngRGBA:
		channels, fileChannels = 3, 4
	case pngPalette:
		// Gray or colour is settled below, from the palette.
	default:
		return nil, pngError("colour type %d", ctype)
	}
	switch depth {
	case 1, 2, 4, 8, 16:
	default:
		return nil, pngError("bit depth %d", depth)
	}
	bits := 8
	if depth == 16 {
		bits = 16
	}
	// A palette image counts as RGB until its palette is seen.
	limitChannels := channels
	if ctype == pngPalette {
		limitChannels = 3
	}
	if n := w * h * uint64(limitChannels); n > lim.maxSamples() {
		return nil, unsupported("image size %d×%d×%d channels (%d samples, the limit is %d)", w, h, limitChannels, n, lim.maxSamples())
	}
	if raw := w * h * uint64(fileChannels*depth) / 8; raw > maxDeflateRatio*uint64(len(data)) {
		return nil, pngError("%d×%d pixels need %d bytes, more than a %d-byte file can hold", w, h, raw, len(data))
	}
	cfg, err := png.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return nil, pngLibError(err)
	}
	if ctype == pngPalette {
		pal, ok := cfg.ColorModel.(color.Palette)
		if !ok {
			return nil, pngError("palette image without a palette")
		}
		if !grayPalette(pal) {
			channels = 3
		}
	}

	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		return nil, pngLibError(err)
	}
	im := &Image{
		Width: cfg.Width, Height: cfg.Height, Frames: 1, Channels: channels,
		BitsAllocated: bits, BitsStored: bits, Photometric: Monochrome2,
	}
	if channels == 3 {
		im.Photometric = RGB
	}
	im.Pix = make([]int32, im.Samples())
	if err := fillFromPNG(im, img, cfg.ColorModel); err != nil {
		return nil, err
	}
	return im, nil
}

// pngLibError keeps image/png's classification of an error.
func pngLibError(err error) error {
	var ue png.UnsupportedError
	if errors.As(err, &ue) {
		return unsupported("PNG feature: %s", string(ue))
	}
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return pngError("file is truncated")
	}
	return pngError("%s", err.Error())
}

func grayPalette(p color.Palette) bool {
	for _, c := range p {
		n := color.NRGBAModel.Convert(c).(color.NRGBA)
		if n.R != n.G || n.G != n.B {
			return false
		}
	}
	return true
}

// fillFromPNG copies the samples of img into im.Pix. An alpha channel is
// dropped only when every pixel is opaque; anything else would lose data.
func fillFromPNG(im *Image, img image.Image, model color.Model) error {
	width, height := im.Width, im.Height
	ch := im.Channels
	transparent := func(x, y int) error {
		return pngError("pixel (%d,%d) is not opaque; images with transparency are not accepted", x, y)
	}
	notGray := func(x, y int) error {
		return pngError("pixel (%d,%d) of a gray image has different colour channels", x, y)
	}
	switch m := img.(type) {
	case *image.Gray:
		for y := 0; y < height; y++ {
			row := m.Pix[y*m.Stride : y*m.Stride+width]
			for x, v := range row {
				im.Pix[y*width+x] = int32(v)
			}
		}
	case *image.Gray16:
		for y := 0; y < height; y++ {
			row := m.Pix[y*m.Stride : y*m.Stride+2*width]
			for x := 0; x < width; x++ {
				im.Pix[y*width+x] = int32(binary.BigEndian.Uint16(row[2*x:]))
			}
		}
	case *image.RGBA, *image.NRGBA:
		// Gray, gray+alpha and RGB(A) with tRNS all come as 8-bit RGBA.
		var pix []byte
		var stride int
		if r, ok := m.(*image.RGBA); ok {
			pix, stride = r.Pix, r.Stride
		} else {
			n := m.(*image.NRGBA)
			pix, stride = n.Pix, n.Stride
		}
		for y := 0; y < height; y++ {
			row := pix[y*stride : y*stride+4*width]
			for x := 0; x < width; x++ {
				p := row[4*x : 4*x+4]
				if p[3] != 0xFF {
					return transparent(x, y)
				}
				o := (y*width + x) * ch
				if ch == 1 {
					if p[0] != p[1] || p[1] != p[2] {
						return notGray(x, y)
					}
					im.Pix[o] = int32(p[0])
					continue
				}
				im.Pix[o], im.Pix[o+1], im.Pix[o+2] = int32(p[0]), int32(p[1]), int32(p[2])
			}
		}
	case *image.NRGBA64, *image.RGBA64:
		// 16-bit RGB (opaque: RGBA64), 16-bit RGB with alpha or tRNS, and
		// 16-bit gray with alpha or tRNS (NRGBA64).
		var pix []byte
		var stride int
		if r, ok := m.(*image.RGBA64); ok {
			pix, stride = r.Pix, r.Stride
		} else {
			n := m.(*image.NRGBA64)
			pix, stride = n.Pix, n.Stride
		}
		for y := 0; y < height; y++ {
			row := pix[y*stride : y*stride+8*width]
			for x := 0; x < width; x++ {
				p := row[8*x : 8*x+8]
				if p[6] != 0xFF || p[7] != 0xFF {
					return transparent(x, y)
				}
				o := (y*width + x) * ch
				if ch == 1 {
					if !bytes.Equal(p[0:2], p[2:4]) || !bytes.Equal(p[2:4], p[4:6]) {
						return notGray(x, y)
					}
					im.Pix[o] = int32(binary.BigEndian.Uint16(p))
					continue
				}
				im.Pix[o] = int32(binary.BigEndian.Uint16(p[0:]))
				im.Pix[o+1] = int32(binary.BigEndian.Uint16(p[2:]))
				im.Pix[o+2] = int32(binary.BigEndian.Uint16(p[4:]))
			}
		}
	case *image.Paletted:
		declared, _ := model.(color.Palette)
		if len(m.Palette) > len(declared) {
			// image/png widens the palette with black for indices past its end.
			return pngError("pixel index %d is past the %d-entry palette", len(m.Palette)-1, len(declared))
		}
		entries := make([]color.NRGBA, len(m.Palette))
		for i, c := range m.Palette {
			entries[i] = color.NRGBAModel.Convert(c).(color.NRGBA)
		}
		for y := 0; y < height; y++ {
			row := m.Pix[y*m.Stride : y*m.Stride+width]
			for x, idx := range row {
				e := entries[idx]
				if e.A != 0xFF {
					return transparent(x, y)
				}
				o := (y*width + x) * ch
				if ch == 1 {
					im.Pix[o] = int32(e.R)
					continue
				}
				im.Pix[o], im.Pix[o+1], im.Pix[o+2] = int32(e.R), int32(e.G), int32(e.B)
			}
		}
	default:
		return unsupported("PNG decoded as %T", img)
	}
	return nil
}

// EncodePNG writes a one-frame image as 8- or 16-bit gray or RGB PNG. PNG has no signed samples: a signed sample is written as its two's
// complement bit pattern (−1 as 0xFFFF), so the bytes are kept but a PNG
// reader sees unsigned values. Bits Stored, MONOCHROME1 and the palette of
// PALETTE COLOR are not carried (the indices are written as gray); read back,
// the image is unsigned MONOCHROME2 or RGB with Bits Stored = Bits Allocated.
func EncodePNG(w io.Writer, im *Image) error {
	img, err := StdImage(im)
	if err != nil {
		return err
	}
	if err := png.Encode(w, img); err != nil {
		return fmt.Errorf("medimg: encode PNG: %w", err)
	}
	return nil
}
