package infer

import (
	"fmt"
	"image"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"edge/internal/infer/prep"
)

// CalibrationPrints reads up to n prints from dir (image files in name
// order), or, when dir is empty, draws n synthetic ones with prep.Synthetic
// so a model can be built where no prints are at hand.
func CalibrationPrints(dir string, n int) ([]image.Image, error) {
	if n < 1 {
		return nil, fmt.Errorf("infer: %d calibration prints", n)
	}
	if dir == "" {
		out := make([]image.Image, n)
		for i := range out {
			out[i] = prep.Synthetic(256, 288, uint64(i))
		}
		return out, nil
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("infer: calibration prints: %w", err)
	}
	var names []string
	for _, e := range ents {
		switch strings.ToLower(filepath.Ext(e.Name())) {
		case ".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff":
			if e.Type().IsRegular() {
				names = append(names, e.Name())
			}
		}
	}
	slices.Sort(names)
	if len(names) == 0 {
		return nil, fmt.Errorf("infer: no PNG, JPEG, BMP or TIFF prints in %s", dir)
	}
	// Spread the picks over the folder: consecutive names are often
	// impressions of one finger.
	var out []image.Image
	step := max(len(names)/n, 1)
	for i := 0; i < len(names) && len(out) < n; i += step {
		p := filepath.Join(dir, names[i])
		f, err := os.Open(p)
		if err != nil {
			return nil, fmt.Errorf("infer: calibration print: %w", err)
		}
		img, err := prep.Decode(f)
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("%w (in %s)", err, p)
		}
		out = append(out, img)
	}
	return out, nil
}
