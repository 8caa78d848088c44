package main

import (
	"context"
	"fmt"

	"edge/internal/infer/features"
)

// runFeatures: edge features --fingerprint FP --out F.f32 [--model M] [--ort-lib P] [--ep …]
func runFeatures(ctx context.Context, e env, args []string) error {
	fs := newFlags(e, "features")
	fp := fs.String("fingerprint", "", "fingerprint image: sensor capture or print (PNG, JPEG, BMP, TIFF)")
	out := fs.String("out", "", "feature file to write: 2048 little-endian float32")
	inf := addInferFlags(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := required(fs, "fingerprint", "out"); err != nil {
		return err
	}
	x, err := inf.open(ctx, e)
	if err != nil {
		return err
	}
	defer x.Close()
	v, err := x.FeaturesFile(ctx, *fp)
	if err != nil {
		return err
	}
	if err := features.WriteFeatures(*out, v); err != nil {
		return err
	}
	h := x.ModelHash()
	fmt.Fprintf(e.stdout, "%s: %d features from %s (model sha256 %x, provider %s)\n", *out, len(v), *fp, h, x.Provider())
	return nil
}
