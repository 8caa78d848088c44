//go:build cgo

package infer

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"edge/internal/infer/resnet"
	"edge/internal/testenv"
)

// ortLib finds the fetched library or skips: tests never download.
func ortLib(t testing.TB) string {
	t.Helper()
	p, err := LibraryPath("")
	if err != nil {
		root, _ := testenv.ModuleRoot()
		testenv.Missing(t, filepath.Join(root, "third_party", "onnxruntime", "linux-"+runtime.GOARCH, LibName),
			"make ort or sh scripts/fetch-ort.sh", err)
	}
	return p
}

// smallModel writes a small network from the same builder.
func smallModel(t testing.TB, dir string, seed uint64) string {
	t.Helper()
	m, err := resnet.Build(resnet.Config{Blocks: [4]int{1, 1, 1, 1}, Width: 16, Size: 224, Seed: seed})
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "small.onnx")
	if err := os.WriteFile(p, m.Marshal(), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func cosine(a, b []float32) float64 {
	var ab, aa, bb float64
	for i := range a {
		ab += float64(a[i]) * float64(b[i])
		aa += float64(a[i]) * float64(a[i])
		bb += float64(b[i]) * float64(b[i])
	}
	return ab / math.Sqrt(aa*bb)
}

func TestSmallNetworkOnRealPrint(t *testing.T) {
	lib := ortLib(t)
	print1 := testenv.Path(t, "fingerprints/multi-impression/1_1.png")
	mp := smallModel(t, t.TempDir(), 1)
	ctx := context.Background()
	e, err := Open(ctx, Options{ModelPath: mp, ORTLib: lib})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	if e.Provider() != "cpu" || e.Len() != 512 {
		t.Fatalf("provider %q len %d, want cpu 512", e.Provider(), e.Len())
	}
	a, err := e.FeaturesFile(ctx, print1)
	if err != nil {
		t.Fatal(err)
	}
	b, err := e.FeaturesFile(ctx, print1)
	if err != nil {
		t.Fatal(err)
	}
	var nz int
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			t.Fatalf("feature %d differs run to run: %v vs %v", i, a[i], b[i])
		}
		if a[i] != 0 {
			nz++
		}
	}
	if nz < len(a)/4 {
		t.Fatalf("only %d of %d features are non-zero", nz, len(a))
	}
	t.Logf("%s/%s: %d features, %d non-zero, a[0..3]=%v", runtime.GOOS, runtime.GOARCH, len(a), nz, a[:4])
}

func TestQuantizedSmallNetworkAgrees(t *testing.T) {
	lib := ortLib(t)
	dir := testenv.Path(t, "fingerprints/multi-impression")
	ctx := context.Background()
	rt, err := LoadRuntime(lib, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Close()
	fm, err := resnet.Build(resnet.Config{Blocks: [4]int{1, 1, 1, 1}, Width: 16, Size: 224, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	calib, err := CalibrationPrints(dir, 4)
	if err != nil {
		t.Fatal(err)
	}
	qm, err := QuantizeModel(ctx, rt, fm, calib, "test", 2)
	if err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	fp, qp := filepath.Join(tmp, "f.onnx"), filepath.Join(tmp, "q.onnx")
	os.WriteFile(fp, fm.Marshal(), 0o644)
	os.WriteFile(qp, qm.Marshal(), 0o644)
	ef, err := OpenWith(ctx, rt, Options{ModelPath: fp})
	if err != nil {
		t.Fatal(err)
	}
	defer ef.Close()
	eq, err := OpenWith(ctx, rt, Options{ModelPath: qp})
	if err != nil {
		t.Fatal(err)
	}
	defer eq.Close()
	var sum float64
	names := []string{"2_3.png", "5_5.png", "8_8.png"}
	for _, n := range names {
		a, err := ef.FeaturesFile(ctx, filepath.Join(dir, n))
		if err != nil {
			t.Fatal(err)
		}
		b, err := eq.FeaturesFile(ctx, filepath.Join(dir, n))
		if err != nil {
			t.Fatal(err)
		}
		c := cosine(a, b)
		t.Logf("%s: int8 vs fp32 cosine %.5f", n, c)
		sum += c
	}
	if m := sum / float64(len(names)); m < 0.99 {
		t.Fatalf("mean int8-vs-fp32 cosine %.4f, want ≥ 0.99", m)
	}
}
