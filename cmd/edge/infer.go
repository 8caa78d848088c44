package main

import (
	"context"
	"fmt"
	"log/slog"
	"strings"

	"edge/board"
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
	boardName := fs.String("board", "", "board profile whose library and providers to use ("+strings.Join(board.Names(), ", ")+", or a .json file)")
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	var prof *board.Profile
	if *boardName != "" {
		p, err := board.Load(*boardName)
		if err != nil {
			return err
		}
		prof = p
	}
	var list []string
	if *eps != "" {
		list = strings.Split(*eps, ",")
	}
	log := slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	in, err := infer.Probe(ctx, infer.Options{ORTLib: *ortLib, Providers: list, Board: prof, Logger: log})
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "onnxruntime %s\nlibrary     %s\navailable   %s\nin use      %s\n",
		in.Version, in.Library, strings.Join(in.Available, ", "), in.Provider)
	return nil
}
