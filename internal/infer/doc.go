// Package infer extracts fingerprint features with a ResNet on ONNX Runtime.
//
// ONNX Runtime is a C++ library loaded at run time (through
// github.com/yalue/onnxruntime_go and dlopen), and only by the commands that
// infer: everything else in the product runs without it, and this package's
// sub-packages that do not need the runtime — the ONNX reader and writer
// (onnx), the ResNet builder (resnet), the int8 quantizer (quant), image
// preprocessing (prep) and the feature file (features) — have no cgo, so the
// product builds with CGO_ENABLED=0. Built without cgo, this package keeps its
// API and Open reports that inference is unavailable.
//
// The library is chosen by LibraryPath: Options.ORTLib (--ort-lib, or the
// board profile's, mapped by internal/boardcfg), the project's fetched copy
// (scripts/fetch-ort.sh puts ONNX Runtime 1.30.0 from the onnxruntime-node
// npm package in third_party/onnxruntime/linux-GOARCH), then $EDGE_ORT_LIB.
// Before onnxruntime_go touches it, the library is opened and asked for its
// version and its execution providers through the C API, so a wrong or old
// file is an error naming the path and the version.
//
// ONNX Runtime's environment is one per process (onnxruntime_go keeps it in
// package variables). Runtime owns it: LoadRuntime makes it, Close ends it,
// and it is passed to whatever makes sessions; a second live Runtime is an
// error. Open makes a private Runtime for a single Extractor; OpenWith shares
// one.
//
// Execution providers are tried in the order given (Options.Providers, which
// the application fills from --ep or the board's list; cpu when empty); one
// that is not in the library or fails to start is logged with the reason and
// the next is tried. Sessions use a fixed intra-op thread count and sequential
// execution, so the same print gives the same feature bytes run after run on
// one machine; other architectures agree to within rounding (cosine ≥ 0.999),
// not bit for bit.
package infer
