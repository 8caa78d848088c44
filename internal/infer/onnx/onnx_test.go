package onnx

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

func sample() *Model {
	g := &Graph{
		Name: "g",
		Nodes: []*Node{
			{Name: "c", OpType: "Conv", Inputs: []string{"x", "w", ""}, Outputs: []string{"y"},
				Attrs: []*Attribute{IntsAttr("pads", 1, 1, 1, 1), IntAttr("group", 1), FloatAttr("alpha", 0.5),
					{Name: "s", Type: AttrString, S: []byte("hi")}, {Name: "fs", Type: AttrFloats, Floats: []float32{1, -2}},
					{Name: "t", Type: AttrTensor, T: Int64Tensor("", []int64{2}, []int64{-1, 7})}}},
			{Name: "r", OpType: "Relu", Inputs: []string{"y"}, Outputs: []string{"z"}, Domain: "ai.onnx"},
		},
		Initializers: []*Tensor{
			FloatTensor("w", []int64{2, 1, 1, 1}, []float32{0.25, -3}),
			Int8Tensor("q", []int64{3}, []int8{-127, 0, 127}),
			Int32Tensor("b", []int64{1}, []int32{-5}),
			Uint8Tensor("u", nil, []uint8{200}),
		},
		Inputs:  []*ValueInfo{TensorValue("x", Float, 1, 1, 4, 4), {Name: "dyn", ElemType: Float, Shape: []Dim{{Param: "batch"}, {Value: 3}}}},
		Outputs: []*ValueInfo{{Name: "z", ElemType: Float}},
	}
	return &Model{IRVersion: 8, ProducerName: "edge", Opsets: []Opset{{Version: 13}}, Graph: g, Metadata: []KV{{"k", "v"}}}
}

func TestRoundTrip(t *testing.T) {
	m := sample()
	b := m.Marshal()
	if len(b) != m.size() {
		t.Fatalf("marshal wrote %d bytes, size said %d", len(b), m.size())
	}
	got, err := Unmarshal(b, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Marshal(), b) {
		t.Fatal("re-marshal differs")
	}
	if !reflect.DeepEqual(got.Graph.Nodes[0], m.Graph.Nodes[0]) {
		t.Fatalf("node %+v, want %+v", got.Graph.Nodes[0], m.Graph.Nodes[0])
	}
	w, err := got.Graph.Initializer("w").Floats()
	if err != nil || w[1] != -3 {
		t.Fatalf("w %v %v", w, err)
	}
	if got.Graph.Inputs[1].Shape[0].Param != "batch" || got.Graph.Outputs[0].Shape != nil {
		t.Fatalf("shapes %+v %+v", got.Graph.Inputs[1], got.Graph.Outputs[0])
	}
}

// TestTypedData reads the typed repeated fields exporters use instead of
// raw_data: packed float_data and int64_data.
func TestTypedData(t *testing.T) {
	// TensorProto{dims:[2], data_type:1, float_data:[1.0, 2.0] packed, name:"f"}
	tp := []byte{0x0a, 0x01, 0x02, 0x10, 0x01, 0x22, 0x08, 0, 0, 0x80, 0x3f, 0, 0, 0, 0x40, 0x42, 0x01, 'f'}
	g := append([]byte{0x2a, byte(len(tp))}, tp...)
	m := append([]byte{0x08, 0x08, 0x3a, byte(len(g))}, g...)
	got, err := Unmarshal(m, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	f, err := got.Graph.Initializers[0].Floats()
	if err != nil || !reflect.DeepEqual(f, []float32{1, 2}) {
		t.Fatalf("floats %v, %v", f, err)
	}
}

func TestMalformed(t *testing.T) {
	b := sample().Marshal()
	for name, bad := range map[string][]byte{
		"truncated":  b[:len(b)-3],
		"no graph":   {0x08, 0x08},
		"bad varint": {0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01},
		"group":      {0x0b},
		// A tensor claiming 2^40 elements with four bytes of data.
		"huge dims": {0x3a, 0x0e, 0x2a, 0x0c, 0x0a, 0x06, 0x80, 0x80, 0x80, 0x80, 0x80, 0x20, 0x10, 0x01, 0x4a, 0x00},
	} {
		_, err := Unmarshal(bad, Limits{})
		if err == nil {
			t.Errorf("%s: no error", name)
		} else if !errors.Is(err, ErrFormat) {
			t.Errorf("%s: %v does not wrap ErrFormat", name, err)
		}
	}
	if _, err := Unmarshal(b, Limits{MaxBytes: 10, MaxNodes: 1, MaxTensors: 1, MaxValues: 1, MaxAttrs: 1, MaxRank: 1, MaxElements: 1, MaxName: 1}); err == nil {
		t.Error("tight limits accepted the sample")
	}
}

// TestWriteFuzzSeeds keeps testdata/fuzz/FuzzUnmarshal in step with the sample.
func TestWriteFuzzSeeds(t *testing.T) {
	dir := filepath.Join("testdata", "fuzz", "FuzzUnmarshal")
	seeds := map[string][]byte{"sample": sample().Marshal(), "empty": {}, "nograph": {0x08, 0x08}}
	for name, b := range seeds {
		want := "go test fuzz v1\n[]byte(" + quote(b) + ")\n"
		p := filepath.Join(dir, name)
		got, err := os.ReadFile(p)
		if err == nil && string(got) == want {
			continue
		}
		if os.Getenv("EDGE_UPDATE_SEEDS") == "" {
			t.Fatalf("%s is stale or missing; rerun with EDGE_UPDATE_SEEDS=1", p)
		}
		os.MkdirAll(dir, 0o755)
		if err := os.WriteFile(p, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func quote(b []byte) string {
	var s bytes.Buffer
	s.WriteByte('"')
	for _, c := range b {
		s.WriteString("\\x")
		s.WriteByte("0123456789abcdef"[c>>4])
		s.WriteByte("0123456789abcdef"[c&15])
	}
	s.WriteByte('"')
	return s.String()
}

func FuzzUnmarshal(f *testing.F) {
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := Unmarshal(b, Limits{})
		if err != nil {
			return
		}
		// What was read must write and read back to the same model.
		b2 := m.Marshal()
		m2, err := Unmarshal(b2, Limits{})
		if err != nil {
			t.Fatalf("re-read: %v", err)
		}
		if !bytes.Equal(m2.Marshal(), b2) {
			t.Fatal("second round trip differs")
		}
	})
}
