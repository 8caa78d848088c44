package onnx

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"

	"google.golang.org/protobuf/encoding/protowire"
)

// Limits bounds what Unmarshal accepts. The zero value means DefaultLimits.
type Limits struct {
	MaxBytes    int // the whole encoded model
	MaxNodes    int
	MaxTensors  int // initializers plus tensor attributes
	MaxValues   int // inputs, outputs and value infos together
	MaxAttrs    int // per node
	MaxRank     int // dimensions of a tensor or shape
	MaxElements int64
	MaxName     int // bytes in a name, op type or string attribute
}

// DefaultLimits fits any ResNet up to ResNet152 in fp32 with room to spare.
func DefaultLimits() Limits {
	return Limits{
		MaxBytes:    1 << 30,
		MaxNodes:    1 << 16,
		MaxTensors:  1 << 16,
		MaxValues:   1 << 17,
		MaxAttrs:    64,
		MaxRank:     8,
		MaxElements: 1 << 28,
		MaxName:     4096,
	}
}

// ErrFormat is wrapped by every error that comes from malformed input.
var ErrFormat = errors.New("onnx: malformed model")

type decoder struct {
	lim                    Limits
	nodes, tensors, values int
	// attrs and names count attributes and node input/output names and
	// attribute strings over the whole model: each costs a struct or a
	// slice header for as little as two bytes of input, so per-node limits
	// alone would let a small file ask for gigabytes.
	attrs, names int
}

// maxAttrsTotal and maxNamesTotal bound attrs and names, as multiples of
// MaxNodes (a ResNet has a handful of each per node).
func (d *decoder) maxAttrsTotal() int { return 4 * d.lim.MaxNodes }
func (d *decoder) maxNamesTotal() int { return 16 * d.lim.MaxNodes }

func (d *decoder) countName() error {
	if d.names++; d.names > d.maxNamesTotal() {
		return d.errf("more than %d node inputs, outputs and attribute strings", d.maxNamesTotal())
	}
	return nil
}

func (d *decoder) errf(format string, a ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrFormat}, a...)...)
}

