package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"edge/internal/eval"
	"edge/internal/fsutil"
	"edge/internal/infer/features"
	"edge/internal/medimg"
	"edge/internal/protect"
)

func runEval(ctx context.Context, e env, args []string) error {
	fs := newFlags(e, "eval")
	var (
		images   = fs.String("images", "", "folder of medical images (PNG, DICOM)")
		prints   = fs.String("fingerprints", "", "folder of fingerprint images; features come from the model")
		featDir  = fs.String("features", "", "folder of feature files (.f32), used in turn")
		scheme   = fs.String("scheme", "both", "v1, paper or both")
		jsonOut  = fs.String("json", "", "write the results as JSON")
		mdOut    = fs.String("report", "", "write the tables as Markdown")
		noJPEGLS = fs.Bool("no-jpegls", false, "skip the JPEG-LS comparison even where dcmcjpls is installed")
		noJXL    = fs.Bool("no-jxl", false, "skip the JPEG XL comparison even where cjxl is installed")
		inferOpt = addInferFlags(fs)
	)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := required(fs, "images", "json", "report"); err != nil {
		return err
	}
	if (*prints == "") == (*featDir == "") {
		return fmt.Errorf("%w: give exactly one of -fingerprints and -features", errUsage)
	}
	schemes := []string{protect.SchemeV1, protect.SchemePaper}
	if *scheme != "both" {
		if err := protect.CheckScheme(*scheme); err != nil {
			return fmt.Errorf("%w: %v", errUsage, err)
		}
		schemes = []string{*scheme}
	}
	var feats [][]float32
	var err error
	if *featDir != "" {
		feats, err = readFeatureDir(*featDir)
	} else {
		feats, err = featuresOfPrints(ctx, e, *prints, inferOpt)
	}
	if err != nil {
		return err
	}
	srcs, skipped, err := loadImages(*images, feats)
	if err != nil {
		return err
	}
	for _, s := range skipped {
		fmt.Fprintf(e.stderr, "edge eval: skipping %s\n", s)
	}
	opt := eval.Options{Schemes: schemes}
	tmp, err := os.MkdirTemp("", "edge-eval")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	if !*noJXL {
		if j, ok := eval.FindJXL(tmp); ok {
			opt.JXL = j
		}
	}
	if !*noJPEGLS {
		if j, ok := eval.FindJPEGLS(tmp); ok {
			opt.JPEGLS = j
		} else {
			fmt.Fprintln(e.stderr, "edge eval: dcmcjpls not installed, JPEG-LS column left empty")
		}
	}
	rs, err := eval.Run(ctx, srcs, opt)
	if err != nil {
		return err
	}
	sums := eval.Summarise(rs)
	if err := writeJSON(*jsonOut, struct {
		Images  []*eval.ImageResult `json:"images"`
		Skipped []string            `json:"skipped,omitempty"`
		Summary []eval.Summary      `json:"summary"`
	}{rs, skipped, sums}); err != nil {
		return err
	}
	if err := fsutil.WriteFile(*mdOut, 0o600, func(w io.Writer) error {
		if len(skipped) > 0 {
			fmt.Fprintf(w, "Skipped: %s\n\n", strings.Join(skipped, "; "))
		}
		return eval.WriteMarkdown(w, rs, sums)
	}); err != nil {
		return err
	}
	failed := 0
	for _, m := range sums {
		fmt.Fprintf(e.stdout, "%-5s %d images: exact %d, PSNR mean %.2f dB (min %.2f), SSIM min %.6f, BER %g, NC %g, saving %.1f %%, smaller than PNG on %d, body/JPEG-LS %.3f\n",
			m.Scheme, m.Images, m.Exact, m.MeanPSNR, m.MinPSNR, m.MinSSIM, m.MeanBER, m.MeanNC, m.MeanSaving, m.BelowPNG, m.MeanVsJPEGLS)
		failed += m.Failed + (m.Images - m.Failed - m.Exact)
	}
	if failed > 0 {
		return fmt.Errorf("%d image(s) failed to protect or restore exactly; see %s", failed, *mdOut)
	}
	return nil
}

// loadImages reads every PNG and DICOM in dir, in name order, pairing each
// with a feature vector in turn. Files it cannot decode (a compressed
// transfer syntax, say) are reported, not fatal.
func loadImages(dir string, feats [][]float32) ([]eval.Source, []string, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, nil, err
	}
	var names []string
	for _, en := range ents {
		switch strings.ToLower(filepath.Ext(en.Name())) {
		case ".png", ".dcm", ".dicom":
			if en.Type().IsRegular() {
				names = append(names, en.Name())
			}
		}
	}
	sort.Strings(names)
	var srcs []eval.Source
	var skipped []string
	for _, n := range names {
		im, c, err := medimg.ReadFile(filepath.Join(dir, n))
		if err != nil {
			var u *medimg.UnsupportedError
			if errors.As(err, &u) {
				skipped = append(skipped, fmt.Sprintf("%s: %v", n, err))
				continue
			}
			return nil, nil, err
		}
		srcs = append(srcs, eval.Source{Name: n, Image: im, Container: c, Features: feats[len(srcs)%len(feats)]})
	}
	if len(srcs) == 0 {
		return nil, nil, fmt.Errorf("no PNG or DICOM images in %s", dir)
	}
	return srcs, skipped, nil
}

func readFeatureDir(dir string) ([][]float32, error) {
	paths, err := filepath.Glob(filepath.Join(dir, "*.f32"))
	if err != nil {
		return nil, err
	}
	sort.Strings(paths)
	var out [][]float32
	for _, p := range paths {
		f, err := features.ReadFeatures(p)
		if err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no .f32 feature files in %s", dir)
	}
	return out, nil
}
