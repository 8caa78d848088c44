package quant

import (
	"fmt"
	"math"
	"slices"

	"edge/internal/infer/onnx"
)

// Range is the smallest and largest value a tensor took during calibration.
type Range struct{ Min, Max float32 }

// Observe widens r to cover v. Starting from the zero Range is right: the
// quantized range always includes 0 anyway.
func (r *Range) Observe(v []float32) {
	for _, x := range v {
		r.Min, r.Max = min(r.Min, x), max(r.Max, x)
	}
}

type kind int

const (
	plain    kind = iota // Q/DQ after the tensor's producer
	reluFold             // the Relu producing it is dropped; Q/DQ on the Relu's input
	sameAsIn             // a MaxPool output: its input's parameters
)

type point struct {
	name   string // the tensor the readers read
	kind   kind
	source string // the tensor Q reads: name, or the dropped Relu's input
	relu   *onnx.Node
	after  *onnx.Node // the node after which Q/DQ go; nil for a graph input
}

type analysis struct {
	g         *onnx.Graph
	producer  map[string]*onnx.Node
	consumers map[string][]*onnx.Node
	outputs   map[string]bool
	points    []*point
	byName    map[string]*point
}

// quantReader reports whether n reads input i as a quantized activation.
func (a *analysis) quantReader(n *onnx.Node, i int) bool {
	switch n.OpType {
	case "Conv", "MaxPool", "GlobalAveragePool":
		return i == 0 && n.Domain == ""
	case "Add":
		return n.Domain == "" && len(n.Inputs) == 2 &&
			a.g.Initializer(n.Inputs[0]) == nil && a.g.Initializer(n.Inputs[1]) == nil
	}
	return false
}

// ops whose meaning is the same from opset 9 to 13, so an older model
// using only these can be declared opset 13, which per-channel QDQ needs.
var stableOps = map[string]bool{
	"Conv": true, "Relu": true, "Add": true, "MaxPool": true, "GlobalAveragePool": true,
	"AveragePool": true, "Flatten": true, "Reshape": true, "Gemm": true, "Constant": true,
	"Identity": true, "BatchNormalization": true,
}

func analyse(m *onnx.Model) (*analysis, error) {
	if m.Graph == nil {
		return nil, fmt.Errorf("quant: model has no graph")
	}
	g := m.Graph
	a := &analysis{g: g, producer: map[string]*onnx.Node{}, consumers: map[string][]*onnx.Node{},
		outputs: map[string]bool{}, byName: map[string]*point{}}
	for _, n := range g.Nodes {
		if n.OpType == "BatchNormalization" {
			return nil, fmt.Errorf("quant: node %q is a BatchNormalization; export the model in eval mode with batch norm folded (torch.onnx.export does so by default)", n.Name)
		}
		for _, o := range n.Outputs {
			a.producer[o] = n
		}
		for _, in := range n.Inputs {
			a.consumers[in] = append(a.consumers[in], n)
		}
	}
	for _, o := range g.Outputs {
		a.outputs[o.Name] = true
	}
	inputs := map[string]bool{}
	for _, v := range g.Inputs {
		inputs[v.Name] = true
	}
	for _, n := range g.Nodes {
		for i, t := range n.Inputs {
			if t == "" || !a.quantReader(n, i) || a.byName[t] != nil || g.Initializer(t) != nil {
				continue
			}
			p := &point{name: t, kind: plain, source: t, after: a.producer[t]}
			if p.after == nil && !inputs[t] {
				return nil, fmt.Errorf("quant: tensor %q read by %q has no producer", t, n.Name)
			}
			if pr := p.after; pr != nil {
				switch pr.OpType {
				case "Relu":
					if r := pr.Inputs[0]; a.foldable(t, r) {
						p.kind, p.source, p.relu, p.after = reluFold, r, pr, a.producer[r]
					}
				case "MaxPool":
					if a.byName[pr.Inputs[0]] != nil {
						p.kind = sameAsIn
					}
				}
			}
			a.points = append(a.points, p)
			a.byName[t] = p
		}
	}
	return a, nil
}