// Unmarshal parses an ONNX model. The returned tensors' Raw slices may share
// memory with b.
func Unmarshal(b []byte, lim Limits) (*Model, error) {
	if lim == (Limits{}) {
		lim = DefaultLimits()
	}
	d := &decoder{lim: lim}
	if len(b) > lim.MaxBytes {
		return nil, d.errf("%d bytes, more than the limit %d", len(b), lim.MaxBytes)
	}
	m := &Model{}
	err := d.fields(b, "ModelProto", func(num protowire.Number, typ protowire.Type, v []byte, x uint64) error {
		switch num {
		case 1:
			return d.varint(typ, x, &m.IRVersion, "ir_version")
		case 2:
			return d.str(typ, v, &m.ProducerName, "producer_name")
		case 3:
			return d.str(typ, v, &m.ProducerVersion, "producer_version")
		case 4:
			return d.str(typ, v, &m.Domain, "domain")
		case 5:
			return d.varint(typ, x, &m.ModelVersion, "model_version")
		case 6:
			return d.str(typ, v, &m.DocString, "doc_string")
		case 7:
			if typ != protowire.BytesType {
				return d.errf("ModelProto.graph has wire type %d", typ)
			}
			if m.Graph != nil {
				return d.errf("ModelProto has two graphs")
			}
			g, err := d.graph(v)
			m.Graph = g
			return err
		case 8:
			if typ != protowire.BytesType {
				return d.errf("ModelProto.opset_import has wire type %d", typ)
			}
			var o Opset
			err := d.fields(v, "OperatorSetIdProto", func(num protowire.Number, typ protowire.Type, v []byte, x uint64) error {
				switch num {
				case 1:
					return d.str(typ, v, &o.Domain, "opset domain")
				case 2:
					return d.varint(typ, x, &o.Version, "opset version")
				}
				return nil
			})
			if len(m.Opsets) >= 64 {
				return d.errf("more than 64 opset imports")
			}
			m.Opsets = append(m.Opsets, o)
			return err
		case 14:
			if typ != protowire.BytesType {
				return d.errf("ModelProto.metadata_props has wire type %d", typ)
			}
			var kv KV
			err := d.fields(v, "StringStringEntryProto", func(num protowire.Number, typ protowire.Type, v []byte, x uint64) error {
				switch num {
				case 1:
					return d.str(typ, v, &kv.Key, "metadata key")
				case 2:
					return d.str(typ, v, &kv.Value, "metadata value")
				}
				return nil
			})
			if len(m.Metadata) >= 1024 {
				return d.errf("more than 1024 metadata entries")
			}
			m.Metadata = append(m.Metadata, kv)
			return err
		case 25:
			return fmt.Errorf("onnx: model-local functions are not supported")
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if m.Graph == nil {
		return nil, d.errf("no graph")
	}
	return m, nil
}

// fields walks the fields of one message, handing each to f with its payload:
// v for length-delimited fields, x for varint and fixed-width ones. Groups
// are refused: ONNX does not use them.
func (d *decoder) fields(b []byte, msg string, f func(num protowire.Number, typ protowire.Type, v []byte, x uint64) error) error {
	for off := 0; len(b) > 0; {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return d.errf("%s: bad tag at byte %d: %v", msg, off, protowire.ParseError(n))
		}
		b, off = b[n:], off+n
		var (
			v []byte
			x uint64
		)
		switch typ {
		case protowire.VarintType:
			x, n = protowire.ConsumeVarint(b)
		case protowire.Fixed32Type:
			var u uint32
			u, n = protowire.ConsumeFixed32(b)
			x = uint64(u)
		case protowire.Fixed64Type:
			x, n = protowire.ConsumeFixed64(b)
		case protowire.BytesType:
			v, n = protowire.ConsumeBytes(b)
		default:
			return d.errf("%s: field %d has unsupported wire type %d at byte %d", msg, num, typ, off)
		}
		if n < 0 {
			return d.errf("%s: field %d at byte %d: %v", msg, num, off, protowire.ParseError(n))
		}
		b, off = b[n:], off+n
		if err := f(num, typ, v, x); err != nil {
			return err
		}
	}
	return nil
}

func (d *decoder) str(typ protowire.Type, v []byte, dst *string, what string) error {
	if typ != protowire.BytesType {
		return d.errf("%s has wire type %d", what, typ)
	}
	if len(v) > d.lim.MaxName {
		return d.errf("%s is %d bytes, more than %d", what, len(v), d.lim.MaxName)
	}
	*dst = string(v)
	return nil
}

func (d *decoder) varint(typ protowire.Type, x uint64, dst *int64, what string) error {
	if typ != protowire.VarintType {
		return d.errf("%s has wire type %d", what, typ)
	}
	*dst = int64(x)
	return nil
}

func (d *decoder) graph(b []byte) (*Graph, error) {
	g := &Graph{}
	err := d.fields(b, "GraphProto", func(num protowire.Number, typ protowire.Type, v []byte, x uint64) error {
		if (num == 1 || num == 5 || num == 11 || num == 12 || num == 13) && typ != protowire.BytesType {
			return d.errf("GraphProto field %d has wire type %d", num, typ)
		}
		switch num {
		case 1:
			if d.nodes++; d.nodes > d.lim.MaxNodes {
				return d.errf("more than %d nodes", d.lim.MaxNodes)
			}
			n, err := d.node(v)
			g.Nodes = append(g.Nodes, n)
			return err
		case 2:
			return d.str(typ, v, &g.Name, "graph name")
		case 5:
			t, err := d.tensor(v)
			g.Initializers = append(g.Initializers, t)
			return err
		case 10:
			return d.str(typ, v, &g.DocString, "graph doc_string")
		case 11, 12, 13:
			if d.values++; d.values > d.lim.MaxValues {
				return d.errf("more than %d value infos", d.lim.MaxValues)
			}
			vi, err := d.valueInfo(v)
			switch num {
			case 11:
				g.Inputs = append(g.Inputs, vi)
			case 12:
				g.Outputs = append(g.Outputs, vi)
			default:
				g.ValueInfo = append(g.ValueInfo, vi)
			}
			return err
		case 15:
			return fmt.Errorf("onnx: sparse initializers are not supported")
		}
		return nil
	})
	return g, err
}

func (d *decoder) node(b []byte) (*Node, error) {
	n := &Node{}
	err := d.fields(b, "NodeProto", func(num protowire.Number, typ protowire.Type, v []byte, x uint64) error {
		switch num {
		case 1, 2:
			var s string
			if err := d.str(typ, v, &s, "node input/output"); err != nil {
				return err
			}
			if len(n.Inputs)+len(n.Outputs) >= 4096 {
				return d.errf("node %q has more than 4096 inputs and outputs", n.Name)
			}
			if err := d.countName(); err != nil {
				return err
			}
			if num == 1 {
				n.Inputs = append(n.Inputs, s)
			} else {
				n.Outputs = append(n.Outputs, s)
			}
		case 3:
			return d.str(typ, v, &n.Name, "node name")
		case 4:
			return d.str(typ, v, &n.OpType, "op_type")
		case 5:
			if typ != protowire.BytesType {
				return d.errf("NodeProto.attribute has wire type %d", typ)
			}
			if len(n.Attrs) >= d.lim.MaxAttrs {
				return d.errf("node %q has more than %d attributes", n.Name, d.lim.MaxAttrs)
			}
			if d.attrs++; d.attrs > d.maxAttrsTotal() {
				return d.errf("more than %d attributes in all", d.maxAttrsTotal())
			}
			a, err := d.attr(v)
			n.Attrs = append(n.Attrs, a)
			return err
		case 7:
			return d.str(typ, v, &n.Domain, "node domain")
		}
		return nil
	})
	return n, err
}

func (d *decoder) attr(b []byte) (*Attribute, error) {
	a := &Attribute{}
	err := d.fields(b, "AttributeProto", func(num protowire.Number, typ protowire.Type, v []byte, x uint64) error {
		switch num {
		case 1:
			return d.str(typ, v, &a.Name, "attribute name")
		case 2:
			if typ != protowire.Fixed32Type {
				return d.errf("attribute %q: f has wire type %d", a.Name, typ)
			}
			a.F = math.Float32frombits(uint32(x))
		case 3:
			return d.varint(typ, x, &a.I, "attribute i")
		case 4:
			if typ != protowire.BytesType || len(v) > d.lim.MaxName {
				return d.errf("attribute %q: bad s", a.Name)
			}
			a.S = v
		case 5:
			if typ != protowire.BytesType {
				return d.errf("attribute %q: t has wire type %d", a.Name, typ)
			}
			t, err := d.tensor(v)
			a.T = t
			return err
		case 7:
			var err error
			a.Floats, err = d.floats(typ, v, x, a.Floats, maxAttrValues)
			return err
		case 8:
			var err error
			a.Ints, err = d.int64s(typ, v, x, a.Ints, maxAttrValues, "attribute integers")
			return err
		case 9:
			if typ != protowire.BytesType || len(v) > d.lim.MaxName || len(a.Strings) >= 4096 {
				return d.errf("attribute %q: bad strings", a.Name)
			}
			if err := d.countName(); err != nil {
				return err
			}
			a.Strings = append(a.Strings, v)
		case 6, 10, 11, 22, 23:
			return fmt.Errorf("onnx: attribute %q holds a graph or sparse tensor, which is not supported", a.Name)
		case 20:
			var t int64
			if err := d.varint(typ, x, &t, "attribute type"); err != nil {
				return err
			}
			a.Type = AttrType(t)
		}
		return nil
	})
	if err == nil && (a.Type < AttrFloat || a.Type > AttrStrings || a.Type == 5) {
		err = d.errf("attribute %q has unsupported type %d", a.Name, a.Type)
	}
	return a, err
}

func (d *decoder) floats(typ protowire.Type, v []byte, x uint64, dst []float32, max int64) ([]float32, error) {
	switch typ {
	case protowire.Fixed32Type:
		if int64(len(dst)) >= max {
			return nil, d.errf("more than %d floats", max)
		}
		return append(dst, math.Float32frombits(uint32(x))), nil
	case protowire.BytesType:
		if len(v)%4 != 0 {
			return nil, d.errf("packed floats of %d bytes", len(v))
		}
		if int64(len(dst)+len(v)/4) > max {
			return nil, d.errf("more than %d floats", max)
		}
		dst = slices.Grow(dst, len(v)/4)
		for i := 0; i < len(v); i += 4 {
			dst = append(dst, math.Float32frombits(uint32(v[i])|uint32(v[i+1])<<8|uint32(v[i+2])<<16|uint32(v[i+3])<<24))
		}
		return dst, nil
	}
	return nil, d.errf("floats with wire type %d", typ)
}

// int64s appends the integers of one int64 field occurrence to dst,
// refusing to hold more than max in all. A packed field's count is taken
// from its bytes (one terminal byte per varint) before anything grows, so a
// field of n bytes costs at most n values and only when max allows them.
func (d *decoder) int64s(typ protowire.Type, v []byte, x uint64, dst []int64, max int64, what string) ([]int64, error) {
	switch typ {
	case protowire.VarintType:
		if int64(len(dst)) >= max {
			return nil, d.errf("more than %d %s", max, what)
		}
		return append(dst, int64(x)), nil
	case protowire.BytesType:
		n := packedVarints(v)
		if int64(len(dst))+int64(n) > max {
			return nil, d.errf("more than %d %s (%d more in a packed field)", max, what, n)
		}
		dst = slices.Grow(dst, n)
		for len(v) > 0 {
			u, k := protowire.ConsumeVarint(v)
			if k < 0 {
				return nil, d.errf("packed %s: %v", what, protowire.ParseError(k))
			}
			dst = append(dst, int64(u))
			v = v[k:]
		}
		return dst, nil
	}
	return nil, d.errf("%s with wire type %d", what, typ)
}

// packedVarints counts the varints in a packed field: the bytes without
// the continuation bit end one each.
func packedVarints(v []byte) int {
	n := 0
	for _, b := range v {
		if b < 0x80 {
			n++
		}
	}
	return n
}

// maxAttrValues bounds the ints or floats of one attribute: kernel shapes,
// pads and strides have a handful.
const maxAttrValues = 4096

func (d *decoder) tensor(b []byte) (*Tensor, error) {
	if d.tensors++; d.tensors > d.lim.MaxTensors {
		return nil, d.errf("more than %d tensors", d.lim.MaxTensors)
	}
	t := &Tensor{}
	var (
		hasRaw   bool
		nFloats  int64 // float_data values
		nInts    int64 // int32_data or int64_data values
		intsFrom protowire.Number
	)
	// The first pass reads the header fields and only counts the typed
	// data; the data are decoded in a second pass, once the count has been
	// checked against the shape, straight into a buffer of the tensor's own
	// size. A hostile file thus never makes the decoder hold more than the
	// tensor it declares, which Elements bounds.
	err := d.fields(b, "TensorProto", func(num protowire.Number, typ protowire.Type, v []byte, x uint64) error {
		var err error
		switch num {
		case 1:
			t.Dims, err = d.int64s(typ, v, x, t.Dims, int64(d.lim.MaxRank), "dimensions")
		case 2:
			var dt int64
			err = d.varint(typ, x, &dt, "data_type")
			t.DataType = DataType(dt)
		case 4:
			switch typ {
			case protowire.Fixed32Type:
				nFloats++
			case protowire.BytesType:
				if len(v)%4 != 0 {
					return d.errf("tensor %q: packed floats of %d bytes", t.Name, len(v))
				}
				nFloats += int64(len(v) / 4)
			default:
				return d.errf("tensor %q: floats with wire type %d", t.Name, typ)
			}
		case 5, 7:
			if intsFrom != 0 && intsFrom != num {
				return d.errf("tensor %q has both int32_data and int64_data", t.Name)
			}
			intsFrom = num
			switch typ {
			case protowire.VarintType:
				nInts++
			case protowire.BytesType:
				nInts += int64(packedVarints(v))
			default:
				return d.errf("tensor %q: integers with wire type %d", t.Name, typ)
			}
		case 8:
			err = d.str(typ, v, &t.Name, "tensor name")
		case 9:
			if typ != protowire.BytesType {
				return d.errf("tensor raw_data has wire type %d", typ)
			}
			hasRaw = true
			t.Raw = v
		case 6, 10, 11:
			return fmt.Errorf("onnx: tensor %q stores string or 64-bit float data, which is not supported", t.Name)
		case 13, 14:
			return fmt.Errorf("onnx: tensor %q keeps its data in an external file, which is not supported (save the model with the data inline)", t.Name)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	n, err := Elements(t.Dims, d.lim.MaxElements)
	if err != nil {
		return nil, fmt.Errorf("%w: tensor %q: %v", ErrFormat, t.Name, err)
	}
	sz := t.DataType.Size()
	if sz == 0 {
		return nil, fmt.Errorf("onnx: tensor %q has unsupported element type %v", t.Name, t.DataType)
	}
	switch {
	case hasRaw:
		if nFloats > 0 || nInts > 0 {
			return nil, d.errf("tensor %q has raw_data and typed data", t.Name)
		}
	case nFloats > 0 || t.DataType == Float && nInts == 0:
		if t.DataType != Float || nInts > 0 {
			return nil, d.errf("tensor %q of type %v has float_data", t.Name, t.DataType)
		}
		if nFloats != n {
			return nil, d.errf("tensor %q of shape %v has %d floats, want %d", t.Name, t.Dims, nFloats, n)
		}
		if t.Raw, err = d.typedData(b, 4, n, 4); err != nil {
			return nil, err
		}
	default:
		if t.DataType == Int64 && intsFrom == 5 || t.DataType != Int64 && intsFrom == 7 {
			return nil, d.errf("tensor %q of type %v stores its data in the wrong field", t.Name, t.DataType)
		}
		if nInts != n {
			return nil, d.errf("tensor %q of shape %v %v has %d integers, want %d", t.Name, t.Dims, t.DataType, nInts, n)
		}
		if t.Raw, err = d.typedData(b, intsFrom, n, sz); err != nil {
			return nil, err
		}
	}
	if int64(len(t.Raw)) != n*int64(sz) {
		return nil, d.errf("tensor %q of shape %v %v has %d data bytes, want %d", t.Name, t.Dims, t.DataType, len(t.Raw), n*int64(sz))
	}
	return t, nil
}

// typedData is the tensor's second pass: the n values of field num (4:
// float_data, 5/7: int32_data/int64_data) of the TensorProto b, little
// endian, sz bytes each (integers keep their low sz bytes, two's
// complement). The first pass counted them; the buffer is allocated once,
// at n×sz bytes.
func (d *decoder) typedData(b []byte, num protowire.Number, n int64, sz int) ([]byte, error) {
	out := make([]byte, 0, n*int64(sz))
	err := d.fields(b, "TensorProto", func(fn protowire.Number, typ protowire.Type, v []byte, x uint64) error {
		if fn != num {
			return nil
		}
		switch {
		case num == 4 && typ == protowire.Fixed32Type:
			out = binary.LittleEndian.AppendUint32(out, uint32(x))
		case num == 4:
			out = append(out, v...)
		case typ == protowire.VarintType:
			out = appendLE(out, x, sz)
		default:
			for len(v) > 0 {
				u, k := protowire.ConsumeVarint(v)
				if k < 0 {
					return d.errf("packed integers: %v", protowire.ParseError(k))
				}
				out = appendLE(out, u, sz)
				v = v[k:]
			}
		}
		return nil
	})
	return out, err
}

// appendLE appends the low sz bytes of u, little-endian.
func appendLE(b []byte, u uint64, sz int) []byte {
	for k := 0; k < sz; k++ {
		b = append(b, byte(u>>(8*k)))
	}
	return b
}

func (d *decoder) valueInfo(b []byte) (*ValueInfo, error) {
	vi := &ValueInfo{}
	err := d.fields(b, "ValueInfoProto", func(num protowire.Number, typ protowire.Type, v []byte, x uint64) error {
		switch num {
		case 1:
			return d.str(typ, v, &vi.Name, "value name")
		case 2:
			if typ != protowire.BytesType {
				return d.errf("ValueInfoProto.type has wire type %d", typ)
			}
			return d.fields(v, "TypeProto", func(num protowire.Number, typ protowire.Type, v []byte, x uint64) error {
				switch num {
				case 1:
					if typ != protowire.BytesType {
						return d.errf("TypeProto.tensor_type has wire type %d", typ)
					}
					return d.tensorType(v, vi)
				case 4, 5, 8, 9:
					return fmt.Errorf("onnx: value %q is not a dense tensor, which is not supported", vi.Name)
				}
				return nil
			})
		}
		return nil
	})
	return vi, err
}

func (d *decoder) tensorType(b []byte, vi *ValueInfo) error {
	return d.fields(b, "TypeProto.Tensor", func(num protowire.Number, typ protowire.Type, v []byte, x uint64) error {
		switch num {
		case 1:
			var t int64
			err := d.varint(typ, x, &t, "elem_type")
			vi.ElemType = DataType(t)
			return err
		case 2:
			if typ != protowire.BytesType {
				return d.errf("shape has wire type %d", typ)
			}
			vi.Shape = []Dim{}
			return d.fields(v, "TensorShapeProto", func(num protowire.Number, typ protowire.Type, v []byte, x uint64) error {
				if num != 1 {
					return nil
				}
				if typ != protowire.BytesType {
					return d.errf("dim has wire type %d", typ)
				}
				if len(vi.Shape) >= d.lim.MaxRank {
					return d.errf("value %q has more than %d dimensions", vi.Name, d.lim.MaxRank)
				}
				var dm Dim
				err := d.fields(v, "Dimension", func(num protowire.Number, typ protowire.Type, v []byte, x uint64) error {
					switch num {
					case 1:
						return d.varint(typ, x, &dm.Value, "dim_value")
					case 2:
						return d.str(typ, v, &dm.Param, "dim_param")
					}
					return nil
				})
				vi.Shape = append(vi.Shape, dm)
				return err
			})
		}
		return nil
	})
}
