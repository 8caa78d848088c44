package main

import (
	"context"
	"fmt"
	"log/slog"
	"strings"

	"edge/internal/boardcfg"
	"edge/internal/infer"
)

// runInfer: edge infer info [--ort-lib P] [--ep …] [--board B]
func runInfer(ctx context.Context, e env, args []string) error {
	if len(args) == 0 || args[0] != "info" {
		return fmt.Errorf("%w: edge infer info [--ort-lib P] [--ep cpu,xnnpack,…] [--board NAME]", errUsage)
	}
	fs := newFlags(e, "infer info")
	ortLib := fs.String("ort-lib", "", "ONNX Runtime shared library (default: the board's, or the project's third_party copy)")
	eps := fs.String("ep", "", "execution providers to try in order, comma separated (default: the board's, then cpu)")
	loadBoard := addBoardFlag(fs)
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	prof, err := loadBoard()
	if err != nil {
		return err
	}
	var list []string
	if *eps != "" {
		list = strings.Split(*eps, ",")
	}
	log := slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	opts, err := boardcfg.Infer(prof, infer.Options{ORTLib: *ortLib, Providers: list, Logger: log})
	if err != nil {
		return err
	}
	in, err := infer.Probe(ctx, opts)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "onnxruntime %s\nlibrary     %s\navailable   %s\nin use      %s\n",
		in.Version, in.Library, strings.Join(in.Available, ", "), in.Provider)
	return nil
}
