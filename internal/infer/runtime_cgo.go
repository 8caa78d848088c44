//go:build cgo

package infer

import (
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"

	ort "github.com/yalue/onnxruntime_go"
)

// Runtime is the loaded ONNX Runtime library and its environment.
//
// onnxruntime_go keeps the library handle and the ORT environment in package
// variables: there can be one per process. Runtime is the one owner of that
// state, made once and passed to whatever creates sessions, so that the
// lifetime is explicit (Close destroys the environment and unloads the
// library) instead of hidden in an init function, and so that a second
// attempt to load another library while one is live is an error rather than
// a silent swap.
type Runtime struct {
	path string
	lib  *libInfo
	log  *slog.Logger
}

// LoadRuntime loads the library at path and initialises the environment.
func LoadRuntime(path string, log *slog.Logger) (*Runtime, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if ort.IsInitialized() {
		return nil, errors.New("infer: an ONNX Runtime is already loaded in this process; close it first")
	}
	// dlopen searches the library path for a name without a slash; an
	// absolute path means exactly the file that was checked.
	if abs, err := filepath.Abs(path); err == nil {
		path = abs
	}
	lib, err := probe(path)
	if err != nil {
		return nil, err
	}
	ort.SetSharedLibraryPath(path)
	if err := ort.InitializeEnvironment(ort.WithLogLevelError()); err != nil {
		lib.close()
		return nil, fmt.Errorf("infer: initialise ONNX Runtime %s from %s: %w", lib.version, path, err)
	}
	if err := ort.DisableTelemetry(); err != nil {
		log.Debug("onnx runtime telemetry", "err", err)
	}
	return &Runtime{path: path, lib: lib, log: log}, nil
}

// Version is the library's version string, e.g. "1.30.0".
func (r *Runtime) Version() string { return r.lib.version }

// Path is the library file.
func (r *Runtime) Path() string { return r.path }

// Available lists the execution providers compiled into the library, by
// ONNX Runtime's names (CPUExecutionProvider, …).
func (r *Runtime) Available() []string { return slices.Clone(r.lib.providers) }

// Close destroys the environment and unloads the library. Sessions made
// from it must be closed first.
func (r *Runtime) Close() error {
	if r.lib == nil {
		return nil
	}
	err := ort.DestroyEnvironment()
	r.lib.close()
	r.lib = nil
	if err != nil {
		return fmt.Errorf("infer: close ONNX Runtime: %w", err)
	}
	return nil
}

// providerName maps the short names used on the command line and in board
// profiles to ONNX Runtime's names.
var providerNames = map[string]string{
	"cpu":      "CPUExecutionProvider",
	"cuda":     "CUDAExecutionProvider",
	"tensorrt": "TensorrtExecutionProvider",
	"openvino": "OpenVINOExecutionProvider",
	"xnnpack":  "XnnpackExecutionProvider",
	"qnn":      "QNNExecutionProvider",
	"snpe":     "SNPEExecutionProvider",
	"coreml":   "CoreMLExecutionProvider",
	"directml": "DmlExecutionProvider",
	"nnapi":    "NnapiExecutionProvider",
	"acl":      "ACLExecutionProvider",
	"armnn":    "ArmNNExecutionProvider",
	"rocm":     "ROCMExecutionProvider",
	"migraphx": "MIGraphXExecutionProvider",
	"webgpu":   "WebGpuExecutionProvider",
	"vitisai":  "VitisAIExecutionProvider",
	"azure":    "AzureExecutionProvider",
}

// genericNames are the names SessionOptionsAppendExecutionProvider takes for
// the providers without a dedicated append call.
var genericNames = map[string]string{
	"xnnpack": "XNNPACK",
	"qnn":     "QNN",
	"snpe":    "SNPE",
	"webgpu":  "WebGPU",
	"vitisai": "VitisAI",
	"azure":   "AZURE",
}

// CheckProviders refuses names no ONNX Runtime build knows, which are typos
// rather than providers missing from this library.
func CheckProviders(names []string) error {
	for _, n := range names {
		if _, ok := providerNames[strings.ToLower(n)]; !ok {
			known := make([]string, 0, len(providerNames))
			for k := range providerNames {
				known = append(known, k)
			}
			slices.Sort(known)
			return fmt.Errorf("infer: unknown execution provider %q (known: %s)", n, strings.Join(known, ", "))
		}
	}
	return nil
}

