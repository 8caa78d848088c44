package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"edge/board"
	"edge/internal/boardcfg"
	"edge/internal/infer"
)

// inferFlags are the flags every command that runs the model shares.
type inferFlags struct {
	model, ortLib, eps *string
	board              func() (*board.Profile, error)
	fs                 *flag.FlagSet
}

func addInferFlags(fs *flag.FlagSet) inferFlags {
	return inferFlags{
		model:  fs.String("model", defaultModel, "feature model (ONNX); make model builds the default one, and a --board names its installed one"),
		ortLib: fs.String("ort-lib", "", "ONNX Runtime shared library (default: the board's, or the project's third_party copy)"),
		eps:    fs.String("ep", "", "execution providers to try in order, comma separated (default: the board's, then cpu)"),
		board:  addBoardFlag(fs),
		fs:     fs,
	}
}

const defaultModel = "models/resnet152-int8.onnx"

func (f inferFlags) open(ctx context.Context, e env) (*infer.Extractor, error) {
	var eps []string
	if *f.eps != "" {
		eps = strings.Split(*f.eps, ",")
	}
	prof, err := f.board()
	if err != nil {
		return nil, err
	}
	model := *f.model
	if prof != nil && prof.Install.Model != "" && !flagSet(f.fs, "model") {
		model = prof.Install.Model
	}
	log := slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	opts, err := boardcfg.Infer(prof, infer.Options{ModelPath: model, ORTLib: *f.ortLib, Providers: eps, Logger: log})
	if err != nil {
		return nil, err
	}
	return infer.Open(ctx, opts)
}

// featuresOfPrints runs the model over every print in dir, in name order.
func featuresOfPrints(ctx context.Context, e env, dir string, f inferFlags) ([][]float32, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var paths []string
	for _, en := range ents {
		switch strings.ToLower(filepath.Ext(en.Name())) {
		case ".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff":
			paths = append(paths, filepath.Join(dir, en.Name()))
		}
	}
	if len(paths) == 0 {
		return nil, fmt.Errorf("no fingerprint images in %s", dir)
	}
	sort.Strings(paths)
	x, err := f.open(ctx, e)
	if err != nil {
		return nil, err
	}
	defer x.Close()
	out := make([][]float32, 0, len(paths))
	for _, p := range paths {
		v, err := x.FeaturesFile(ctx, p)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}