// foldable: the Relu output t and its input r can merge into one uint8
// tensor with zero point 0 — r comes from a Conv or Add and goes nowhere
// else, and every reader of t reads it quantized.
func (a *analysis) foldable(t, r string) bool {
	pr := a.producer[r]
	if pr == nil || (pr.OpType != "Conv" && pr.OpType != "Add") || len(a.consumers[r]) != 1 || a.outputs[r] || a.outputs[t] {
		return false
	}
	for _, c := range a.consumers[t] {
		ok := false
		for i, in := range c.Inputs {
			if in == t && a.quantReader(c, i) {
				ok = true
			}
		}
		if !ok {
			return false
		}
	}
	return true
}

// Points lists the tensors whose value ranges Quantize needs, in graph order.
func Points(m *onnx.Model) ([]string, error) {
	a, err := analyse(m)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, p := range a.points {
		if p.kind != sameAsIn {
			names = append(names, p.name)
		}
	}
	return names, nil
}

// CalibrationModel is m with the named tensors added as float outputs after
// its own, so one run yields all of them.
func CalibrationModel(m *onnx.Model, names []string) *onnx.Model {
	c := *m
	g := *m.Graph
	g.Outputs = slices.Clone(g.Outputs)
	for _, n := range names {
		g.Outputs = append(g.Outputs, &onnx.ValueInfo{Name: n, ElemType: onnx.Float})
	}
	c.Graph = &g
	return &c
}

type qparams struct {
	scale float32
	zp    uint8
}

// activation chooses uint8 parameters covering r and 0, as the integer
// kernels need 0 to be exactly representable (padding, ReLU).
func activation(r Range) qparams {
	lo, hi := float64(min(r.Min, 0)), float64(max(r.Max, 0))
	if hi-lo < 1e-12 {
		hi = lo + 1e-12
	}
	s := float32((hi - lo) / 255)
	zp := math.RoundToEven(-lo / float64(s))
	return qparams{scale: s, zp: uint8(min(max(zp, 0), 255))}
}