// sessionConfig is what every session of the product is made with.
type sessionConfig struct {
	threads   int
	providers []string
	// optimized, when set, is where ONNX Runtime saves the graph it actually
	// runs, so tests can see which kernels the QDQ nodes became.
	optimized string
	// log gets provider fallbacks; the runtime's logger when nil.
	log *slog.Logger
}

// newSession makes a session over model bytes with the first provider in
// cfg.providers that loads, logging why each earlier one did not. build is
// called with options carrying the provider.
func newSession[S any](r *Runtime, cfg sessionConfig, build func(*ort.SessionOptions) (S, error)) (S, string, error) {
	var (
		zero    S
		reasons []string
	)
	if err := CheckProviders(cfg.providers); err != nil {
		return zero, "", err
	}
	for _, p := range cfg.providers {
		p = strings.ToLower(p)
		s, err := tryProvider(r, p, cfg, build)
		if err == nil {
			return s, p, nil
		}
		log := cfg.log
		if log == nil {
			log = r.log
		}
		log.Warn("execution provider unavailable, trying the next", "provider", p, "reason", err)
		reasons = append(reasons, p+": "+err.Error())
	}
	return zero, "", fmt.Errorf("infer: no execution provider of [%s] could be used (list cpu last to fall back to the CPU): %s",
		strings.Join(cfg.providers, ", "), strings.Join(reasons, "; "))
}

func tryProvider[S any](r *Runtime, p string, cfg sessionConfig, build func(*ort.SessionOptions) (S, error)) (S, error) {
	var zero S
	if name := providerNames[p]; !slices.Contains(r.lib.providers, name) {
		return zero, fmt.Errorf("not in ONNX Runtime %s at %s, which offers %s", r.lib.version, r.path, strings.Join(r.lib.providers, ", "))
	}
	o, err := ort.NewSessionOptions()
	if err != nil {
		return zero, fmt.Errorf("session options: %w", err)
	}
	defer o.Destroy()
	if err := o.SetIntraOpNumThreads(cfg.threads); err != nil {
		return zero, fmt.Errorf("intra-op threads %d: %w", cfg.threads, err)
	}
	if err := o.SetInterOpNumThreads(1); err != nil {
		return zero, fmt.Errorf("inter-op threads: %w", err)
	}
	if err := o.SetExecutionMode(ort.ExecutionModeSequential); err != nil {
		return zero, fmt.Errorf("execution mode: %w", err)
	}
	if cfg.optimized != "" {
		if err := o.SetOptimizedModelFilePath(cfg.optimized); err != nil {
			return zero, fmt.Errorf("optimized model path: %w", err)
		}
	}
	if err := appendProvider(o, p); err != nil {
		return zero, err
	}
	return build(o)
}

// appendProvider uses onnxruntime_go's dedicated call where there is one and
// the generic one otherwise.
func appendProvider(o *ort.SessionOptions, p string) error {
	switch p {
	case "cpu":
		return nil
	case "cuda":
		c, err := ort.NewCUDAProviderOptions()
		if err != nil {
			return fmt.Errorf("CUDA options: %w", err)
		}
		defer c.Destroy()
		return o.AppendExecutionProviderCUDA(c)
	case "tensorrt":
		t, err := ort.NewTensorRTProviderOptions()
		if err != nil {
			return fmt.Errorf("TensorRT options: %w", err)
		}
		defer t.Destroy()
		return o.AppendExecutionProviderTensorRT(t)
	case "openvino":
		return o.AppendExecutionProviderOpenVINO(map[string]string{})
	case "coreml":
		return o.AppendExecutionProviderCoreMLV2(map[string]string{})
	case "directml":
		return o.AppendExecutionProviderDirectML(0)
	}
	name, ok := genericNames[p]
	if !ok {
		return fmt.Errorf("no way to append provider %q in this build", p)
	}
	return o.AppendExecutionProvider(name, map[string]string{})
}
