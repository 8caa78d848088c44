//go:build cgo

package infer

import (
	"bytes"
	"context"
	"encoding/binary"
	"image"
	"image/png"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"edge/internal/infer/onnx"
	"edge/internal/infer/prep"
	"edge/internal/infer/resnet"
	"edge/internal/testenv"
)

// The full ResNet152 takes seconds to build, so the tests and benchmarks of
// one run share the files: the ones make model wrote under models/ when they
// are there, otherwise ones built once into a temporary folder.
var full struct {
	once       sync.Once
	dir        string
	fp32, int8 string
	err        error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if full.dir != "" {
		os.RemoveAll(full.dir)
	}
	os.Exit(code)
}

func fullModels(t testing.TB) (fp32, int8 string) {
	t.Helper()
	lib := ortLib(t)
	full.once.Do(func() {
		root, err := testenv.ModuleRoot()
		if err == nil {
			f, q := filepath.Join(root, "models", "resnet152-fp32.onnx"), filepath.Join(root, "models", "resnet152-int8.onnx")
			if isFile(f) == nil && isFile(q) == nil {
				full.fp32, full.int8 = f, q
				return
			}
		}
		full.dir, full.err = os.MkdirTemp("", "edge-infer-test")
		if full.err != nil {
			return
		}
		start := time.Now()
		m, err := resnet.Build(resnet.ResNet152(1))
		if err != nil {
			full.err = err
			return
		}
		full.fp32 = filepath.Join(full.dir, "resnet152-fp32.onnx")
		if full.err = os.WriteFile(full.fp32, m.Marshal(), 0o644); full.err != nil {
			return
		}
		rt, err := LoadRuntime(lib, nil)
		if err != nil {
			full.err = err
			return
		}
		defer rt.Close()
		prints, _ := CalibrationPrints("", 1)
		q, err := QuantizeModel(context.Background(), rt, m, prints, "one synthetic print (test)", 2)
		if err != nil {
			full.err = err
			return
		}
		full.int8 = filepath.Join(full.dir, "resnet152-int8.onnx")
		full.err = os.WriteFile(full.int8, q.Marshal(), 0o644)
		t.Logf("built ResNet152 fp32 and int8 in %v (make model keeps them in models/)", time.Since(start).Round(time.Millisecond))
	})
	if full.err != nil {
		t.Fatal(full.err)
	}
	return full.fp32, full.int8
}

func countOps(m *onnx.Model) map[string]int {
	ops := map[string]int{}
	for _, n := range m.Graph.Nodes {
		ops[n.OpType]++
	}
	return ops
}

