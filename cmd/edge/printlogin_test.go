//go:build cgo

package main

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"image"
	"image/png"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"edge/internal/biometric"
	"edge/internal/testenv"
)

func writeGrayPNG(t *testing.T, path string, fill func(i int) uint8) string {
	t.Helper()
	img := image.NewGray(image.Rect(0, 0, 256, 288))
	for i := range img.Pix {
		img.Pix[i] = fill(i)
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := png.Encode(f, img); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestLoginByPrintCommands runs enroll, verify and identify on real prints:
// the minutiae matcher decides, an impostor finger is refused, and an image
// with no fingerprint is an error with its quality score, never a match.
func TestLoginByPrintCommands(t *testing.T) {
	dir := testenv.Path(t, "fingerprints/multi-impression")
	model := smallModel(t)
	work := t.TempDir()
	store := filepath.Join(work, "store")
	fp := func(f, i int) string { return filepath.Join(dir, fmt.Sprintf("%d_%d.png", f, i)) }
	mplot := filepath.Join(work, "roc-minutiae.png")

	code, out, errOut := runBioCLI("eval-biometrics", "--fingerprints", dir, "--model", model, "--store", store, "--minutiae-plot", mplot)
	if code != 0 {
		t.Fatalf("eval-biometrics: exit %d: %s", code, errOut)
	}
	for _, want := range []string{"minutiae enroll 3, probe the rest: 40 genuine, 280 impostor", "minutiae FVC protocol: 224 genuine, 28 impostor", "FTE ", "FMR1000 ", "ZeroFMR ", "fusion with the ResNet152 score"} {
		if !strings.Contains(out, want) {
			t.Errorf("eval-biometrics output lacks %q:\n%s", want, out)
		}
	}
	f, err := os.Open(mplot)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := png.Decode(f); err != nil {
		t.Errorf("minutiae ROC plot: %v", err)
	}
	f.Close()
	st, err := biometric.OpenStore(store)
	if err != nil {
		t.Fatal(err)
	}
	ids, _ := st.IDs()
	if len(ids) != 0 {
		t.Fatalf("evaluation enrolled %v", ids)
	}

	enroll := func(id string, finger int) {
		t.Helper()
		code, out, errOut := runBioCLI("enroll", "--id", id, "--store", store, "--model", model, fp(finger, 1), fp(finger, 2), fp(finger, 3))
		if code != 0 || !strings.HasPrefix(out, "enrolled "+id+" from 3 prints (minutiae") {
			t.Fatalf("enroll %s: exit %d: %s%s", id, code, out, errOut)
		}
	}
	enroll("dr.a", 1)
	enroll("dr.b", 2)
	for _, id := range []string{"dr.a", "dr.b"} {
		for _, ext := range []string{".tmpl", ".mnt"} {
			fi, err := os.Stat(filepath.Join(store, id+ext))
			if err != nil || fi.Mode().Perm() != 0o600 {
				t.Errorf("%s%s: %v, mode %v", id, ext, err, fi)
			}
		}
	}

	verify := func(id, print string) (int, biometric.Decision, string) {
		t.Helper()
		code, out, errOut := runBioCLI("verify", "--json", "--id", id, "--store", store, "--model", model, print)
		var d biometric.Decision
		if out != "" {
			if err := json.Unmarshal([]byte(out), &d); err != nil {
				t.Fatalf("verify --json: %v: %q", err, out)
			}
		}
		return code, d, errOut
	}
	if code, d, errOut := verify("dr.a", fp(1, 4)); code != 0 || !d.Match || d.Score < d.Threshold {
		t.Errorf("genuine print: exit %d, %+v, %s", code, d, errOut)
	}
	if code, d, errOut := verify("dr.a", fp(2, 5)); code != 1 || d.Match || d.Score >= d.Threshold || d.ID != "dr.a" {
		t.Errorf("impostor finger: exit %d, %+v, %s", code, d, errOut)
	}
	code, out, errOut = runBioCLI("identify", "--json", "--store", store, "--model", model, fp(1, 6))
	var a identifyAnswer
	if err := json.Unmarshal([]byte(out), &a); err != nil || code != 0 || !a.Match || a.ID != "dr.a" || a.Candidates != 2 {
		t.Errorf("identify a genuine print: exit %d, %q, %s", code, out, errOut)
	}
	code, out, _ = runBioCLI("identify", "--store", store, "--model", model, fp(6, 4))
	if code != 1 || !strings.HasPrefix(out, "no match: best score") {
		t.Errorf("identify an unenrolled finger: exit %d, %q", code, out)
	}

	// Prints of other readers, and of other people, are refused either as
	// no usable fingerprint or as no match; never a crash, never dr.a.
	others, _ := filepath.Glob(filepath.Join(dir, "..", "sensors", "*.png"))
	nist, _ := filepath.Glob(filepath.Join(dir, "..", "nist", "*.jpg"))
	for _, o := range append(others, nist...) {
		code, out, errOut := runBioCLI("verify", "--id", "dr.a", "--store", store, "--model", model, o)
		if code != 1 || !(strings.HasPrefix(out, "no match dr.a") || strings.Contains(errOut, "no usable fingerprint (quality ")) {
			t.Errorf("verify dr.a with %s: exit %d, %q, %q", filepath.Base(o), code, out, errOut)
		}
		t.Logf("%s: %s%s", filepath.Base(o), strings.TrimSpace(out), strings.TrimSpace(errOut))
	}

	rng := rand.New(rand.NewPCG(7, 7))
	blank := writeGrayPNG(t, filepath.Join(work, "blank.png"), func(int) uint8 { return 255 })
	black := writeGrayPNG(t, filepath.Join(work, "black.png"), func(int) uint8 { return 0 })
	noise := writeGrayPNG(t, filepath.Join(work, "noise.png"), func(int) uint8 { return uint8(rng.IntN(256)) })
	for _, img := range []string{blank, black, noise} {
		for _, args := range [][]string{
			{"verify", "--id", "dr.a", "--store", store, "--model", model, img},
			{"identify", "--store", store, "--model", model, img},
		} {
			code, out, errOut := runBioCLI(args...)
			if code != 1 || out != "" || !strings.Contains(errOut, "no usable fingerprint (quality ") {
				t.Errorf("%s %s: exit %d, stdout %q, stderr %q", args[0], filepath.Base(img), code, out, errOut)
			}
		}
	}
	code, _, errOut = runBioCLI("enroll", "--id", "dr.n", "--store", store, "--model", model, fp(3, 1), noise, fp(3, 3))
	if code != 1 || !strings.Contains(errOut, "print 2") || !strings.Contains(errOut, "no usable fingerprint") {
		t.Errorf("enroll with a noise image: exit %d, %s", code, errOut)
	}
	// Another finger among the enrollment prints is caught at enrollment.
	code, _, errOut = runBioCLI("enroll", "--id", "dr.x", "--store", store, "--model", model, fp(3, 1), fp(3, 2), fp(7, 1))
	if code != 1 || !strings.Contains(errOut, "do not agree") {
		t.Errorf("enroll with another finger's print: exit %d, %s", code, errOut)
	}
	if has, _ := st.Has("dr.n"); has {
		t.Error("a refused enrollment left a template")
	}

	// A second evaluation raises the calibration's version; the clinicians
	// still log in.
	cal1, err := st.Calibration(mustModelHash(t, model))
	if err != nil {
		t.Fatal(err)
	}
	if code, _, errOut := runBioCLI("eval-biometrics", "--fingerprints", dir, "--model", model, "--store", store, "--target-far", "0.01"); code != 0 {
		t.Fatalf("second eval-biometrics: %s", errOut)
	}
	cal2, err := st.Calibration(mustModelHash(t, model))
	if err != nil {
		t.Fatal(err)
	}
	if cal2.Version != cal1.Version+1 || cal2.MinutiaeRule != "fmr<=0.01" || !(cal2.MinutiaeThreshold > 0) {
		t.Errorf("calibration %d (%s %v) after %d (%s %v)", cal2.Version, cal2.MinutiaeRule, cal2.MinutiaeThreshold, cal1.Version, cal1.MinutiaeRule, cal1.MinutiaeThreshold)
	}
}

// mustModelHash is the SHA-256 of the model file, what the extractor
// reports as its model.
func mustModelHash(t *testing.T, path string) [32]byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return sha256.Sum256(b)
}
