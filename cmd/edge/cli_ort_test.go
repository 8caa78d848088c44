//go:build cgo

package main

import (
	"bytes"
	"fmt"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"edge/internal/biometric"
	"edge/internal/infer"
	"edge/internal/infer/features"
	"edge/internal/infer/prep"
	"edge/internal/testenv"
)

// needORT skips (fails under CI=true) where the ONNX Runtime library is absent.
func needORT(t *testing.T) {
	t.Helper()
	if _, err := infer.LibraryPath(""); err != nil {
		root, _ := testenv.ModuleRoot()
		testenv.Missing(t, filepath.Join(root, "third_party", "onnxruntime", "linux-"+runtime.GOARCH, infer.LibName),
			"make ort or sh scripts/fetch-ort.sh", err)
	}
}

// writePrints draws synthetic prints named name(i) into dir.
func writePrints(t *testing.T, dir string, n int, name func(i int) string, seed func(i int) uint64) {
	t.Helper()
	os.MkdirAll(dir, 0o755)
	for i := range n {
		var b bytes.Buffer
		if err := png.Encode(&b, prep.Synthetic(256, 288, seed(i))); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name(i)), b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

var modelLine = regexp.MustCompile(`^(.+): (\d+) bytes, sha256 ([0-9a-f]{64}); (\d+) Conv, (\d+) Add, (\d+) QuantizeLinear, (\d+) DequantizeLinear\n$`)

// modelOut parses what edge model build/quantize prints.
func modelOut(t *testing.T, out string) (sha string, conv, quant int) {
	t.Helper()
	m := modelLine.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("model output %q", out)
	}
	conv, _ = strconv.Atoi(m[4])
	quant, _ = strconv.Atoi(m[6])
	return m[3], conv, quant
}

