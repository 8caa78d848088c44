// Package features reads and writes a fingerprint's feature vector file
// (.f32): exactly Len float32 values, raw little-endian, nothing else — 8192
// bytes. The format has no header so other tools (numpy.fromfile with
// dtype '<f4') read it directly; the fixed size is the check. This package
// has no cgo dependency, so the commands that only consume features (protect
// --features, recover) build without ONNX Runtime.
package features
