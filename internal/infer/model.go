package infer

import (
	"crypto/sha256"
	"fmt"
	"io"
	"os"
	"strings"

	"edge/internal/infer/onnx"
)

// Model is a feature-extractor model file read into memory and checked: one
// float input of shape [1, 3, S, S] and one float output of N features.
type Model struct {
	Path   string
	Bytes  []byte
	Hash   [32]byte
	Input  string
	Output string
	Size   int // S
	Len    int // N
	// OutShape is the output's declared shape with a symbolic batch as 1.
	OutShape []int64
}

// ModelHash is the SHA-256 of a model file, the value envelopes carry.
func ModelHash(path string) ([32]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return [32]byte{}, fmt.Errorf("infer: model: %w", err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return [32]byte{}, fmt.Errorf("infer: hash model %s: %w", path, err)
	}
	var s [32]byte
	h.Sum(s[:0])
	return s, nil
}

// ReadModel reads and checks a model file.
func ReadModel(path string) (*Model, error) {
	f, err := os.Open(path)
	if err != nil {
		hint := ""
		if os.IsNotExist(err) {
			hint = " (make model builds the default one, or edge model build --out " + path + ")"
		}
		return nil, fmt.Errorf("infer: model: %w%s", err, hint)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("infer: stat model %s: %w", path, err)
	}
	if st.Size() > MaxModelBytes {
		return nil, fmt.Errorf("infer: model %s is %d bytes, more than %d", path, st.Size(), MaxModelBytes)
	}
	b, err := io.ReadAll(io.LimitReader(f, MaxModelBytes+1))
	if err != nil {
		return nil, fmt.Errorf("infer: read model %s: %w", path, err)
	}
	if len(b) > MaxModelBytes {
		return nil, fmt.Errorf("infer: model %s is more than %d bytes", path, MaxModelBytes)
	}
	m, err := ParseModel(b)
	if err != nil {
		return nil, fmt.Errorf("%w (in %s)", err, path)
	}
	m.Path = path
	return m, nil
}

// ParseModel checks model bytes.
func ParseModel(b []byte) (*Model, error) {
	pm, err := onnx.Unmarshal(b, onnx.Limits{})
	if err != nil {
		return nil, fmt.Errorf("infer: model is not a readable ONNX file: %w", err)
	}
	m := &Model{Bytes: b, Hash: sha256.Sum256(b)}
	g := pm.Graph
	var ins []*onnx.ValueInfo
	for _, v := range g.Inputs {
		// Older exporters list initializers among the inputs too.
		if g.Initializer(v.Name) == nil {
			ins = append(ins, v)
		}
	}
	if len(ins) != 1 {
		return nil, fmt.Errorf("infer: model has %d inputs, want one image input", len(ins))
	}
	in := ins[0]
	if in.ElemType != onnx.Float || len(in.Shape) != 4 || !batchOne(in.Shape[0]) || in.Shape[1].Value != 3 ||
		in.Shape[2].Value != in.Shape[3].Value || in.Shape[2].Value < 32 || in.Shape[2].Value > 1024 {
		return nil, fmt.Errorf("infer: model input %q is %v %s, want float32 [1 3 S S] with S from 32 to 1024",
			in.Name, in.ElemType, shapeString(in.Shape))
	}
	if len(g.Outputs) != 1 {
		return nil, fmt.Errorf("infer: model has %d outputs, want one feature vector", len(g.Outputs))
	}
	out := g.Outputs[0]
	n := int64(1)
	for i, d := range out.Shape {
		if i == 0 && batchOne(d) {
			m.OutShape = append(m.OutShape, 1)
			continue
		}
		m.OutShape = append(m.OutShape, d.Value)
		if d.Value < 1 || d.Param != "" {
			n = 0
			break
		}
		n *= d.Value
	}
	if out.ElemType != onnx.Float || len(out.Shape) < 2 || n < 1 || n > 1<<16 {
		return nil, fmt.Errorf("infer: model output %q is %v %s, want float32 [1 N] with N fixed", out.Name, out.ElemType, shapeString(out.Shape))
	}
	m.Input, m.Output, m.Size, m.Len = in.Name, out.Name, int(in.Shape[2].Value), int(n)
	return m, nil
}

func batchOne(d onnx.Dim) bool { return d.Value == 1 || d.Param != "" }

func shapeString(s []onnx.Dim) string {
	if s == nil {
		return "of unknown shape"
	}
	p := make([]string, len(s))
	for i, d := range s {
		if d.Param != "" {
			p[i] = d.Param
		} else {
			p[i] = fmt.Sprint(d.Value)
		}
	}
	return "[" + strings.Join(p, " ") + "]"
}
