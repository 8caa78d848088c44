package onnx

import (
	"fmt"
	"math"
	"math/bits"
)

// DataType is TensorProto.DataType.
type DataType int32

// The element types this package handles.
const (
	Float DataType = 1
	Uint8 DataType = 2
	Int8  DataType = 3
	Int32 DataType = 6
	Int64 DataType = 7
)

func (t DataType) String() string {
	switch t {
	case Float:
		return "float32"
	case Uint8:
		return "uint8"
	case Int8:
		return "int8"
	case Int32:
		return "int32"
	case Int64:
		return "int64"
	}
	return fmt.Sprintf("datatype(%d)", int32(t))
}

// Size is the bytes per element, 0 for types this package does not handle.
func (t DataType) Size() int {
	switch t {
	case Float, Int32:
		return 4
	case Uint8, Int8:
		return 1
	case Int64:
		return 8
	}
	return 0
}

// AttrType is AttributeProto.AttributeType.
type AttrType int32

// The attribute kinds this package handles.
const (
	AttrFloat   AttrType = 1
	AttrInt     AttrType = 2
	AttrString  AttrType = 3
	AttrTensor  AttrType = 4
	AttrFloats  AttrType = 6
	AttrInts    AttrType = 7
	AttrStrings AttrType = 8
)

// Model is a ModelProto.
type Model struct {
	IRVersion       int64
	ProducerName    string
	ProducerVersion string
	Domain          string
	ModelVersion    int64
	DocString       string
	Opsets          []Opset
	Graph           *Graph
	Metadata        []KV
}

// Opset is an OperatorSetIdProto; the empty domain is the default ONNX domain.
type Opset struct {
	Domain  string
	Version int64
}

// KV is a StringStringEntryProto.
type KV struct{ Key, Value string }

// Graph is a GraphProto.
type Graph struct {
	Name         string
	DocString    string
	Nodes        []*Node
	Initializers []*Tensor
	Inputs       []*ValueInfo
	Outputs      []*ValueInfo
	ValueInfo    []*ValueInfo
}

// Node is a NodeProto.
type Node struct {
	Name    string
	OpType  string
	Domain  string
	Inputs  []string
	Outputs []string
	Attrs   []*Attribute
}

// Attribute is an AttributeProto of one of the handled kinds.
type Attribute struct {
	Name    string
	Type    AttrType
	F       float32
	I       int64
	S       []byte
	T       *Tensor
	Floats  []float32
	Ints    []int64
	Strings [][]byte
}

// Tensor is a TensorProto with its data as little-endian raw bytes, whatever
// field it was stored in.
type Tensor struct {
	Name     string
	DataType DataType
	Dims     []int64
	Raw      []byte
}

// ValueInfo is a ValueInfoProto of tensor type. A nil Shape means the shape
// is unknown; a Dim with Param set is symbolic.
type ValueInfo struct {
	Name     string
	ElemType DataType
	Shape    []Dim
}

// Dim is one TensorShapeProto.Dimension.
type Dim struct {
	Value int64
	Param string
}

// Elements is the product of dims, or an error when a dim is negative or the
// product overflows max.
func Elements(dims []int64, max int64) (int64, error) {
	n := uint64(1)
	for _, d := range dims {
		if d < 0 {
			return 0, fmt.Errorf("onnx: negative dimension %d in %v", d, dims)
		}
		hi, lo := bits.Mul64(n, uint64(d))
		if hi != 0 || lo > uint64(max) {
			return 0, fmt.Errorf("onnx: shape %v has more than %d elements", dims, max)
		}
		n = lo
	}
	return int64(n), nil
}

// Floats decodes a float32 tensor.
func (t *Tensor) Floats() ([]float32, error) {
	if t.DataType != Float {
		return nil, fmt.Errorf("onnx: tensor %q is %v, not float32", t.Name, t.DataType)
	}
	if err := t.check(); err != nil {
		return nil, err
	}
	f := make([]float32, len(t.Raw)/4)
	for i := range f {
		b := t.Raw[4*i:]
		f[i] = math.Float32frombits(uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16 | uint32(b[3])<<24)
	}
	return f, nil
}

