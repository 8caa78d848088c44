//go:build cgo

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image/png"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"edge/internal/biometric"
	"edge/internal/infer"
	"edge/internal/infer/resnet"
	"edge/internal/testenv"
)

func runBioCLI(args ...string) (code int, stdout, stderr string) {
	var o, e bytes.Buffer
	code = run(context.Background(), env{&o, &e}, args)
	return code, o.String(), e.String()
}

// smallModel writes a small network from the same builder as ResNet152 (one
// block per stage, 256 features, 64×64 input), so the commands run the real
// ONNX Runtime path in seconds.
func smallModel(t *testing.T) string {
	t.Helper()
	if _, err := infer.LibraryPath(""); err != nil {
		root, _ := testenv.ModuleRoot()
		testenv.Missing(t, filepath.Join(root, "third_party", "onnxruntime", "linux-"+runtime.GOARCH, infer.LibName),
			"make ort or sh scripts/fetch-ort.sh", err)
	}
	m, err := resnet.Build(resnet.Config{Blocks: [4]int{1, 1, 1, 1}, Width: 8, Size: 64, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "small.onnx")
	if err := os.WriteFile(p, m.Marshal(), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestBiometricCommands(t *testing.T) {
	dir := testenv.Path(t, "fingerprints/multi-impression")
	model := smallModel(t)
	work := t.TempDir()
	store := filepath.Join(work, "store")
	printPath := func(f, i int) string { return filepath.Join(dir, fmt.Sprintf("%d_%d.png", f, i)) }

	// Nothing works before the store is calibrated.
	code, _, errOut := runBioCLI("enroll", "--id", "a", "--store", store, "--model", model, printPath(1, 1), printPath(1, 1))
	if code != 1 || !strings.Contains(errOut, "eval-biometrics --store") {
		t.Fatalf("enroll before calibration: exit %d, %s", code, errOut)
	}

	jsonOut, plotOut := filepath.Join(work, "eval.json"), filepath.Join(work, "roc.png")
	code, out, errOut := runBioCLI("eval-biometrics", "--fingerprints", dir, "--model", model, "--json", jsonOut, "--plot", plotOut, "--store", store)
	if code != 0 {
		t.Fatalf("eval-biometrics: exit %d: %s", code, errOut)
	}
	if !strings.Contains(out, "40 genuine, 280 impostor scores") || !strings.Contains(out, "EER ") {
		t.Errorf("eval-biometrics output:\n%s", out)
	}
	t.Logf("small network: %s", out)
	var rep biometric.Report
	b, err := os.ReadFile(jsonOut)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatal(err)
	}
	if len(rep.Genuine) != 40 || len(rep.Impostor) != 280 || len(rep.ROC) < 2 || !rep.Standardised {
		t.Errorf("report has %d genuine, %d impostor scores, %d ROC points", len(rep.Genuine), len(rep.Impostor), len(rep.ROC))
	}
	f, err := os.Open(plotOut)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := png.Decode(f); err != nil {
		t.Errorf("ROC plot: %v", err)
	}
	f.Close()

	// Three copies of one print agree perfectly, and the print then
	// matches its own template with score 1 whatever the threshold.
	p := printPath(3, 1)
	code, out, errOut = runBioCLI("enroll", "--id", "dr.c", "--store", store, "--model", model, p, p, p)
	if code != 0 || !strings.HasPrefix(out, "enrolled dr.c from 3 prints") {
		t.Fatalf("enroll: exit %d: %s%s", code, out, errOut)
	}
	code, _, errOut = runBioCLI("enroll", "--id", "dr.c", "--store", store, "--model", model, p, p)
	if code != 1 || !strings.Contains(errOut, "--replace") {
		t.Errorf("second enrollment without --replace: exit %d, %s", code, errOut)
	}
	code, out, _ = runBioCLI("verify", "--id", "dr.c", "--store", store, "--model", model, p)
	if code != 0 || !strings.HasPrefix(out, "match dr.c score 1.000000") {
		t.Errorf("verify with the enrolled print: exit %d, %q", code, out)
	}
	// Whatever another finger scores, the decision, the exit status and
	// the threshold agree with each other.
	for _, q := range []string{printPath(3, 7), printPath(5, 6)} {
		code, out, _ = runBioCLI("verify", "--json", "--id", "dr.c", "--store", store, "--model", model, q)
		var d biometric.Decision
		if err := json.Unmarshal([]byte(out), &d); err != nil {
			t.Fatalf("verify --json: %v: %q", err, out)
		}
		if d.Match != (d.Score >= d.Threshold) || (code == 0) != d.Match || d.Threshold != rep.Operating.Threshold {
			t.Errorf("verify %s: exit %d, %+v (evaluated threshold %v)", q, code, d, rep.Operating.Threshold)
		}
	}
	code, out, _ = runBioCLI("identify", "--store", store, "--model", model, "--json", p)
	var a identifyAnswer
	if err := json.Unmarshal([]byte(out), &a); err != nil || code != 0 || !a.Match || a.ID != "dr.c" || a.Candidates != 1 {
		t.Errorf("identify: exit %d, %q (%v)", code, out, err)
	}

	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"verify", "--id", "nobody", "--store", store, "--model", model, p}, 1, "no template"},
		{[]string{"verify", "--id", "dr.c", "--store", store, "--model", model}, 2, "one print"},
		{[]string{"verify", "--store", store, p}, 2, "-id is required"},
		{[]string{"enroll", "--id", "../x", "--store", store, p, p}, 2, "clinician id"},
		{[]string{"enroll", "--id", "x", "--store", store, p}, 2, "2..16 prints"},
		{[]string{"identify", "--store", filepath.Join(work, "none"), p}, 1, "no store key"},
		{[]string{"verify", "--id", "dr.c", "--store", store, "--model", model, filepath.Join(work, "eval.json")}, 1, "not an image"},
		{[]string{"eval-biometrics", "--fingerprints", dir, "--enroll", "0"}, 2, "--enroll 0"},
	} {
		code, _, errOut := runBioCLI(tc.args...)
		if code != tc.code || !strings.Contains(errOut, tc.want) {
			t.Errorf("%q: exit %d, %q; want exit %d and %q", tc.args, code, errOut, tc.code, tc.want)
		}
	}
}

func TestParseWithPrints(t *testing.T) {
	fs := newFlags(env{&bytes.Buffer{}, &bytes.Buffer{}}, "x")
	id := fs.String("id", "", "")
	j := fs.Bool("json", false, "")
	pos, err := parseWithPrints(fs, []string{"a.png", "--id", "x", "b.png", "--json", "--", "--c.png"})
	if err != nil {
		t.Fatal(err)
	}
	if *id != "x" || !*j || strings.Join(pos, " ") != "a.png b.png --c.png" {
		t.Errorf("id %q json %v prints %q", *id, *j, pos)
	}
}
