package main

import (
	"context"
	"fmt"
	"image/png"
	"io"

	"edge/internal/fsutil"
	"edge/internal/infer/prep"
)

func runSynthPrint(_ context.Context, e env, args []string) error {
	fs := newFlags(e, "synth-print")
	out := fs.String("out", "", "PNG to write")
	w := fs.Int("width", 256, "width in pixels")
	h := fs.Int("height", 288, "height in pixels")
	seed := fs.Uint64("seed", 1, "seed: the same seed draws the same print")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := required(fs, "out"); err != nil {
		return err
	}
	if *w < 32 || *h < 32 || *w > 4096 || *h > 4096 {
		return fmt.Errorf("%w: %d×%d is outside 32×32 to 4096×4096", errUsage, *w, *h)
	}
	// The same integer-only drawing the model's calibration uses when no
	// real prints are given, so it is the same image on every architecture.
	img := prep.Synthetic(*w, *h, *seed)
	if err := fsutil.WriteFile(*out, 0o644, func(wr io.Writer) error { return png.Encode(wr, img) }); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "%s: synthetic fingerprint %d×%d, seed %d\n", *out, *w, *h, *seed)
	return nil
}
