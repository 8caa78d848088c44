//go:build cgo

package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
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
	code, _, errOut := runBioCLI("enroll", "--id", "a", "--store", store, "--model", model, printPath(1, 1), printPath(1, 2), printPath(1, 3))
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

	// Three impressions of one finger agree under the minutiae matcher,
	// and an enrolled impression then matches its own enrollment.
	p := printPath(3, 1)
	code, out, errOut = runBioCLI("enroll", "--id", "dr.c", "--store", store, "--model", model, p, printPath(3, 2), printPath(3, 3))
	if code != 0 || !strings.HasPrefix(out, "enrolled dr.c from 3 prints") {
		t.Fatalf("enroll: exit %d: %s%s", code, out, errOut)
	}
	code, _, errOut = runBioCLI("enroll", "--id", "dr.c", "--store", store, "--model", model, p, p, p)
	if code != 1 || !strings.Contains(errOut, "--replace") {
		t.Errorf("second enrollment without --replace: exit %d, %s", code, errOut)
	}
	code, out, _ = runBioCLI("verify", "--id", "dr.c", "--store", store, "--model", model, p)
	if code != 0 || !strings.HasPrefix(out, "match dr.c score ") {
		t.Errorf("verify with an enrolled print: exit %d, %q", code, out)
	}
	// Whatever another finger scores, the decision, the exit status and
	// the threshold agree with each other.
	for _, q := range []string{printPath(3, 7), printPath(5, 6)} {
		code, out, _ = runBioCLI("verify", "--json", "--id", "dr.c", "--store", store, "--model", model, q)
		var d biometric.Decision
		if err := json.Unmarshal([]byte(out), &d); err != nil {
			t.Fatalf("verify --json: %v: %q", err, out)
		}
		if d.Match != (d.Score >= d.Threshold) || (code == 0) != d.Match || rep.Minutiae == nil || d.Threshold != rep.Minutiae.Threshold {
			t.Errorf("verify %s: exit %d, %+v (evaluated minutiae report %+v)", q, code, d, rep.Minutiae)
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
		{[]string{"enroll", "--id", "../x", "--store", store, p, p, p}, 2, "clinician id"},
		{[]string{"enroll", "--id", "x", "--store", store, p, p}, 2, "3..16 prints"},
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

// wideModel is smallModel with the full model's 2048 features, which the
// feature code and K_bio need.
func wideModel(t *testing.T) string {
	t.Helper()
	smallModel(t) // skips the test, as there, when ONNX Runtime is absent
	m, err := resnet.Build(resnet.Config{Blocks: [4]int{1, 1, 1, 1}, Width: 64, Size: 64, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "wide.onnx")
	if err := os.WriteFile(p, m.Marshal(), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestNoTemplateMaterialInOutputs runs the clinician's whole path through
// the commands (calibrate, enroll, verify, identify, log in and protect,
// recover and verify at the hub, evaluate) and then searches every file
// they wrote, and everything they printed, for the clinician's binarised
// feature code and protected templates, raw and in hex and base64. Only the
// sealed template store and the hub's registration files may hold them.
// Every report must be 0600.
func TestNoTemplateMaterialInOutputs(t *testing.T) {
	prints := testenv.Path(t, "fingerprints/multi-impression")
	ct := testenv.Path(t, "medical/CT_small.dcm")
	model := wideModel(t)
	work := t.TempDir()
	out := filepath.Join(work, "out") // everything the commands write but the store, keys and registry
	store, registry := filepath.Join(work, "store"), filepath.Join(work, "registry")
	keys := filepath.Join(work, "keys")
	for _, d := range []string{out, filepath.Join(out, "features"), filepath.Join(out, "images")} {
		os.MkdirAll(d, 0o700)
	}
	p := func(f, i int) string { return filepath.Join(prints, fmt.Sprintf("%d_%d.png", f, i)) }
	o := func(name string) string { return filepath.Join(out, name) }
	logs := 0
	cli := func(wantCode int, args ...string) string {
		t.Helper()
		code, stdout, stderr := runBioCLI(args...)
		logs++
		os.WriteFile(o(fmt.Sprintf("log%02d.txt", logs)), []byte(stdout+stderr), 0o600)
		if code != wantCode {
			t.Fatalf("edge %s: exit %d, want %d: %s%s", strings.Join(args, " "), code, wantCode, stdout, stderr)
		}
		return stdout
	}
	cli(0, "eval-biometrics", "--fingerprints", prints, "--model", model, "--store", store, "--json", o("eval-bio.json"), "--plot", o("roc.png"), "--minutiae-plot", o("roc-minutiae.png"))
	cli(0, "enroll", "--id", "dr.c", "--store", store, "--model", model, "--registration-out", filepath.Join(work, "dr.c.reg"), p(1, 1), p(1, 2), p(1, 3))
	cli(0, "verify", "--id", "dr.c", "--store", store, "--model", model, "--json", p(1, 4))
	cli(0, "identify", "--store", store, "--model", model, "--json", p(1, 5))
	cli(1, "verify", "--id", "dr.c", "--store", store, "--model", model, p(2, 4))
	cli(0, "keys", "init", "--hub", filepath.Join(keys, "hub"))
	cli(0, "keys", "init", "--device", filepath.Join(keys, "device"), "--hub-pub", filepath.Join(keys, "hub", "hub.pub"))
	cli(0, "registry", "add", "--registry", registry, filepath.Join(work, "dr.c.reg"))
	cli(0, "registration", "--id", "dr.c", "--store", store, "--out", o("again.reg"))
	cli(1, "registration", "--id", "dr.c", "--store", store, "--out", o("again.reg"))
	os.Remove(o("again.reg")) // a registration holds the protected template by design
	dev := []string{"--hub-pub", filepath.Join(keys, "device", "hub.pub"), "--device-key", filepath.Join(keys, "device", "device.key")}
	hub := []string{"--hub-key", filepath.Join(keys, "hub", "hub.key"), "--device-pub", filepath.Join(keys, "device", "device.pub")}
	cli(0, append([]string{"protect", "--image", ct, "--fingerprint", p(1, 4), "--store", store, "--clinician", "dr.c", "--model", model,
		"--out", o("ct.edge"), "--marked-out", o("ct.marked.dcm"), "--report-json", o("protect.json")}, dev...)...)
	cli(1, append([]string{"protect", "--image", ct, "--fingerprint", p(2, 4), "--store", store, "--clinician", "dr.c", "--model", model,
		"--out", o("impostor.edge")}, dev...)...)
	rec := cli(0, append([]string{"recover", "--in", o("ct.edge"), "--models", model, "--registry", registry,
		"--out", o("ct.restored.dcm"), "--marked-out", o("ct.marked2.dcm"), "--report-json", o("recover.json")}, hub...)...)
	if !strings.Contains(rec, "verified (distance") {
		t.Errorf("recover did not verify the clinician: %s", rec)
	}
	// The evaluation's path: features from a file, sealed unverified.
	cli(0, "features", "--fingerprint", p(1, 4), "--model", model, "--out", o("features/c.f32"))
	cli(0, append([]string{"protect", "--image", ct, "--features", o("features/c.f32"), "--unverified", "--store", store, "--clinician", "dr.c",
		"--out", o("file.edge"), "--report-json", o("protect-file.json")}, dev...)...)
	cli(1, append([]string{"recover", "--in", o("file.edge"), "--models", model, "--out", o("file.restored.dcm")}, hub...)...)
	cli(0, append([]string{"recover", "--in", o("file.edge"), "--allow-unverified", "--registry", registry, "--out", o("file.restored.dcm"),
		"--report-json", o("recover-file.json")}, hub...)...)
	// The secret under which the images above were marked, before it goes.
	stBefore, err := biometric.OpenStore(store)
	if err != nil {
		t.Fatal(err)
	}
	tmBefore, err := stBefore.Load("dr.c")
	if err != nil {
		t.Fatal(err)
	}
	cli(0, "revoke", "--id", "dr.c", "--store", store, "--registration-out", filepath.Join(work, "dr.c.2.reg"))
	cli(0, "registry", "add", "--registry", registry, filepath.Join(work, "dr.c.2.reg"))
	cli(1, append([]string{"recover", "--in", o("ct.edge"), "--models", model, "--registry", registry, "--out", o("revoked.dcm")}, hub...)...)
	os.MkdirAll(o("images"), 0o700)
	ctBytes, _ := os.ReadFile(ct)
	os.WriteFile(o("images/ct.dcm"), ctBytes, 0o600)
	cli(0, "eval", "--images", o("images"), "--features", o("features"), "--scheme", "v1", "--no-jpegls", "--json", o("eval.json"), "--report", o("eval.md"))

	// The secrets: the probe's and the enrollment prints' feature codes,
	// the login's protected template and both registrations'.
	x, err := infer.Open(context.Background(), infer.Options{ModelPath: model})
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	st, err := biometric.OpenStore(store)
	if err != nil {
		t.Fatal(err)
	}
	var secrets [][]byte
	for _, pr := range []string{p(1, 1), p(1, 2), p(1, 3), p(1, 4), p(1, 5)} {
		v, err := x.FeaturesFile(context.Background(), pr)
		if err != nil {
			t.Fatal(err)
		}
		code, err := biometric.Code(v)
		if err != nil {
			t.Fatal(err)
		}
		secrets = append(secrets, code)
	}
	for _, reg := range []string{"dr.c.reg", "dr.c.2.reg"} {
		r, err := biometric.ReadRegistration(filepath.Join(work, reg))
		if err != nil {
			t.Fatal(err)
		}
		secrets = append(secrets, r.Template)
	}
	// The minutiae records: the enrolled impressions' (what the store
	// seals) and the probes', whole and without the generic header.
	recs, err := st.LoadPrints("dr.c")
	if err != nil {
		t.Fatal(err)
	}
	mts := recs
	for _, pr := range []string{p(1, 4), p(1, 5), p(2, 4)} {
		img, err := biometric.LoadImage(pr)
		if err != nil {
			t.Fatal(err)
		}
		mt, err := biometric.ExtractPrint(img, 500)
		if err != nil {
			t.Fatal(err)
		}
		mts = append(mts, mt)
	}
	for _, mt := range mts {
		rec, err := mt.Encode()
		if err != nil {
			t.Fatal(err)
		}
		secrets = append(secrets, rec, rec[28:])
	}
	v, _ := x.FeaturesFile(context.Background(), p(1, 4))
	tm, err := st.Load("dr.c")
	if err != nil {
		t.Fatal(err)
	}
	cal, err := st.Calibration(x.ModelHash())
	if err != nil {
		t.Fatal(err)
	}
	// The login's protected template (what ct.edge carries) and the one
	// a login would make after the revocation.
	for _, sec := range []biometric.Secret{tmBefore.Secret, tm.Secret} {
		pt, err := cal.Protect(&sec, v)
		if err != nil {
			t.Fatal(err)
		}
		secrets = append(secrets, pt)
	}

	forms := func(s []byte) map[string][]byte {
		return map[string][]byte{
			"raw": s, "hex": []byte(hex.EncodeToString(s)), "HEX": []byte(strings.ToUpper(hex.EncodeToString(s))),
			"base64": []byte(base64.StdEncoding.EncodeToString(s)), "base64url": []byte(base64.RawURLEncoding.EncodeToString(s)),
			"hex prefix": []byte(hex.EncodeToString(s[:16])), "base64 prefix": []byte(base64.StdEncoding.EncodeToString(s[:15])),
		}
	}
	files := 0
	filepath.WalkDir(out, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		files++
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		for i, s := range secrets {
			for form, enc := range forms(s) {
				if bytes.Contains(b, enc) {
					t.Errorf("%s holds secret %d (%s)", path, i, form)
				}
			}
		}
		if strings.HasSuffix(path, ".json") || strings.HasSuffix(path, ".md") {
			if st, _ := os.Stat(path); st.Mode().Perm() != 0o600 {
				t.Errorf("report %s has mode %04o, want 0600", path, st.Mode().Perm())
			}
		}
		return nil
	})
	if files < 15 {
		t.Errorf("searched only %d files", files)
	}
	t.Logf("searched %d files and %d logs for %d secrets", files, logs, len(secrets))
}
