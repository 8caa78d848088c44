//go:build cgo

package main

import (
	"image"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"edge/internal/infer"
)

// With a board whose library is real, infer info loads that library with the
// board's providers, and features uses the board's installed model when
// --model is not given: the board's small test model gives 256 features,
// which the feature file (2048 values) refuses, where the default model
// would have given 2048.
func TestBoardLibraryAndModelAreUsed(t *testing.T) {
	lib, err := infer.LibraryPath("")
	if err != nil {
		t.Skipf("ONNX Runtime library not available: %v", err)
	}
	model := smallModel(t)
	prof := writeProfile(t, `,"ort_library":"`+lib+`","execution_providers":["xnnpack","cpu"],"install":{"model":"`+model+`"}`)
	code, out, errOut := runBoardCLI("infer", "info", "--board", prof)
	if code != 0 || !strings.Contains(out, "library     "+lib) || !strings.Contains(out, "in use      cpu") {
		t.Fatalf("infer info: exit %d\n%s%s", code, out, errOut)
	}
	if !strings.Contains(errOut, "xnnpack") {
		t.Errorf("the board's first provider was not tried: %s", errOut)
	}
	img := image.NewGray(image.Rect(0, 0, 96, 96))
	for i := range img.Pix {
		img.Pix[i] = uint8(i*37 + i/96*11)
	}
	dir := t.TempDir()
	fp := filepath.Join(dir, "p.png")
	f, err := os.Create(fp)
	if err != nil {
		t.Fatal(err)
	}
	if err := png.Encode(f, img); err != nil {
		t.Fatal(err)
	}
	f.Close()
	out32 := filepath.Join(dir, "p.f32")
	code, out, errOut = runBoardCLI("features", "--board", prof, "--fingerprint", fp, "--out", out32)
	if code != 1 || !strings.Contains(errOut, "256 values") {
		t.Fatalf("features with the board's model: exit %d\n%s%s", code, out, errOut)
	}
	// --model still wins over the board's.
	code, _, errOut = runBoardCLI("features", "--board", prof, "--model", filepath.Join(dir, "none.onnx"), "--fingerprint", fp, "--out", out32)
	if code != 1 || !strings.Contains(errOut, "none.onnx") {
		t.Errorf("--model with --board: exit %d, %s", code, errOut)
	}
}
