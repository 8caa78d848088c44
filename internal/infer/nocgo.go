//go:build !cgo

package infer

import (
	"context"
	"errors"
	"image"
	"log/slog"

	"edge/internal/infer/onnx"
)

// errNoCgo is what every inference entry point returns in a build without
// cgo, where ONNX Runtime cannot be loaded (e.g. the 32-bit ARM build, for
// which no ONNX Runtime library exists: features come from a file there).
var errNoCgo = errors.New("infer: this edge binary was built without cgo, so it cannot load ONNX Runtime; use a feature file (--features) or a cgo build")

// Extractor is unavailable without cgo; see Open.
type Extractor struct{}

// Runtime is unavailable without cgo.
type Runtime struct{}

// LoadRuntime reports that ONNX Runtime cannot be loaded.
func LoadRuntime(string, *slog.Logger) (*Runtime, error) { return nil, errNoCgo }

// Close does nothing: LoadRuntime fails.
func (r *Runtime) Close() error { return nil }

// QuantizeModel reports that ONNX Runtime, which calibrates, cannot be loaded.
func QuantizeModel(context.Context, *Runtime, *onnx.Model, []image.Image, string, int) (*onnx.Model, error) {
	return nil, errNoCgo
}

// Open reports that ONNX Runtime cannot be loaded.
func Open(context.Context, Options) (*Extractor, error) { return nil, errNoCgo }

// Features is never reached: Open fails.
func (e *Extractor) Features(context.Context, image.Image) ([]float32, error) { return nil, errNoCgo }

// FeaturesFile is never reached: Open fails.
func (e *Extractor) FeaturesFile(context.Context, string) ([]float32, error) { return nil, errNoCgo }

// ModelHash is never reached: Open fails.
func (e *Extractor) ModelHash() [32]byte { return [32]byte{} }

// Provider is never reached: Open fails.
func (e *Extractor) Provider() string { return "" }

// Len is never reached: Open fails.
func (e *Extractor) Len() int { return 0 }

// Close does nothing.
func (e *Extractor) Close() error { return nil }

// Info describes the ONNX Runtime a device would use.
type Info struct {
	Library   string
	Version   string
	Available []string
	Provider  string
}

// Probe reports that ONNX Runtime cannot be loaded.
func Probe(context.Context, Options) (*Info, error) { return nil, errNoCgo }
