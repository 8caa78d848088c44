//go:build cgo

package infer

import (
	"context"

	ort "github.com/yalue/onnxruntime_go"

	"edge/internal/infer/onnx"
)

// Info describes the ONNX Runtime a device would use.
type Info struct {
	Library   string
	Version   string
	Available []string // ONNX Runtime's names for the providers compiled in
	Provider  string   // the one chosen from Options' list
}

// Probe loads the library Options point at and picks a provider the way Open
// does, on a one-node model, without needing the feature model.
func Probe(ctx context.Context, opts Options) (*Info, error) {
	if err := CheckProviders(opts.providers()); err != nil {
		return nil, err
	}
	path, err := LibraryPath(opts.ORTLib)
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	rt, err := LoadRuntime(path, opts.logger())
	if err != nil {
		return nil, err
	}
	defer rt.Close()
	g := &onnx.Graph{
		Name:    "probe",
		Nodes:   []*onnx.Node{{Name: "relu", OpType: "Relu", Inputs: []string{"x"}, Outputs: []string{"y"}}},
		Inputs:  []*onnx.ValueInfo{onnx.TensorValue("x", onnx.Float, 1, 8)},
		Outputs: []*onnx.ValueInfo{onnx.TensorValue("y", onnx.Float, 1, 8)},
	}
	model := (&onnx.Model{IRVersion: 8, ProducerName: "edge", Opsets: []onnx.Opset{{Version: 13}}, Graph: g}).Marshal()
	cfg := sessionConfig{threads: opts.threads(), providers: opts.providers()}
	sess, prov, err := newSession(rt, cfg, func(o *ort.SessionOptions) (*ort.DynamicAdvancedSession, error) {
		return ort.NewDynamicAdvancedSessionWithONNXData(model, []string{"x"}, []string{"y"}, o)
	})
	if err != nil {
		return nil, err
	}
	sess.Destroy()
	return &Info{Library: path, Version: rt.Version(), Available: rt.Available(), Provider: prov}, nil
}
