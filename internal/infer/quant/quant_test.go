package quant

import (
	"math"
	"strings"
	"testing"

	"edge/internal/infer/onnx"
	"edge/internal/infer/resnet"
)

func small(t *testing.T) *onnx.Model {
	t.Helper()
	m, err := resnet.Build(resnet.Config{Blocks: [4]int{1, 2, 1, 1}, Width: 4, Size: 32, Seed: 5})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func fakeRanges(names []string) map[string]Range {
	r := map[string]Range{}
	for i, n := range names {
		r[n] = Range{Min: -float32(i%3) - 0.5, Max: float32(i%5) + 1}
	}
	return r
}

func TestQuantizeStructure(t *testing.T) {
	m := small(t)
	pts, err := Points(m)
	if err != nil {
		t.Fatal(err)
	}
	// input, stem relu, each block's relu1, relu2, conv3 and output relu,
	// and each projection shortcut's output: 5 blocks, 4 with a projection
	// (every stage's first). The max pool output needs no calibration.
	if want := 1 + 1 + 5*4 + 4; len(pts) != want {
		t.Fatalf("%d calibration points %v, want %d", len(pts), pts, want)
	}
	q, err := Quantize(m, fakeRanges(pts), "test")
	if err != nil {
		t.Fatal(err)
	}
	ops := map[string]int{}
	for _, n := range q.Graph.Nodes {
		ops[n.OpType]++
	}
	convs := 1 + 5*3 + 4
	if ops["Conv"] != convs || ops["Relu"] != 0 || ops["Add"] != 5 || ops["QuantizeLinear"] != len(pts)+1 ||
		ops["DequantizeLinear"] != len(pts)+1+2*convs {
		t.Fatalf("ops %v", ops)
	}
	// Every conv reads dequantized data, weight and bias.
	for _, n := range q.Graph.Nodes {
		if n.OpType != "Conv" {
			continue
		}
		for _, in := range n.Inputs {
			if !strings.HasSuffix(in, "_dequantized") {
				t.Fatalf("conv %s reads %q", n.Name, in)
			}
		}
	}
	// Per-channel symmetric 7-bit weights: every channel reaches ±weightMax.
	w := q.Graph.Initializer("conv1.weight_quantized")
	if w == nil || w.DataType != onnx.Int8 || len(w.Dims) != 4 {
		t.Fatalf("conv1 weight %+v", w)
	}
	per := len(w.Raw) / int(w.Dims[0])
	for c := 0; c < int(w.Dims[0]); c++ {
		m := 0
		for _, b := range w.Raw[c*per : (c+1)*per] {
			m = max(m, int(math.Abs(float64(int8(b)))))
		}
		if m != weightMax {
			t.Fatalf("channel %d max |q| %d, want %d", c, m, weightMax)
		}
	}
	// The quantized model still parses and the fp32 one is untouched.
	if _, err := onnx.Unmarshal(q.Marshal(), onnx.Limits{}); err != nil {
		t.Fatal(err)
	}
	if m.Graph.Initializer("conv1.weight") == nil || len(m.Graph.Nodes) != len(small(t).Graph.Nodes) {
		t.Fatal("Quantize changed its input")
	}
}

func TestActivationParams(t *testing.T) {
	for _, c := range []struct {
		r     Range
		scale float32
		zp    uint8
	}{
		{Range{0, 255}, 1, 0},
		{Range{-1, 1}, 2.0 / 255, 127}, // 1/float32(2/255) is just under 127.5
		{Range{2, 5.1}, 0.02, 0},       // widened to include 0
		{Range{-51, 0}, 0.2, 255},
	} {
		p := activation(c.r)
		if math.Abs(float64(p.scale-c.scale)) > 1e-6 || p.zp != c.zp {
			t.Errorf("%v: scale %v zp %d, want %v %d", c.r, p.scale, p.zp, c.scale, c.zp)
		}
	}
}

func TestQuantizeErrors(t *testing.T) {
	m := small(t)
	pts, _ := Points(m)
	r := fakeRanges(pts)
	delete(r, pts[3])
	if _, err := Quantize(m, r, ""); err == nil || !strings.Contains(err.Error(), pts[3]) {
		t.Fatalf("missing range: %v", err)
	}
	r = fakeRanges(pts)
	r[pts[0]] = Range{Min: float32(math.NaN())}
	if _, err := Quantize(m, r, ""); err == nil {
		t.Fatal("NaN range accepted")
	}
	bn := small(t)
	bn.Graph.Nodes = append(bn.Graph.Nodes, &onnx.Node{Name: "bn", OpType: "BatchNormalization"})
	if _, err := Points(bn); err == nil || !strings.Contains(err.Error(), "BatchNormalization") {
		t.Fatalf("batch norm: %v", err)
	}
	old := small(t)
	old.Opsets = []onnx.Opset{{Version: 11}}
	old.Graph.Nodes = append(old.Graph.Nodes, &onnx.Node{Name: "s", OpType: "Squeeze", Inputs: []string{"features"}, Outputs: []string{"s"}})
	if _, err := Quantize(old, fakeRanges(pts), ""); err == nil || !strings.Contains(err.Error(), "Squeeze") {
		t.Fatalf("opset 11 Squeeze: %v", err)
	}
}
