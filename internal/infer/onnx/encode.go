package onnx

import (
	"math"

	"google.golang.org/protobuf/encoding/protowire"
)

// Marshal encodes the model. Sizes are computed first so the result is built
// in one allocation: a full-size fp32 ResNet152 is about 240 MB and a copy per
// nesting level would triple the peak memory.
func (m *Model) Marshal() []byte {
	return m.appendTo(make([]byte, 0, m.size()))
}

// The encoders below write fields in field-number order and skip fields at
// their zero value, as protobuf encoders conventionally do; both choices are
// fixed, so equal models give equal bytes.

func sizeStr(num protowire.Number, s string) int {
	if s == "" {
		return 0
	}
	return protowire.SizeTag(num) + protowire.SizeBytes(len(s))
}

func appendStr(b []byte, num protowire.Number, s string) []byte {
	if s == "" {
		return b
	}
	b = protowire.AppendTag(b, num, protowire.BytesType)
	return protowire.AppendString(b, s)
}

func sizeVarint(num protowire.Number, v uint64) int {
	if v == 0 {
		return 0
	}
	return protowire.SizeTag(num) + protowire.SizeVarint(v)
}

func appendVarint(b []byte, num protowire.Number, v uint64) []byte {
	if v == 0 {
		return b
	}
	b = protowire.AppendTag(b, num, protowire.VarintType)
	return protowire.AppendVarint(b, v)
}

func sizeMsg(num protowire.Number, n int) int {
	return protowire.SizeTag(num) + protowire.SizeBytes(n)
}

func appendMsgHeader(b []byte, num protowire.Number, n int) []byte {
	b = protowire.AppendTag(b, num, protowire.BytesType)
	return protowire.AppendVarint(b, uint64(n))
}

func (m *Model) size() int {
	n := sizeVarint(1, uint64(m.IRVersion)) + sizeStr(2, m.ProducerName) + sizeStr(3, m.ProducerVersion) +
		sizeStr(4, m.Domain) + sizeVarint(5, uint64(m.ModelVersion)) + sizeStr(6, m.DocString)
	if m.Graph != nil {
		n += sizeMsg(7, m.Graph.size())
	}
	for _, o := range m.Opsets {
		n += sizeMsg(8, o.size())
	}
	for _, kv := range m.Metadata {
		n += sizeMsg(14, kv.size())
	}
	return n
}

func (m *Model) appendTo(b []byte) []byte {
	b = appendVarint(b, 1, uint64(m.IRVersion))
	b = appendStr(b, 2, m.ProducerName)
	b = appendStr(b, 3, m.ProducerVersion)
	b = appendStr(b, 4, m.Domain)
	b = appendVarint(b, 5, uint64(m.ModelVersion))
	b = appendStr(b, 6, m.DocString)
	if m.Graph != nil {
		b = appendMsgHeader(b, 7, m.Graph.size())
		b = m.Graph.appendTo(b)
	}
	for _, o := range m.Opsets {
		b = appendMsgHeader(b, 8, o.size())
		b = o.appendTo(b)
	}
	for _, kv := range m.Metadata {
		b = appendMsgHeader(b, 14, kv.size())
		b = kv.appendTo(b)
	}
	return b
}

func (o Opset) size() int { return sizeStr(1, o.Domain) + sizeVarint(2, uint64(o.Version)) }

func (o Opset) appendTo(b []byte) []byte {
	b = appendStr(b, 1, o.Domain)
	return appendVarint(b, 2, uint64(o.Version))
}

func (kv KV) size() int { return sizeStr(1, kv.Key) + sizeStr(2, kv.Value) }

func (kv KV) appendTo(b []byte) []byte {
	b = appendStr(b, 1, kv.Key)
	return appendStr(b, 2, kv.Value)
}

func (g *Graph) size() int {
	n := sizeStr(2, g.Name) + sizeStr(10, g.DocString)
	for _, x := range g.Nodes {
		n += sizeMsg(1, x.size())
	}
	for _, t := range g.Initializers {
		n += sizeMsg(5, t.size())
	}
	for i, vs := range [][]*ValueInfo{g.Inputs, g.Outputs, g.ValueInfo} {
		for _, v := range vs {
			n += sizeMsg(protowire.Number(11+i), v.size())
		}
	}
	return n
}

func (g *Graph) appendTo(b []byte) []byte {
	for _, x := range g.Nodes {
		b = appendMsgHeader(b, 1, x.size())
		b = x.appendTo(b)
	}
	b = appendStr(b, 2, g.Name)
	for _, t := range g.Initializers {
		b = appendMsgHeader(b, 5, t.size())
		b = t.appendTo(b)
	}
	b = appendStr(b, 10, g.DocString)
	for i, vs := range [][]*ValueInfo{g.Inputs, g.Outputs, g.ValueInfo} {
		for _, v := range vs {
			b = appendMsgHeader(b, protowire.Number(11+i), v.size())
			b = v.appendTo(b)
		}
	}
	return b
}

func (x *Node) size() int {
	n := sizeStr(3, x.Name) + sizeStr(4, x.OpType) + sizeStr(7, x.Domain)
	for _, s := range x.Inputs {
		n += protowire.SizeTag(1) + protowire.SizeBytes(len(s))
	}
	for _, s := range x.Outputs {
		n += protowire.SizeTag(2) + protowire.SizeBytes(len(s))
	}
	for _, a := range x.Attrs {
		n += sizeMsg(5, a.size())
	}
	return n
}