// Quantize rewrites an fp32 model into QDQ int8 with the given ranges (one
// per name from Points). note goes into the model's metadata to say what
// the calibration was.
func Quantize(m *onnx.Model, ranges map[string]Range, note string) (*onnx.Model, error) {
	a, err := analyse(m)
	if err != nil {
		return nil, err
	}
	out := *m
	opset := int64(0)
	out.Opsets = nil
	for _, o := range m.Opsets {
		if o.Domain == "" || o.Domain == "ai.onnx" {
			opset = o.Version
			continue
		}
		out.Opsets = append(out.Opsets, o)
	}
	if opset < 13 {
		for _, n := range m.Graph.Nodes {
			if !stableOps[n.OpType] || n.Domain != "" {
				return nil, fmt.Errorf("quant: model is opset %d and uses %q, whose meaning changed by opset 13; export it with opset 13 or later", opset, n.OpType)
			}
		}
		opset = 13
	}
	out.Opsets = append([]onnx.Opset{{Version: opset}}, out.Opsets...)
	out.Metadata = append(slices.Clone(m.Metadata), onnx.KV{Key: "edge.quantization", Value: "int8 QDQ: per-channel symmetric 7-bit int8 weights, uint8 activations; " + note})

	g := m.Graph
	ng := &onnx.Graph{Name: g.Name, DocString: g.DocString, Inputs: g.Inputs, Outputs: g.Outputs, ValueInfo: g.ValueInfo}
	params := map[string]qparams{}
	// rename maps a point to the DQ output its quantized readers use.
	rename := map[string]string{}
	usedInit := map[string]bool{}

	emitQDQ := func(p *point) error {
		var q qparams
		switch p.kind {
		case sameAsIn:
			in := p.after.Inputs[0]
			qi, ok := params[in]
			if !ok {
				return fmt.Errorf("quant: MaxPool %q input %q is not quantized before it", p.after.Name, in)
			}
			q = qi
		default:
			r, ok := ranges[p.name]
			if !ok {
				return fmt.Errorf("quant: no calibration range for %q", p.name)
			}
			if math.IsNaN(float64(r.Min)) || math.IsNaN(float64(r.Max)) || math.IsInf(float64(r.Min), 0) || math.IsInf(float64(r.Max), 0) || r.Min > r.Max {
				return fmt.Errorf("quant: calibration range of %q is [%v, %v]", p.name, r.Min, r.Max)
			}
			if p.kind == reluFold {
				r.Min = 0
			}
			q = activation(r)
		}
		params[p.name] = q
		base := p.name
		ng.Initializers = append(ng.Initializers,
			onnx.FloatTensor(base+"_scale", nil, []float32{q.scale}),
			onnx.Uint8Tensor(base+"_zero_point", nil, []uint8{q.zp}))
		ng.Nodes = append(ng.Nodes,
			&onnx.Node{Name: base + "_QuantizeLinear", OpType: "QuantizeLinear",
				Inputs: []string{p.source, base + "_scale", base + "_zero_point"}, Outputs: []string{base + "_quantized"}},
			&onnx.Node{Name: base + "_DequantizeLinear", OpType: "DequantizeLinear",
				Inputs: []string{base + "_quantized", base + "_scale", base + "_zero_point"}, Outputs: []string{base + "_dequantized"}})
		rename[p.name] = base + "_dequantized"
		return nil
	}

	// Points on graph inputs go first; the others right after their source's producer.
	after := map[*onnx.Node][]*point{}
	for _, p := range a.points {
		if p.after == nil {
			if err := emitQDQ(p); err != nil {
				return nil, err
			}
			continue
		}
		after[p.after] = append(after[p.after], p)
	}
	dropped := map[*onnx.Node]bool{}
	for _, p := range a.points {
		if p.relu != nil {
			dropped[p.relu] = true
		}
	}
	for _, n := range g.Nodes {
		if dropped[n] {
			continue
		}
		nn := *n
		nn.Inputs = slices.Clone(n.Inputs)
		for i, t := range nn.Inputs {
			if r, ok := rename[t]; ok && a.quantReader(n, i) {
				nn.Inputs[i] = r
			}
		}
		if n.OpType == "Conv" && n.Domain == "" {
			if err := quantizeConv(g, ng, &nn, params, usedInit); err != nil {
				return nil, err
			}
		}
		ng.Nodes = append(ng.Nodes, &nn)
		for _, p := range after[n] {
			if err := emitQDQ(p); err != nil {
				return nil, err
			}
		}
	}
	// Float initializers still read by some node are kept; conv weights and
	// biases that were replaced are not.
	reads := map[string]bool{}
	for _, n := range ng.Nodes {
		for _, in := range n.Inputs {
			reads[in] = true
		}
	}
	var kept []*onnx.Tensor
	for _, t := range g.Initializers {
		if reads[t.Name] && !usedInit[t.Name] {
			kept = append(kept, t)
		}
	}
	ng.Initializers = append(kept, ng.Initializers...)
	// An input list that named initializers (old exporters) must not name removed ones.
	var ins []*onnx.ValueInfo
	for _, v := range g.Inputs {
		if g.Initializer(v.Name) == nil || (reads[v.Name] && !usedInit[v.Name]) {
			ins = append(ins, v)
		}
	}
	ng.Inputs = ins
	out.Graph = ng
	return &out, nil
}