// TestModelFeaturesInfer builds a one-block-per-stage network (2048
// features, like ResNet152, in seconds), quantizes it, and runs edge
// features and edge infer info against the real ONNX Runtime.
func TestModelFeaturesInfer(t *testing.T) {
	needORT(t)
	dir := t.TempDir()
	small := []string{"--blocks", "1,1,1,1", "--width", "64"}
	fp := filepath.Join(dir, "fp32.onnx")
	code, out, e := runCLI(append([]string{"model", "build", "--fp32", "--out", fp, "--seed", "3"}, small...)...)
	if code != 0 {
		t.Fatalf("model build --fp32: exit %d: %s", code, e)
	}
	sha, conv, quant := modelOut(t, out)
	// Stem, three per bottleneck block, one projection per stage.
	if conv != 1+4*3+4 || quant != 0 {
		t.Errorf("fp32 model: %d Conv, %d QuantizeLinear; want 17 and 0", conv, quant)
	}
	again := filepath.Join(dir, "again.onnx")
	code, out, _ = runCLI(append([]string{"model", "build", "--fp32", "--out", again, "--seed", "3"}, small...)...)
	if sha2, _, _ := modelOut(t, out); code != 0 || sha2 != sha {
		t.Errorf("the same seed built a different model: %s vs %s", sha2, sha)
	}

	q := filepath.Join(dir, "int8.onnx")
	code, out, e = runCLI("model", "quantize", "--in", fp, "--out", q, "--calib-prints", "2")
	if code != 0 {
		t.Fatalf("model quantize: exit %d: %s", code, e)
	}
	if !strings.Contains(e, "calibrating on synthetic prints") {
		t.Errorf("quantize without --calib does not say it calibrates on synthetic prints: %q", e)
	}
	if _, conv, quant := modelOut(t, out); conv != 17 || quant == 0 {
		t.Errorf("int8 model: %d Conv, %d QuantizeLinear; want 17 and QDQ nodes", conv, quant)
	}

	calib := filepath.Join(dir, "calib")
	writePrints(t, calib, 3, func(i int) string { return fmt.Sprintf("p%d.png", i) }, func(i int) uint64 { return uint64(40 + i) })
	q2 := filepath.Join(dir, "int8-calib.onnx")
	code, out, e = runCLI(append([]string{"model", "build", "--out", q2, "--calib", calib, "--calib-prints", "2"}, small...)...)
	if code != 0 || strings.Contains(e, "synthetic") {
		t.Fatalf("model build --calib: exit %d: %s", code, e)
	}
	if _, _, quant := modelOut(t, out); quant == 0 {
		t.Errorf("model build without --fp32 wrote no QDQ nodes: %s", out)
	}

	notModel := filepath.Join(dir, "notes.onnx")
	os.WriteFile(notModel, []byte("not a model"), 0o644)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"model", "quantize", "--in", notModel, "--out", filepath.Join(dir, "x.onnx")}, notModel},
		{[]string{"model", "quantize", "--in", filepath.Join(dir, "none.onnx"), "--out", filepath.Join(dir, "x.onnx")}, "none.onnx"},
		{[]string{"model", "build", "--out", filepath.Join(dir, "x.onnx"), "--calib", t.TempDir(), "--blocks", "1,1,1,1"}, "no PNG, JPEG, BMP or TIFF prints"},
		{[]string{"model", "build", "--out", filepath.Join(dir, "x.onnx"), "--ort-lib", filepath.Join(dir, "none.so"), "--blocks", "1,1,1,1"}, "--fp32 needs no library"},
	} {
		code, _, e := runCLI(tc.args...)
		if code != 1 || !strings.Contains(e, tc.want) {
			t.Errorf("%q: exit %d, %q; want exit 1 and %q", tc.args, code, e, tc.want)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "x.onnx")); err == nil {
		t.Error("a failed model command left x.onnx")
	}

	// features: 2048 finite values, the same twice, and clear errors.
	prints := filepath.Join(dir, "prints")
	writePrints(t, prints, 1, func(int) string { return "fp.png" }, func(int) uint64 { return 9 })
	fpPNG := filepath.Join(prints, "fp.png")
	f1, f2 := filepath.Join(dir, "a.f32"), filepath.Join(dir, "b.f32")
	code, out, e = runCLI("features", "--fingerprint", fpPNG, "--out", f1, "--model", q)
	if code != 0 || !strings.HasPrefix(out, f1+": 2048 features from "+fpPNG+" (model sha256 ") || !strings.Contains(out, "provider cpu") {
		t.Fatalf("features: exit %d, stdout %q, stderr %q", code, out, e)
	}
	runCLI("features", "--fingerprint", fpPNG, "--out", f2, "--model", q)
	a, err := features.ReadFeatures(f1)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(f1)
	b2, _ := os.ReadFile(f2)
	if !bytes.Equal(b, b2) {
		t.Error("two runs on one print wrote different feature files")
	}
	nz := 0
	for _, v := range a {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			t.Fatalf("feature %v", v)
		}
		if v != 0 {
			nz++
		}
	}
	if nz < len(a)/4 {
		t.Errorf("%d of %d features non-zero", nz, len(a))
	}
	if st, err := os.Stat(f1); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("feature file mode %v (%v), want 0600: features come from a fingerprint", st.Mode().Perm(), err)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"features", "--fingerprint", fpPNG, "--out", filepath.Join(dir, "x.f32"), "--model", filepath.Join(dir, "none.onnx")}, "make model"},
		{[]string{"features", "--fingerprint", notModel, "--out", filepath.Join(dir, "x.f32"), "--model", q}, "not an image"},
		// The small network of the biometric tests gives 256 features, not 2048.
		{[]string{"features", "--fingerprint", fpPNG, "--out", filepath.Join(dir, "x.f32"), "--model", smallModel(t)}, "want 2048"},
	} {
		code, _, e := runCLI(tc.args...)
		if code != 1 || !strings.Contains(e, tc.want) {
			t.Errorf("%q: exit %d, %q; want exit 1 and %q", tc.args, code, e, tc.want)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "x.f32")); err == nil {
		t.Error("a failed features command left x.f32")
	}

	// infer info: the library it loaded, what it offers, what it uses.
	code, out, e = runCLI("infer", "info")
	if code != 0 {
		t.Fatalf("infer info: exit %d: %s", code, e)
	}
	lib, _ := infer.LibraryPath("")
	for _, want := range []string{"onnxruntime 1.", "library     " + lib + "\n", "CPUExecutionProvider", "in use      cpu\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("infer info lacks %q:\n%s", want, out)
		}
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"infer", "info", "--ep", "tpu9000"}, `unknown execution provider "tpu9000"`},
		{[]string{"infer", "info", "--ort-lib", filepath.Join(dir, "none.so")}, "none.so: stat"},
	} {
		code, _, e := runCLI(tc.args...)
		if code != 1 || !strings.Contains(e, tc.want) {
			t.Errorf("%q: exit %d, %q; want exit 1 and %q", tc.args, code, e, tc.want)
		}
	}
}