func (x *Node) appendTo(b []byte) []byte {
	// Inputs may be "" (an omitted optional input) and must still be written.
	for _, s := range x.Inputs {
		b = protowire.AppendTag(b, 1, protowire.BytesType)
		b = protowire.AppendString(b, s)
	}
	for _, s := range x.Outputs {
		b = protowire.AppendTag(b, 2, protowire.BytesType)
		b = protowire.AppendString(b, s)
	}
	b = appendStr(b, 3, x.Name)
	b = appendStr(b, 4, x.OpType)
	for _, a := range x.Attrs {
		b = appendMsgHeader(b, 5, a.size())
		b = a.appendTo(b)
	}
	return appendStr(b, 7, x.Domain)
}

func (a *Attribute) size() int {
	n := sizeStr(1, a.Name) + sizeVarint(20, uint64(a.Type))
	switch a.Type {
	case AttrFloat:
		n += protowire.SizeTag(2) + 4
	case AttrInt:
		n += protowire.SizeTag(3) + protowire.SizeVarint(uint64(a.I))
	case AttrString:
		n += protowire.SizeTag(4) + protowire.SizeBytes(len(a.S))
	case AttrTensor:
		if a.T != nil {
			n += sizeMsg(5, a.T.size())
		}
	case AttrFloats:
		if len(a.Floats) > 0 {
			n += sizeMsg(7, 4*len(a.Floats))
		}
	case AttrInts:
		if len(a.Ints) > 0 {
			n += sizeMsg(8, packedVarintSize(a.Ints))
		}
	case AttrStrings:
		for _, s := range a.Strings {
			n += protowire.SizeTag(9) + protowire.SizeBytes(len(s))
		}
	}
	return n
}

func packedVarintSize(v []int64) int {
	n := 0
	for _, x := range v {
		n += protowire.SizeVarint(uint64(x))
	}
	return n
}

func (a *Attribute) appendTo(b []byte) []byte {
	b = appendStr(b, 1, a.Name)
	switch a.Type {
	case AttrFloat:
		b = protowire.AppendTag(b, 2, protowire.Fixed32Type)
		b = protowire.AppendFixed32(b, math.Float32bits(a.F))
	case AttrInt:
		b = protowire.AppendTag(b, 3, protowire.VarintType)
		b = protowire.AppendVarint(b, uint64(a.I))
	case AttrString:
		b = protowire.AppendTag(b, 4, protowire.BytesType)
		b = protowire.AppendBytes(b, a.S)
	case AttrTensor:
		if a.T != nil {
			b = appendMsgHeader(b, 5, a.T.size())
			b = a.T.appendTo(b)
		}
	case AttrFloats:
		if len(a.Floats) > 0 {
			b = appendMsgHeader(b, 7, 4*len(a.Floats))
			for _, f := range a.Floats {
				b = protowire.AppendFixed32(b, math.Float32bits(f))
			}
		}
	case AttrInts:
		if len(a.Ints) > 0 {
			b = appendMsgHeader(b, 8, packedVarintSize(a.Ints))
			for _, x := range a.Ints {
				b = protowire.AppendVarint(b, uint64(x))
			}
		}
	case AttrStrings:
		for _, s := range a.Strings {
			b = protowire.AppendTag(b, 9, protowire.BytesType)
			b = protowire.AppendBytes(b, s)
		}
	}
	return appendVarint(b, 20, uint64(a.Type))
}

func (t *Tensor) size() int {
	n := sizeVarint(2, uint64(t.DataType)) + sizeStr(8, t.Name)
	if len(t.Dims) > 0 {
		n += sizeMsg(1, packedVarintSize(t.Dims))
	}
	// raw_data is written even when empty so a zero-element tensor is explicit.
	n += protowire.SizeTag(9) + protowire.SizeBytes(len(t.Raw))
	return n
}

func (t *Tensor) appendTo(b []byte) []byte {
	if len(t.Dims) > 0 {
		b = appendMsgHeader(b, 1, packedVarintSize(t.Dims))
		for _, d := range t.Dims {
			b = protowire.AppendVarint(b, uint64(d))
		}
	}
	b = appendVarint(b, 2, uint64(t.DataType))
	b = appendStr(b, 8, t.Name)
	b = protowire.AppendTag(b, 9, protowire.BytesType)
	return protowire.AppendBytes(b, t.Raw)
}

// ValueInfoProto{name, type: TypeProto{tensor_type: {elem_type, shape: {dim...}}}}
func (v *ValueInfo) shapeSize() int {
	n := 0
	for _, d := range v.Shape {
		n += sizeMsg(1, d.size())
	}
	return n
}

func (d Dim) size() int {
	if d.Param != "" {
		return sizeStr(2, d.Param)
	}
	return protowire.SizeTag(1) + protowire.SizeVarint(uint64(d.Value))
}

func (v *ValueInfo) tensorTypeSize() int {
	n := sizeVarint(1, uint64(v.ElemType))
	if v.Shape != nil {
		n += sizeMsg(2, v.shapeSize())
	}
	return n
}

func (v *ValueInfo) size() int {
	return sizeStr(1, v.Name) + sizeMsg(2, sizeMsg(1, v.tensorTypeSize()))
}

func (v *ValueInfo) appendTo(b []byte) []byte {
	b = appendStr(b, 1, v.Name)
	tt := v.tensorTypeSize()
	b = appendMsgHeader(b, 2, sizeMsg(1, tt))
	b = appendMsgHeader(b, 1, tt)
	b = appendVarint(b, 1, uint64(v.ElemType))
	if v.Shape != nil {
		b = appendMsgHeader(b, 2, v.shapeSize())
		for _, d := range v.Shape {
			b = appendMsgHeader(b, 1, d.size())
			if d.Param != "" {
				b = appendStr(b, 2, d.Param)
			} else {
				b = protowire.AppendTag(b, 1, protowire.VarintType)
				b = protowire.AppendVarint(b, uint64(d.Value))
			}
		}
	}
	return b
}
