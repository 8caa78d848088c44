package sim

import (
	"fmt"
	"image"
	"image/color"
	_ "image/jpeg" // prints come as PNG or JPEG
	_ "image/png"
	"os"
)

// maxPrintPixels bounds the print files the simulator decodes.
const maxPrintPixels = 1 << 24

// LoadPrint decodes a PNG or JPEG print.
func LoadPrint(path string) (image.Image, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("sim: open print: %w", err)
	}
	defer f.Close()
	cfg, _, err := image.DecodeConfig(f)
	if err != nil {
		return nil, fmt.Errorf("sim: decode print %s: %w", path, err)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 || cfg.Width*cfg.Height > maxPrintPixels {
		return nil, fmt.Errorf("sim: print %s is %d×%d, want at most %d pixels", path, cfg.Width, cfg.Height, maxPrintPixels)
	}
	if _, err := f.Seek(0, 0); err != nil {
		return nil, fmt.Errorf("sim: rewind print %s: %w", path, err)
	}
	img, _, err := image.Decode(f)
	if err != nil {
		return nil, fmt.Errorf("sim: decode print %s: %w", path, err)
	}
	return img, nil
}

// Fit centres img on a w×h white canvas, cropping what sticks out, and
// quantises each pixel's gray value v to v>>4: the 4-bit image the module
// would hold, one value (0–15) per pixel, row by row.
func Fit(img image.Image, w, h int) []byte {
	b := img.Bounds()
	// Top-left of the canvas in img's coordinates; a negative margin pads.
	x0 := b.Min.X + (b.Dx()-w)/2
	y0 := b.Min.Y + (b.Dy()-h)/2
	out := make([]byte, w*h)
	for y := range h {
		for x := range w {
			p := image.Pt(x0+x, y0+y)
			v := uint8(255)
			if p.In(b) {
				v = color.GrayModel.Convert(img.At(p.X, p.Y)).(color.Gray).Y
			}
			out[y*w+x] = v >> 4
		}
	}
	return out
}

// Pack puts two 4-bit pixels in a byte, the left one high, as UpImage sends them.
func Pack(pix []byte) []byte {
	out := make([]byte, len(pix)/2)
	for i := range out {
		out[i] = pix[2*i]<<4 | pix[2*i+1]&15
	}
	return out
}