// TestSensorEnrollLogin enrolls a clinician from three captures through the
// pty simulator and logs in with a fourth, by id (verify) and without
// (identify), after calibrating the store on the real prints.
func TestSensorEnrollLogin(t *testing.T) {
	// The minutiae matcher decides logins, so the sensor serves a real
	// print and the store is calibrated on real prints.
	fingers := testenv.Path(t, "fingerprints/multi-impression")
	model := smallModel(t)
	work := t.TempDir()
	store := filepath.Join(work, "store")
	code, out, e := runCLI("eval-biometrics", "--fingerprints", fingers, "--model", model, "--store", store)
	if code != 0 || !strings.Contains(out, "calibration kept in "+store) {
		t.Fatalf("eval-biometrics: exit %d: %s%s", code, out, e)
	}
	real, err := biometric.LoadImage(filepath.Join(fingers, "1_1.png"))
	if err != nil {
		t.Fatal(err)
	}

	link, _ := simulate(t, real, "--baud", "0", "--packet-size", "256")
	// Before any enrollment, login finds no one.
	if code, out, e := runCLI("sensor", "login", "--port", link, "--store", store, "--model", model); code != 1 {
		t.Errorf("sensor login with nobody enrolled: exit %d: %s%s", code, out, e)
	}
	code, out, e = runCLI("sensor", "enroll", "--port", link, "--id", "dr.s", "--store", store, "--model", model, "--prints", "3")
	if code != 0 || !strings.HasPrefix(out, "enrolled dr.s from 3 prints") {
		t.Fatalf("sensor enroll: exit %d: %s%s", code, out, e)
	}
	if strings.Count(e, "lift the finger, then place it again") != 2 {
		t.Errorf("enroll did not ask for the finger between its prints:\n%s", e)
	}
	code, out, e = runCLI("sensor", "login", "--port", link, "--id", "dr.s", "--store", store, "--model", model)
	if code != 0 || !strings.HasPrefix(out, "match dr.s score") {
		t.Errorf("sensor login --id: exit %d: %s%s", code, out, e)
	}
	code, out, e = runCLI("sensor", "login", "--port", link, "--store", store, "--model", model, "--json")
	if code != 0 || !strings.Contains(out, `"id": "dr.s"`) || !strings.Contains(out, `"match": true`) {
		t.Errorf("sensor login (identify): exit %d: %s%s", code, out, e)
	}
	code, _, e = runCLI("sensor", "login", "--port", link, "--id", "nobody", "--store", store, "--model", model)
	if code != 1 || !strings.Contains(e, "no template") {
		t.Errorf("sensor login as someone not enrolled: exit %d: %s", code, e)
	}
	code, _, e = runCLI("sensor", "enroll", "--port", link, "--id", "dr.s", "--store", store, "--model", model, "--prints", "3")
	if code != 1 || !strings.Contains(e, "--replace") {
		t.Errorf("second sensor enroll without --replace: exit %d: %s", code, e)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"sensor", "enroll", "--port", link, "--store", store}, "-id is required"},
		{[]string{"sensor", "enroll", "--port", link, "--id", "x", "--store", store, "--prints", "0"}, "-prints 0, want 3 to 16"},
		{[]string{"sensor", "login", "--port", link}, "-store is required"},
	} {
		if code, _, e := runCLI(tc.args...); code != 2 || !strings.Contains(e, tc.want) {
			t.Errorf("%q: exit %d, %q; want exit 2 and %q", tc.args, code, e, tc.want)
		}
	}
}