// quantizeConv replaces n's float weight and bias by int8/int32 tensors
// behind DequantizeLinear nodes, appended to ng before n.
func quantizeConv(g, ng *onnx.Graph, n *onnx.Node, params map[string]qparams, used map[string]bool) error {
	if len(n.Inputs) < 2 {
		return fmt.Errorf("quant: conv %q has no weight", n.Name)
	}
	wt := g.Initializer(n.Inputs[1])
	if wt == nil || wt.DataType != onnx.Float || len(wt.Dims) != 4 || wt.Dims[0] < 1 {
		return fmt.Errorf("quant: conv %q weight %q is not a float32 4-D initializer", n.Name, n.Inputs[1])
	}
	w, err := wt.Floats()
	if err != nil {
		return err
	}
	src := n.Inputs[0]
	const dq = "_dequantized"
	if len(src) < len(dq) || src[len(src)-len(dq):] != dq {
		return fmt.Errorf("quant: conv %q input %q is not quantized", n.Name, src)
	}
	xq, ok := params[src[:len(src)-len(dq)]]
	if !ok {
		return fmt.Errorf("quant: conv %q input %q has no parameters", n.Name, src)
	}
	oc := int(wt.Dims[0])
	per := len(w) / oc
	ws := make([]float32, oc)
	wq := make([]int8, len(w))
	for c := 0; c < oc; c++ {
		var m float64
		for _, v := range w[c*per : (c+1)*per] {
			m = max(m, math.Abs(float64(v)))
		}
		s := float32(m / weightMax)
		if s == 0 {
			s = 1
		}
		ws[c] = s
		for i, v := range w[c*per : (c+1)*per] {
			q := math.RoundToEven(float64(v) / float64(s))
			wq[c*per+i] = int8(min(max(q, -weightMax), weightMax))
		}
	}
	name := wt.Name
	used[wt.Name] = true
	ng.Initializers = append(ng.Initializers,
		onnx.Int8Tensor(name+"_quantized", wt.Dims, wq),
		onnx.FloatTensor(name+"_scale", []int64{int64(oc)}, ws),
		onnx.Int8Tensor(name+"_zero_point", []int64{int64(oc)}, make([]int8, oc)))
	ng.Nodes = append(ng.Nodes, &onnx.Node{Name: name + "_DequantizeLinear", OpType: "DequantizeLinear",
		Inputs:  []string{name + "_quantized", name + "_scale", name + "_zero_point"},
		Outputs: []string{name + dq}, Attrs: []*onnx.Attribute{onnx.IntAttr("axis", 0)}})
	n.Inputs[1] = name + dq
	if len(n.Inputs) < 3 || n.Inputs[2] == "" {
		return nil
	}
	bt := g.Initializer(n.Inputs[2])
	if bt == nil {
		return fmt.Errorf("quant: conv %q bias %q is not an initializer", n.Name, n.Inputs[2])
	}
	b, err := bt.Floats()
	if err != nil {
		return err
	}
	if len(b) != oc {
		return fmt.Errorf("quant: conv %q bias has %d values for %d channels", n.Name, len(b), oc)
	}
	bs := make([]float32, oc)
	bq := make([]int32, oc)
	for c := range b {
		bs[c] = xq.scale * ws[c]
		q := math.RoundToEven(float64(b[c]) / float64(bs[c]))
		bq[c] = int32(min(max(q, math.MinInt32), math.MaxInt32))
	}
	bn := bt.Name
	used[bt.Name] = true
	ng.Initializers = append(ng.Initializers,
		onnx.Int32Tensor(bn+"_quantized", []int64{int64(oc)}, bq),
		onnx.FloatTensor(bn+"_scale", []int64{int64(oc)}, bs),
		onnx.Int32Tensor(bn+"_zero_point", []int64{int64(oc)}, make([]int32, oc)))
	ng.Nodes = append(ng.Nodes, &onnx.Node{Name: bn + "_DequantizeLinear", OpType: "DequantizeLinear",
		Inputs:  []string{bn + "_quantized", bn + "_scale", bn + "_zero_point"},
		Outputs: []string{bn + dq}, Attrs: []*onnx.Attribute{onnx.IntAttr("axis", 0)}})
	n.Inputs[2] = bn + dq
	return nil
}

// weightMax is the largest quantized weight magnitude: 7 bits, not 8. On x86
// without VNNI the u8s8 kernels multiply pairs with vpmaddubsw, whose int16
// sum of two uint8×int8 products saturates once both weights pass 64 in
// magnitude; with 7-bit weights it cannot, at the cost of half a bit of
// weight precision everywhere (ONNX Runtime's reduce_range).
const weightMax = 63