// TestFullInt8ResNet152 reads back the int8 model and runs it on a real print.
func TestFullInt8ResNet152(t *testing.T) {
	print1 := testenv.Path(t, "fingerprints/multi-impression/3_2.png")
	_, qp := fullModels(t)
	b, err := os.ReadFile(qp)
	if err != nil {
		t.Fatal(err)
	}
	m, err := onnx.Unmarshal(b, onnx.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	ops := countOps(m)
	if ops["Conv"] != 155 || ops["Add"] != 50 || ops["QuantizeLinear"] == 0 || ops["DequantizeLinear"] < 155 {
		t.Fatalf("ops %v: want 155 Conv, 50 Add and QDQ nodes", ops)
	}
	if o := m.Graph.Outputs; len(o) != 1 || o[0].Name != resnet.Output || len(o[0].Shape) != 2 || o[0].Shape[1].Value != 2048 {
		t.Fatalf("outputs %+v, want one [1 2048] %q", o, resnet.Output)
	}
	var int8w int
	for _, it := range m.Graph.Initializers {
		if it.DataType == onnx.Int8 && len(it.Dims) == 4 {
			int8w++
		}
		if it.DataType == onnx.Float && len(it.Dims) == 4 {
			t.Fatalf("float conv weight %q left in the int8 model", it.Name)
		}
	}
	if int8w != 155 {
		t.Fatalf("%d int8 conv weights, want 155", int8w)
	}

	ctx := context.Background()
	rt, err := LoadRuntime(ortLib(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Close()
	pm, err := ReadModel(qp)
	if err != nil {
		t.Fatal(err)
	}
	// Ask ONNX Runtime for the graph it runs: the QDQ groups must have become
	// integer kernels.
	opt := filepath.Join(t.TempDir(), "optimized.onnx")
	e, err := newExtractorConfig(rt, pm, sessionConfig{threads: 2, providers: []string{"cpu"}, optimized: opt})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	a, err := e.FeaturesFile(ctx, print1)
	if err != nil {
		t.Fatal(err)
	}
	b2, err := e.FeaturesFile(ctx, print1)
	if err != nil {
		t.Fatal(err)
	}
	if len(a) != 2048 || !slices.Equal(a, b2) {
		t.Fatalf("%d features, repeat equal %v; want 2048, equal", len(a), slices.Equal(a, b2))
	}
	if e.ModelHash() != pm.Hash {
		t.Fatal("model hash differs from the file's")
	}
	ob, err := os.ReadFile(opt)
	if err != nil {
		t.Fatal(err)
	}
	om, err := onnx.Unmarshal(ob, onnx.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	oops := countOps(om)
	t.Logf("ONNX Runtime runs: %d QLinearConv, %d QLinearAdd, %d Conv, %d MaxPool", oops["QLinearConv"], oops["QLinearAdd"], oops["Conv"], oops["MaxPool"])
	if oops["QLinearConv"] != 155 {
		t.Fatalf("optimized graph has %d QLinearConv (ops %v), want all 155 convolutions in int8", oops["QLinearConv"], oops)
	}
}

func writePNG(t *testing.T, img image.Image) string {
	t.Helper()
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "x.png")
	if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestBadInput: each case is a clear error, never a crash.
func TestBadInput(t *testing.T) {
	lib := ortLib(t)
	ctx := context.Background()
	dir := t.TempDir()
	good := smallModel(t, dir, 7)
	rt, err := LoadRuntime(lib, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Close()

	t.Run("second runtime", func(t *testing.T) {
		if _, err := LoadRuntime(lib, nil); err == nil || !strings.Contains(err.Error(), "already loaded") {
			t.Fatalf("err %v, want already loaded", err)
		}
	})
	e, err := OpenWith(ctx, rt, Options{ModelPath: good})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	t.Run("not an image", func(t *testing.T) {
		p := filepath.Join(dir, "notes.png")
		os.WriteFile(p, []byte("these are not pixels"), 0o644)
		_, err := e.FeaturesFile(ctx, p)
		if err == nil || !strings.Contains(err.Error(), "not an image") || !strings.Contains(err.Error(), p) {
			t.Fatalf("err %v", err)
		}
	})
	t.Run("1x1 image", func(t *testing.T) {
		img := image.NewGray(image.Rect(0, 0, 1, 1))
		_, err := e.FeaturesFile(ctx, writePNG(t, img))
		if err == nil || !strings.Contains(err.Error(), "too small to be a fingerprint") {
			t.Fatalf("err %v", err)
		}
		if _, err := e.Features(ctx, img); err == nil || !strings.Contains(err.Error(), "too small") {
			t.Fatalf("Features: err %v", err)
		}
	})
	t.Run("cancelled", func(t *testing.T) {
		c, cancel := context.WithCancel(ctx)
		cancel()
		if _, err := e.Features(c, image.NewGray(image.Rect(0, 0, 64, 64))); err == nil {
			t.Fatal("a cancelled context ran")
		}
	})
	t.Run("corrupt model", func(t *testing.T) {
		b, _ := os.ReadFile(good)
		for name, bad := range map[string][]byte{
			"truncated": b[:len(b)/2],
			"garbage":   bytes.Repeat([]byte{0xff, 0x13}, 500),
			"empty":     nil,
		} {
			p := filepath.Join(dir, name+".onnx")
			os.WriteFile(p, bad, 0o644)
			_, err := OpenWith(ctx, rt, Options{ModelPath: p})
			if err == nil || !strings.Contains(err.Error(), "not a readable ONNX file") || !strings.Contains(err.Error(), p) {
				t.Errorf("%s: err %v", name, err)
			}
		}
	})
	t.Run("missing model", func(t *testing.T) {
		_, err := OpenWith(ctx, rt, Options{ModelPath: filepath.Join(dir, "none.onnx")})
		if err == nil || !strings.Contains(err.Error(), "make model") {
			t.Fatalf("err %v", err)
		}
	})
	t.Run("wrong input shape", func(t *testing.T) {
		m, _ := resnet.Build(resnet.Config{Blocks: [4]int{1, 1, 1, 1}, Width: 8, Size: 64, Seed: 1})
		m.Graph.Inputs[0] = onnx.TensorValue(resnet.Input, onnx.Float, 1, 1, 64, 64)
		p := filepath.Join(dir, "gray.onnx")
		os.WriteFile(p, m.Marshal(), 0o644)
		_, err := OpenWith(ctx, rt, Options{ModelPath: p})
		if err == nil || !strings.Contains(err.Error(), "[1 1 64 64]") {
			t.Fatalf("err %v", err)
		}
	})
	t.Run("provider not in library", func(t *testing.T) {
		var logbuf bytes.Buffer
		log := slog.New(slog.NewTextHandler(&logbuf, nil))
		_, err := OpenWith(ctx, rt, Options{ModelPath: good, Providers: []string{"xnnpack"}, Logger: log})
		if err == nil || !strings.Contains(err.Error(), "xnnpack: not in ONNX Runtime") {
			t.Fatalf("err %v", err)
		}
		x, err := OpenWith(ctx, rt, Options{ModelPath: good, Providers: []string{"xnnpack", "cpu"}, Logger: log})
		if err != nil {
			t.Fatal(err)
		}
		defer x.Close()
		if x.Provider() != "cpu" || !strings.Contains(logbuf.String(), "provider=xnnpack") {
			t.Fatalf("provider %q, log %q; want cpu after a logged xnnpack failure", x.Provider(), logbuf.String())
		}
		if _, err := OpenWith(ctx, rt, Options{ModelPath: good, Providers: []string{"tpu9000"}}); err == nil || !strings.Contains(err.Error(), `unknown execution provider "tpu9000"`) {
			t.Fatalf("err %v", err)
		}
	})
}

// TestLibraryErrors needs no loaded runtime: each failure is caught first.
func TestLibraryErrors(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	missing := filepath.Join(dir, "libonnxruntime.so.1")
	if _, err := Open(ctx, Options{ORTLib: missing}); err == nil || !strings.Contains(err.Error(), missing) {
		t.Fatalf("missing: err %v", err)
	}
	notLib := filepath.Join(dir, "fake.so")
	os.WriteFile(notLib, []byte("\x7fELF not really"), 0o644)
	if _, err := LoadRuntime(notLib, nil); err == nil || !strings.Contains(err.Error(), notLib) {
		t.Fatalf("not a library: err %v", err)
	}
	// A real shared library that is not ONNX Runtime: the test binary's libc.
	if libc := "/lib/x86_64-linux-gnu/libc.so.6"; isFile(libc) == nil && checkELF(libc) == nil {
		if _, err := LoadRuntime(libc, nil); err == nil || !strings.Contains(err.Error(), "not an ONNX Runtime library") {
			t.Fatalf("libc: err %v", err)
		}
	}
	root, _ := testenv.ModuleRoot()
	other := filepath.Join(root, "third_party", "onnxruntime", "linux-arm64", LibName)
	if isFile(other) == nil && checkELF(other) != nil {
		if _, err := LoadRuntime(other, nil); err == nil || !strings.Contains(err.Error(), "built for") {
			t.Fatalf("other architecture: err %v", err)
		}
	}
}

// crossArchRef holds the features TestCrossArchAgreement's network gives its
// synthetic print on linux/amd64; EDGE_UPDATE_GOLDEN=1 go test -run
// TestCrossArchAgreement rewrites it.
const crossArchRef = "testdata/crossarch-features.f32"

// TestCrossArchAgreement computes a small network's features on a synthetic
// print (integer-only drawing, the same pixels on every architecture) and
// checks them against the amd64 features in testdata (cosine >= 0.999), and
// that a second run gives the same bits. Given EDGE_XARCH_OUT it also writes
// them; given EDGE_XARCH_REF (features from another architecture's run) it
// checks agreement with those too. scripts/qemu-infer-test.sh runs it on
// amd64 and then on arm64 under qemu.
func TestCrossArchAgreement(t *testing.T) {
	lib := ortLib(t)
	m, err := resnet.Build(resnet.Config{Blocks: [4]int{1, 1, 1, 1}, Width: 8, Size: 112, Seed: 11})
	if err != nil {
		t.Fatal(err)
	}
	mp := filepath.Join(t.TempDir(), "x.onnx")
	if err := os.WriteFile(mp, m.Marshal(), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	e, err := Open(ctx, Options{ModelPath: mp, ORTLib: lib})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	img := prep.Synthetic(256, 288, 4)
	f, err := e.Features(ctx, img)
	if err != nil {
		t.Fatal(err)
	}
	again, err := e.Features(ctx, img)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(f, again) {
		t.Fatal("a second run on the same print gave different features")
	}
	nz := 0
	for _, v := range f {
		if v != 0 {
			nz++
		}
	}
	if len(f) != 32*8 || nz < len(f)/2 {
		t.Fatalf("%d features, %d non-zero; want %d, most non-zero", len(f), nz, 32*8)
	}
	var buf bytes.Buffer
	binary.Write(&buf, binary.LittleEndian, f)
	if out := os.Getenv("EDGE_XARCH_OUT"); out != "" {
		if err := os.WriteFile(out, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if os.Getenv("EDGE_UPDATE_GOLDEN") != "" {
		if runtime.GOARCH != "amd64" {
			t.Fatalf("%s is amd64's features; rewrite it on amd64", crossArchRef)
		}
		if err := os.WriteFile(crossArchRef, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	refs := []string{crossArchRef}
	if ref := os.Getenv("EDGE_XARCH_REF"); ref != "" {
		refs = append(refs, ref)
	}
	for _, ref := range refs {
		b, err := os.ReadFile(ref)
		if err != nil || len(b) != 4*len(f) {
			t.Fatalf("reference %s: %d bytes, err %v; want %d", ref, len(b), err, 4*len(f))
		}
		r := make([]float32, len(f))
		binary.Read(bytes.NewReader(b), binary.LittleEndian, r)
		c := cosine(f, r)
		t.Logf("%s: cosine to %s: %.6f", runtime.GOARCH, ref, c)
		if !(c >= 0.999) {
			t.Errorf("cosine %.6f to the features in %s, want >= 0.999", c, ref)
		}
	}
}

// latencies runs e on img n times and returns the sorted durations.
func latencies(b *testing.B, e *Extractor, img image.Image, n int) []time.Duration {
	ctx := context.Background()
	d := make([]time.Duration, 0, n)
	for i := 0; i < n; i++ {
		s := time.Now()
		if _, err := e.Features(ctx, img); err != nil {
			b.Fatal(err)
		}
		d = append(d, time.Since(s))
	}
	sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
	return d
}

func maxRSSMB() float64 {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return float64(ru.Maxrss) / 1024
}

// BenchmarkResNet152 reports p50/p95 latency over 20 runs per iteration, load
// time and peak RSS for the fp32 and int8 models, and their agreement.
func BenchmarkResNet152(b *testing.B) {
	dir := testenv.Path(b, "fingerprints/multi-impression")
	fp, qp := fullModels(b)
	img := loadPrint(b, filepath.Join(dir, "1_1.png"))
	for _, c := range []struct{ name, path string }{{"fp32", fp}, {"int8", qp}} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			s := time.Now()
			e, err := Open(context.Background(), Options{ModelPath: c.path, ORTLib: ortLib(b)})
			if err != nil {
				b.Fatal(err)
			}
			defer e.Close()
			load := time.Since(s)
			latencies(b, e, img, 2) // warm up
			var all []time.Duration
			for b.Loop() {
				all = append(all, latencies(b, e, img, 20)...)
			}
			sort.Slice(all, func(i, j int) bool { return all[i] < all[j] })
			b.ReportMetric(float64(all[len(all)/2].Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(all[len(all)*95/100].Microseconds())/1000, "p95-ms")
			b.ReportMetric(float64(load.Milliseconds()), "load-ms")
			b.ReportMetric(maxRSSMB(), "maxrss-MB")
		})
	}
}

// BenchmarkInt8Agreement reports the mean cosine between int8 and fp32
// features over prints of different fingers.
func BenchmarkInt8Agreement(b *testing.B) {
	dir := testenv.Path(b, "fingerprints/multi-impression")
	fp, qp := fullModels(b)
	ctx := context.Background()
	rt, err := LoadRuntime(ortLib(b), nil)
	if err != nil {
		b.Fatal(err)
	}
	defer rt.Close()
	ef, err := OpenWith(ctx, rt, Options{ModelPath: fp})
	if err != nil {
		b.Fatal(err)
	}
	defer ef.Close()
	eq, err := OpenWith(ctx, rt, Options{ModelPath: qp})
	if err != nil {
		b.Fatal(err)
	}
	defer eq.Close()
	var sum, worst, centred float64
	worst = 1
	n := 0
	for b.Loop() {
		for f := 1; f <= 8; f++ {
			p := filepath.Join(dir, string(rune('0'+f))+"_2.png")
			x, err := ef.FeaturesFile(ctx, p)
			if err != nil {
				b.Fatal(err)
			}
			y, err := eq.FeaturesFile(ctx, p)
			if err != nil {
				b.Fatal(err)
			}
			c := cosine(x, y)
			sum += c
			worst = min(worst, c)
			centred += cosine(centre(x), centre(y))
			n++
		}
	}
	// In parts per million below 1: the cosines are too close to 1 for the
	// benchmark output's four digits.
	b.ReportMetric((1-sum/float64(n))*1e6, "ppm-mean-cosine-loss")
	b.ReportMetric((1-worst)*1e6, "ppm-worst-cosine-loss")
	b.ReportMetric((1-centred/float64(n))*1e6, "ppm-mean-centred-cosine-loss")
}

func centre(v []float32) []float32 {
	var m float64
	for _, x := range v {
		m += float64(x)
	}
	m /= float64(len(v))
	out := make([]float32, len(v))
	for i, x := range v {
		out[i] = float32(float64(x) - m)
	}
	return out
}

func loadPrint(t testing.TB, p string) image.Image {
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// BenchmarkBuildResNet152 measures writing the fp32 network: weights, fold
// and serialisation (no disk).
func BenchmarkBuildResNet152(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		m, err := resnet.Build(resnet.ResNet152(1))
		if err != nil {
			b.Fatal(err)
		}
		b.SetBytes(int64(len(m.Marshal())))
	}
}
