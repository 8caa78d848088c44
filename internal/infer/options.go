package infer

import "log/slog"

// Options configures Open.
type Options struct {
	// ModelPath is the ONNX model; DefaultModel when empty.
	ModelPath string
	// ORTLib is the ONNX Runtime library (--ort-lib, or the board's); see
	// LibraryPath for the search when empty.
	ORTLib string
	// Providers are the execution providers to try in order (cpu, xnnpack,
	// cuda, tensorrt, openvino, qnn, …): --ep, or the board's list; empty
	// means just cpu. A provider that cannot be used is logged and the next tried;
	// when none can, Open fails, so a list that must always work ends in cpu.
	Providers []string
	// Logger receives provider fallbacks; nil discards them.
	Logger *slog.Logger
	// Threads is ONNX Runtime's intra-op thread count, 2 when 0. It is fixed
	// rather than taken from the machine because the way work is split can
	// change the last bits of the features.
	Threads int
}

// DefaultModel is where make model puts the network.
const DefaultModel = "models/resnet152-int8.onnx"

// MaxModelBytes bounds a model file; fp32 ResNet152 is about 240 MB.
const MaxModelBytes = 1 << 30

func (o *Options) providers() []string {
	if len(o.Providers) > 0 {
		return o.Providers
	}
	return []string{"cpu"}
}

func (o *Options) threads() int {
	if o.Threads <= 0 {
		return 2
	}
	return o.Threads
}

func (o *Options) logger() *slog.Logger {
	if o.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return o.Logger
}
