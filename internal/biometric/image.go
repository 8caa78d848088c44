package biometric

import (
	"fmt"
	"image"
	_ "image/jpeg" // prints arrive as PNG or JPEG
	_ "image/png"
	"io"
	"os"
)

// MaxPrintSide bounds the width and height of a print file; the largest
// sensor capture in use is 1151 pixels long.
const MaxPrintSide = 8192

// LoadImage decodes a print, checking its declared size before decoding so a
// hostile header cannot make it allocate gigabytes.
func LoadImage(path string) (image.Image, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("biometric: open print: %w", err)
	}
	defer f.Close()
	cfg, format, err := image.DecodeConfig(f)
	if err != nil {
		return nil, fmt.Errorf("biometric: print %s: %w", path, err)
	}
	if cfg.Width < 1 || cfg.Height < 1 || cfg.Width > MaxPrintSide || cfg.Height > MaxPrintSide {
		return nil, fmt.Errorf("biometric: print %s is %d×%d, want 1..%d on each side", path, cfg.Width, cfg.Height, MaxPrintSide)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, fmt.Errorf("biometric: print %s: %w", path, err)
	}
	img, _, err := image.Decode(f)
	if err != nil {
		return nil, fmt.Errorf("biometric: decode %s print %s: %w", format, path, err)
	}
	return img, nil
}
