package onnx

import (
	"bytes"
	"runtime"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"
)

const hostileSize = 32 << 20

// msg wraps body as field num of a message.
func msg(num protowire.Number, body []byte) []byte {
	b := protowire.AppendTag(nil, num, protowire.BytesType)
	return protowire.AppendBytes(b, body)
}

// model wraps a graph body into a ModelProto.
func model(graph []byte) []byte { return msg(7, graph) }

// repeat appends unit to itself until the whole is about size bytes.
func repeat(unit []byte, size int) []byte { return bytes.Repeat(unit, size/len(unit)) }

// hostileModels are 32 MiB files built to make a careless decoder allocate
// far more than their size.
func hostileModels() map[string][]byte {
	ones := bytes.Repeat([]byte{1}, hostileSize) // 32 Mi one-byte varints
	tensor := func(fields ...[]byte) []byte { return model(msg(5, bytes.Join(fields, nil))) }
	dims := func(d ...int64) []byte {
		var b []byte
		for _, x := range d {
			b = protowire.AppendVarint(b, uint64(x))
		}
		return msg(1, b)
	}
	dtype := func(t DataType) []byte {
		b := protowire.AppendTag(nil, 2, protowire.VarintType)
		return protowire.AppendVarint(b, uint64(t))
	}
	emptyAttr := msg(5, protowire.AppendVarint(protowire.AppendTag(nil, 20, protowire.VarintType), uint64(AttrInt)))
	node := msg(1, repeat(emptyAttr, 64*len(emptyAttr)))
	emptyIn := msg(1, nil)
	unpackedInt := protowire.AppendVarint(protowire.AppendTag(nil, 5, protowire.VarintType), 1)
	return map[string][]byte{
		"packed dims":                 tensor(msg(1, ones)),
		"packed int32_data, 1 value":  tensor(dims(1), dtype(Int32), msg(5, ones)),
		"packed int32_data, shape ok": tensor(dims(hostileSize), dtype(Int32), msg(5, ones)),
		"packed int64_data, shape ok": tensor(dims(hostileSize), dtype(Int64), msg(7, ones)),
		"unpacked int32_data":         tensor(dims(1), dtype(Int32), repeat(unpackedInt, hostileSize)),
		"packed float_data, 1 value":  tensor(dims(1), dtype(Float), msg(4, ones[:hostileSize/4*4])),
		"attribute ints":              model(msg(1, msg(5, msg(8, ones)))),
		"float_data, shape ok":        tensor(dims(hostileSize/4), dtype(Float), msg(4, ones[:hostileSize/4*4])),
		"empty attributes":            model(repeat(node, hostileSize)),
		"empty node inputs":           model(repeat(msg(1, repeat(emptyIn, 4000*len(emptyIn))), hostileSize)),
		"value info dims":             model(repeat(msg(11, msg(2, msg(1, msg(2, repeat(msg(1, nil), 16))))), hostileSize)),
	}
}

// TestHostileModelsBounded: each hostile file is refused, or decodes, while
// the decoder allocates no more than a small multiple of the file's size.
// Before the counts were checked first, a 32 MiB file made it allocate
// about 1.4 GiB.
func TestHostileModelsBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("allocates hundreds of MiB")
	}
	for name, b := range hostileModels() {
		t.Run(name, func(t *testing.T) {
			runtime.GC()
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			_, err := Unmarshal(b, Limits{})
			runtime.ReadMemStats(&after)
			alloc := after.TotalAlloc - before.TotalAlloc
			ratio := float64(alloc) / float64(len(b))
			t.Logf("%d bytes: allocated %d (%.2f× the file), err %v", len(b), alloc, ratio, err)
			// An int64 tensor of one-byte varints is the worst honest case:
			// 8 bytes of tensor per byte of file.
			if ratio > 8.5 {
				t.Errorf("allocated %.2f× the file's size", ratio)
			}
		})
	}
}