// check verifies that the raw data holds exactly the elements the dims say.
func (t *Tensor) check() error {
	n, err := Elements(t.Dims, math.MaxInt32)
	if err != nil {
		return fmt.Errorf("onnx: tensor %q: %w", t.Name, err)
	}
	sz := t.DataType.Size()
	if sz == 0 {
		return fmt.Errorf("onnx: tensor %q has unsupported type %v", t.Name, t.DataType)
	}
	if int64(len(t.Raw)) != n*int64(sz) {
		return fmt.Errorf("onnx: tensor %q of shape %v %v has %d data bytes, want %d", t.Name, t.Dims, t.DataType, len(t.Raw), n*int64(sz))
	}
	return nil
}

// FloatTensor makes a float32 tensor.
func FloatTensor(name string, dims []int64, v []float32) *Tensor {
	raw := make([]byte, 4*len(v))
	for i, f := range v {
		u := math.Float32bits(f)
		raw[4*i], raw[4*i+1], raw[4*i+2], raw[4*i+3] = byte(u), byte(u>>8), byte(u>>16), byte(u>>24)
	}
	return &Tensor{Name: name, DataType: Float, Dims: dims, Raw: raw}
}

// Int8Tensor makes an int8 tensor.
func Int8Tensor(name string, dims []int64, v []int8) *Tensor {
	raw := make([]byte, len(v))
	for i, x := range v {
		raw[i] = byte(x)
	}
	return &Tensor{Name: name, DataType: Int8, Dims: dims, Raw: raw}
}

// Uint8Tensor makes a uint8 tensor.
func Uint8Tensor(name string, dims []int64, v []uint8) *Tensor {
	return &Tensor{Name: name, DataType: Uint8, Dims: dims, Raw: append([]byte(nil), v...)}
}

// Int32Tensor makes an int32 tensor.
func Int32Tensor(name string, dims []int64, v []int32) *Tensor {
	raw := make([]byte, 4*len(v))
	for i, x := range v {
		u := uint32(x)
		raw[4*i], raw[4*i+1], raw[4*i+2], raw[4*i+3] = byte(u), byte(u>>8), byte(u>>16), byte(u>>24)
	}
	return &Tensor{Name: name, DataType: Int32, Dims: dims, Raw: raw}
}

// Int64Tensor makes an int64 tensor.
func Int64Tensor(name string, dims []int64, v []int64) *Tensor {
	raw := make([]byte, 8*len(v))
	for i, x := range v {
		u := uint64(x)
		for k := 0; k < 8; k++ {
			raw[8*i+k] = byte(u >> (8 * k))
		}
	}
	return &Tensor{Name: name, DataType: Int64, Dims: dims, Raw: raw}
}

// IntAttr, IntsAttr, FloatAttr and TensorAttr make attributes.
func IntAttr(name string, v int64) *Attribute { return &Attribute{Name: name, Type: AttrInt, I: v} }

// IntsAttr makes a list-of-integers attribute.
func IntsAttr(name string, v ...int64) *Attribute {
	return &Attribute{Name: name, Type: AttrInts, Ints: v}
}

// FloatAttr makes a float attribute.
func FloatAttr(name string, v float32) *Attribute {
	return &Attribute{Name: name, Type: AttrFloat, F: v}
}

// Attr returns the node's attribute of that name, or nil.
func (n *Node) Attr(name string) *Attribute {
	for _, a := range n.Attrs {
		if a.Name == name {
			return a
		}
	}
	return nil
}

// Initializer returns the graph's initializer of that name, or nil.
func (g *Graph) Initializer(name string) *Tensor {
	for _, t := range g.Initializers {
		if t.Name == name {
			return t
		}
	}
	return nil
}

// TensorValue makes a ValueInfo with a fixed shape.
func TensorValue(name string, t DataType, dims ...int64) *ValueInfo {
	v := &ValueInfo{Name: name, ElemType: t, Shape: make([]Dim, len(dims))}
	for i, d := range dims {
		v.Shape[i] = Dim{Value: d}
	}
	return v
}
