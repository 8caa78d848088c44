//go:build cgo

package infer

import (
	"context"
	"fmt"
	"image"
	"os"
	"sync"

	ort "github.com/yalue/onnxruntime_go"

	"edge/internal/infer/prep"
)

// Extractor turns fingerprint images into feature vectors with one model on
// one ONNX Runtime session. It is safe for concurrent use; calls are
// serialised because the session's input and output buffers are shared.
type Extractor struct {
	rt     *Runtime
	ownsRT bool
	model  *Model

	mu       sync.Mutex
	sess     *ort.AdvancedSession
	in, out  *ort.Tensor[float32]
	provider string
}

// Open loads the library (see LibraryPath), the model (DefaultModel when
// opts.ModelPath is empty) and makes a session on the first execution
// provider that works. The returned Extractor owns the runtime; Close
// releases both.
func Open(ctx context.Context, opts Options) (*Extractor, error) {
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
	e, err := OpenWith(ctx, rt, opts)
	if err != nil {
		rt.Close()
		return nil, err
	}
	e.ownsRT = true
	return e, nil
}

// OpenWith makes an Extractor on a runtime the caller keeps, so several
// models can share the one per-process ONNX Runtime.
func OpenWith(ctx context.Context, rt *Runtime, opts Options) (*Extractor, error) {
	mp := opts.ModelPath
	if mp == "" {
		mp = DefaultModel
	}
	m, err := ReadModel(mp)
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return newExtractor(rt, m, opts)
}

func newExtractor(rt *Runtime, m *Model, opts Options) (*Extractor, error) {
	return newExtractorConfig(rt, m, sessionConfig{threads: opts.threads(), providers: opts.providers(), log: opts.Logger})
}

func newExtractorConfig(rt *Runtime, m *Model, cfg sessionConfig) (*Extractor, error) {
	s := int64(m.Size)
	in, err := ort.NewEmptyTensor[float32](ort.NewShape(1, 3, s, s))
	if err != nil {
		return nil, fmt.Errorf("infer: input tensor: %w", err)
	}
	// A model declaring [1 N 1 1] gets a tensor of its own shape; the data
	// is the same N values.
	out, err := ort.NewEmptyTensor[float32](ort.NewShape(m.OutShape...))
	if err != nil {
		in.Destroy()
		return nil, fmt.Errorf("infer: output tensor: %w", err)
	}
	outV := ort.Value(out)
	sess, prov, err := newSession(rt, cfg, func(o *ort.SessionOptions) (*ort.AdvancedSession, error) {
		return ort.NewAdvancedSessionWithONNXData(m.Bytes, []string{m.Input}, []string{m.Output},
			[]ort.Value{in}, []ort.Value{outV}, o)
	})
	if err != nil {
		in.Destroy()
		out.Destroy()
		return nil, fmt.Errorf("%w (model %s)", err, m.Path)
	}
	// The bytes were copied into the session; keep only what identifies them.
	m.Bytes = nil
	return &Extractor{rt: rt, model: m, sess: sess, in: in, out: out, provider: prov}, nil
}

// Features runs the network on one print. The result has Len values.
func (e *Extractor) Features(ctx context.Context, img image.Image) ([]float32, error) {
	t, err := prep.Tensor(img, e.model.Size)
	if err != nil {
		return nil, err
	}
	return e.run(ctx, t)
}

// FeaturesFile decodes an image file and runs the network on it.
func (e *Extractor) FeaturesFile(ctx context.Context, path string) ([]float32, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("infer: fingerprint: %w", err)
	}
	defer f.Close()
	img, err := prep.Decode(f)
	if err != nil {
		return nil, fmt.Errorf("%w (in %s)", err, path)
	}
	return e.Features(ctx, img)
}

// run feeds one prepared input tensor; the session is stopped if ctx ends.
func (e *Extractor) run(ctx context.Context, t []float32) ([]float32, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.sess == nil {
		return nil, fmt.Errorf("infer: extractor is closed")
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	copy(e.in.GetData(), t)
	ro, err := ort.NewRunOptions()
	if err != nil {
		return nil, fmt.Errorf("infer: run options: %w", err)
	}
	defer ro.Destroy()
	stop := context.AfterFunc(ctx, func() { ro.Terminate() })
	err = e.sess.RunWithOptions(ro)
	stop()
	if err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("infer: run stopped: %w", ctx.Err())
		}
		return nil, fmt.Errorf("infer: run %s: %w", e.model.Path, err)
	}
	return append([]float32(nil), e.out.GetData()...), nil
}

// ModelHash is the SHA-256 of the model file.
func (e *Extractor) ModelHash() [32]byte { return e.model.Hash }

// Provider is the execution provider in use (cpu, xnnpack, cuda, …).
func (e *Extractor) Provider() string { return e.provider }

// Len is the number of features per print (2048 for ResNet152).
func (e *Extractor) Len() int { return e.model.Len }

// Runtime is the ONNX Runtime the extractor runs on.
func (e *Extractor) Runtime() *Runtime { return e.rt }

// Close releases the session and, when Open made it, the runtime.
func (e *Extractor) Close() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.sess == nil {
		return nil
	}
	err := e.sess.Destroy()
	e.in.Destroy()
	e.out.Destroy()
	e.sess = nil
	if e.ownsRT {
		if cerr := e.rt.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		return fmt.Errorf("infer: close: %w", err)
	}
	return nil
}
