package main

import (
	"context"
	"crypto/sha256"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"

	"edge/internal/fsutil"
	"edge/internal/infer"
	"edge/internal/infer/onnx"
	"edge/internal/infer/resnet"
)

// runModel: edge model build … | edge model quantize …
func runModel(ctx context.Context, e env, args []string) error {
	if len(args) > 0 {
		switch args[0] {
		case "build":
			return runModelBuild(ctx, e, args[1:])
		case "quantize":
			return runModelQuantize(ctx, e, args[1:])
		}
	}
	return fmt.Errorf("%w: edge model build --out F [--fp32] [--seed N] [--calib DIR] | edge model quantize --in F --out F [--calib DIR]", errUsage)
}

// calibFlags are what quantization needs.
type calibFlags struct {
	calib, ortLib *string
	prints        *int
	threads       *int
}

func addCalibFlags(fs *flag.FlagSet) calibFlags {
	return calibFlags{
		calib:   fs.String("calib", "", "folder of sample prints to calibrate activations on (default: synthetic prints drawn in Go)"),
		prints:  fs.Int("calib-prints", 4, "how many prints from --calib to use"),
		ortLib:  fs.String("ort-lib", "", "ONNX Runtime shared library used for calibration"),
		threads: fs.Int("threads", 2, "ONNX Runtime threads for calibration"),
	}
}

func (c calibFlags) quantize(ctx context.Context, e env, m *onnx.Model) (*onnx.Model, error) {
	prints, err := infer.CalibrationPrints(*c.calib, *c.prints)
	if err != nil {
		return nil, err
	}
	note := fmt.Sprintf("activations calibrated by min/max over %d prints from %s", len(prints), *c.calib)
	if *c.calib == "" {
		note = fmt.Sprintf("activations calibrated by min/max over %d synthetic prints (no --calib folder given)", len(prints))
		fmt.Fprintln(e.stderr, "edge model: no --calib folder: calibrating on synthetic prints drawn in Go")
	}
	lib, err := infer.LibraryPath(*c.ortLib)
	if err != nil {
		return nil, fmt.Errorf("%w (calibration runs the fp32 model; --fp32 needs no library)", err)
	}
	rt, err := infer.LoadRuntime(lib, slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
	if err != nil {
		return nil, err
	}
	defer rt.Close()
	return infer.QuantizeModel(ctx, rt, m, prints, note, *c.threads)
}

func writeModel(e env, path string, m *onnx.Model) error {
	b := m.Marshal()
	if err := fsutil.WriteFile(path, 0o644, func(w io.Writer) error {
		_, err := w.Write(b)
		return err
	}); err != nil {
		return err
	}
	var ops = map[string]int{}
	for _, n := range m.Graph.Nodes {
		ops[n.OpType]++
	}
	fmt.Fprintf(e.stdout, "%s: %d bytes, sha256 %x; %d Conv, %d Add, %d QuantizeLinear, %d DequantizeLinear\n",
		path, len(b), sha256.Sum256(b), ops["Conv"], ops["Add"], ops["QuantizeLinear"], ops["DequantizeLinear"])
	return nil
}

func runModelBuild(ctx context.Context, e env, args []string) error {
	fs := newFlags(e, "model build")
	out := fs.String("out", "", "model file to write")
	fp32 := fs.Bool("fp32", false, "write the float model instead of the int8 one (needs no ONNX Runtime)")
	seed := fs.Uint64("seed", 1, "weight seed")
	blocks := fs.String("blocks", "3,8,36,3", "bottleneck blocks per stage (ResNet152: 3,8,36,3)")
	width := fs.Int("width", 64, "first stage width; features are 32×width")
	cf := addCalibFlags(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := required(fs, "out"); err != nil {
		return err
	}
	cfg := resnet.ResNet152(*seed)
	cfg.Width = *width
	parts := strings.Split(*blocks, ",")
	if len(parts) != 4 {
		return fmt.Errorf("%w: --blocks %q: want four numbers", errUsage, *blocks)
	}
	for i, p := range parts {
		n, err := strconv.Atoi(strings.TrimSpace(p))
		if err != nil {
			return fmt.Errorf("%w: --blocks %q: %v", errUsage, *blocks, err)
		}
		cfg.Blocks[i] = n
	}
	m, err := resnet.Build(cfg)
	if err != nil {
		return err
	}
	if !*fp32 {
		if m, err = cf.quantize(ctx, e, m); err != nil {
			return err
		}
	}
	return writeModel(e, *out, m)
}

func runModelQuantize(ctx context.Context, e env, args []string) error {
	fs := newFlags(e, "model quantize")
	in := fs.String("in", "", "fp32 ONNX model (e.g. a torchvision ResNet152 exported without its classifier)")
	out := fs.String("out", "", "int8 model file to write")
	cf := addCalibFlags(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := required(fs, "in", "out"); err != nil {
		return err
	}
	if *out == *in {
		return fmt.Errorf("%w: --out is the same file as --in", errUsage)
	}
	pm, err := infer.ReadModel(*in)
	if err != nil {
		return err
	}
	m, err := onnx.Unmarshal(pm.Bytes, onnx.Limits{})
	if err != nil {
		return fmt.Errorf("model %s: %w", *in, err)
	}
	q, err := cf.quantize(ctx, e, m)
	if err != nil {
		return err
	}
	return writeModel(e, *out, q)
}
