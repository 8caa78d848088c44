package main

import (
	"bytes"
	"encoding/json"
	"image"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"edge/internal/infer/features"
	"edge/internal/medimg"
)

func TestUsageAndUnknownCommands(t *testing.T) {
	code, out, stderr := runCLI()
	if code != 2 || out != "" || !strings.HasPrefix(stderr, "usage: edge COMMAND [flags]") {
		t.Fatalf("no arguments: exit %d, stdout %q, stderr %q; want 2 and the usage", code, out, stderr)
	}
	for _, c := range commands() {
		if !strings.Contains(stderr, "\n  "+c.name+" ") {
			t.Errorf("usage does not list %s:\n%s", c.name, stderr)
		}
	}
	for _, h := range []string{"help", "-h", "--help"} {
		if code, _, e := runCLI(h); code != 0 || e != stderr {
			t.Errorf("%s: exit %d, want 0 and the same usage", h, code)
		}
	}
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"frobnicate"}, 2, `edge: unknown command "frobnicate" (see edge help)`},
		{[]string{"Protect"}, 2, `unknown command "Protect"`},
		{[]string{"model"}, 2, "edge model: usage: edge model build"},
		{[]string{"model", "train"}, 2, "edge model: usage: edge model build"},
		{[]string{"infer"}, 2, "edge infer: usage: edge infer info"},
		{[]string{"infer", "run"}, 2, "edge infer: usage: edge infer info"},
		{[]string{"sensor"}, 2, "missing sensor command"},
		{[]string{"sensor", "dance"}, 2, `unknown sensor command "dance"`},
		{[]string{"synth-print", "--out"}, 2, "flag needs an argument"},
		{[]string{"synth-print", "--bogus", "x"}, 2, "flag provided but not defined: -bogus"},
		{[]string{"synth-print", "--out", "x.png", "extra"}, 2, `unexpected argument "extra"`},
		{[]string{"features", "--out", "x.f32"}, 2, "-fingerprint is required"},
		{[]string{"model", "build"}, 2, "-out is required"},
		{[]string{"model", "build", "--out", "m.onnx", "--blocks", "1,2"}, 2, `--blocks "1,2": want four numbers`},
		{[]string{"model", "build", "--out", "m.onnx", "--blocks", "1,x,1,1"}, 2, `--blocks "1,x,1,1"`},
		{[]string{"model", "quantize", "--in", "m.onnx"}, 2, "-out is required"},
		{[]string{"model", "quantize", "--in", "m.onnx", "--out", "m.onnx"}, 2, "--out is the same file as --in"},
		{[]string{"eval", "--images", "d", "--json", "j"}, 2, "-report is required"},
	} {
		code, out, e := runCLI(tc.args...)
		if code != tc.code || !strings.Contains(e, tc.want) || out != "" {
			t.Errorf("%q: exit %d, stdout %q, stderr %q; want exit %d and %q", tc.args, code, out, e, tc.code, tc.want)
		}
	}
	// -h on a command is not a mistake: its flags, exit 0.
	if code, _, e := runCLI("synth-print", "-h"); code != 0 || !strings.Contains(e, "-seed") {
		t.Errorf("synth-print -h: exit %d, %q", code, e)
	}
	if code, _, e := runCLI("sensor", "help"); code != 0 || !strings.Contains(e, "usage: edge sensor") {
		t.Errorf("sensor help: exit %d, %q", code, e)
	}
}

func readPNG(t *testing.T, p string) image.Image {
	t.Helper()
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("%s: %v", p, err)
	}
	return img
}

func TestSynthPrint(t *testing.T) {
	dir := t.TempDir()
	a, b, c := filepath.Join(dir, "a.png"), filepath.Join(dir, "b.png"), filepath.Join(dir, "c.png")
	code, out, e := runCLI("synth-print", "--out", a, "--seed", "7")
	if code != 0 || out != a+": synthetic fingerprint 256×288, seed 7\n" {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, out, e)
	}
	runCLI("synth-print", "--out", b, "--seed", "7")
	runCLI("synth-print", "--out", c, "--seed", "8", "--width", "100", "--height", "120")
	ab, _ := os.ReadFile(a)
	bb, _ := os.ReadFile(b)
	if len(ab) == 0 || !bytes.Equal(ab, bb) {
		t.Error("the same seed drew different files")
	}
	g, ok := readPNG(t, a).(*image.Gray)
	if !ok || g.Rect.Dx() != 256 || g.Rect.Dy() != 288 {
		t.Fatalf("print is %T %v, want 256×288 gray", readPNG(t, a), readPNG(t, a).Bounds())
	}
	// A print has ridges and valleys, not one grey.
	lo, hi := 255, 0
	for _, v := range g.Pix {
		lo, hi = min(lo, int(v)), max(hi, int(v))
	}
	if hi-lo < 100 {
		t.Errorf("print spans grey levels %d..%d, want ridges and valleys", lo, hi)
	}
	if im := readPNG(t, c); im.Bounds().Dx() != 100 || im.Bounds().Dy() != 120 {
		t.Errorf("--width 100 --height 120 drew %v", im.Bounds())
	}
	for _, sz := range [][]string{{"--width", "31"}, {"--height", "4097"}} {
		p := filepath.Join(dir, "bad.png")
		code, _, e := runCLI(append([]string{"synth-print", "--out", p}, sz...)...)
		if code != 2 || !strings.Contains(e, "outside 32×32 to 4096×4096") {
			t.Errorf("%v: exit %d, %q", sz, code, e)
		}
		if _, err := os.Stat(p); err == nil {
			t.Errorf("%v: wrote %s", sz, p)
		}
	}
	if code, _, e := runCLI("synth-print", "--out", filepath.Join(dir, "none", "x.png")); code != 1 || !strings.Contains(e, "none") {
		t.Errorf("unwritable folder: exit %d, %q", code, e)
	}
}

// evalInputs writes two generated images (8-bit and 12-of-16-bit) and two
// feature files, the inputs of edge eval without the shared data. (A PNG
// keeps no bits-stored: the 12-bit one reads back as 16.)
func evalInputs(t *testing.T) (images, feats string) {
	t.Helper()
	dir := t.TempDir()
	images, feats = filepath.Join(dir, "images"), filepath.Join(dir, "features")
	os.Mkdir(images, 0o755)
	os.Mkdir(feats, 0o755)
	for _, c := range []struct {
		name string
		bits int
	}{{"a8.png", 8}, {"b12.png", 12}} {
		alloc := 8
		if c.bits > 8 {
			alloc = 16
		}
		im := &medimg.Image{Width: 128, Height: 96, Frames: 1, Channels: 1, BitsAllocated: alloc, BitsStored: c.bits, Photometric: medimg.Monochrome2}
		im.Pix = make([]int32, 128*96)
		top := float64(int(1)<<c.bits - 1)
		for i := range im.Pix {
			x, y := float64(i%128), float64(i/128)
			im.Pix[i] = int32(top * (0.1 + 0.35*(1+math.Sin(x/9)*math.Cos(y/13)) + 0.05*math.Sin(float64(i)*0.37)))
		}
		if err := medimg.WriteFile(filepath.Join(images, c.name), im, nil); err != nil {
			t.Fatal(err)
		}
	}
	os.WriteFile(filepath.Join(images, "notes.txt"), []byte("not an image"), 0o644)
	for k := range 2 {
		f := make([]float32, features.Len)
		for i := range f {
			f[i] = float32(math.Sin(float64(i*(k+3)) * 0.7))
		}
		if err := features.WriteFeatures(filepath.Join(feats, string(rune('a'+k))+".f32"), f); err != nil {
			t.Fatal(err)
		}
	}
	return images, feats
}

func TestEval(t *testing.T) {
	images, feats := evalInputs(t)
	dir := t.TempDir()
	js, md := filepath.Join(dir, "eval.json"), filepath.Join(dir, "eval.md")
	code, out, e := runCLI("eval", "--images", images, "--features", feats, "--scheme", "both", "--json", js, "--report", md)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, e)
	}
	for _, want := range []string{"v1    2 images: exact 2,", "paper 2 images: exact 2,", "BER 0, NC 1"} {
		if !strings.Contains(out, want) {
			t.Errorf("stdout lacks %q:\n%s", want, out)
		}
	}
	var rep struct {
		Images []struct {
			Name       string `json:"name"`
			BitsStored int    `json:"bits_stored"`
			RawBytes   int    `json:"raw_bytes"`
		} `json:"images"`
		Summary []struct {
			Scheme string `json:"scheme"`
			Images int    `json:"images"`
			Exact  int    `json:"exact"`
			Failed int    `json:"failed"`
		} `json:"summary"`
	}
	b, err := os.ReadFile(js)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatalf("%v: %s", err, b)
	}
	if len(rep.Images) != 2 || rep.Images[0].Name != "a8.png" || rep.Images[1].BitsStored != 16 || rep.Images[1].RawBytes != 128*96*2 {
		t.Errorf("images in the report: %+v", rep.Images)
	}
	if len(rep.Summary) != 2 {
		t.Fatalf("summary %+v, want one per scheme", rep.Summary)
	}
	for _, s := range rep.Summary {
		if s.Images != 2 || s.Exact != 2 || s.Failed != 0 {
			t.Errorf("summary %+v, want 2 images restored exactly", s)
		}
	}
	m, err := os.ReadFile(md)
	if err != nil || !bytes.Contains(m, []byte("| a8.png |")) || !bytes.Contains(m, []byte("b12.png")) {
		t.Errorf("Markdown report (%v):\n%s", err, m)
	}

	// One scheme, no JPEG-LS.
	code, out, e = runCLI("eval", "--images", images, "--features", feats, "--scheme", "paper", "--no-jpegls", "--json", js, "--report", md)
	if code != 0 || strings.Contains(out, "v1 ") || !strings.Contains(out, "paper 2 images: exact 2,") {
		t.Errorf("--scheme paper: exit %d, stdout %q, stderr %q", code, out, e)
	}

	empty := t.TempDir()
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"--images", images, "--json", js, "--report", md}, 2, "give exactly one of -fingerprints and -features"},
		{[]string{"--images", images, "--features", feats, "--fingerprints", empty, "--json", js, "--report", md}, 2, "exactly one"},
		{[]string{"--images", images, "--features", feats, "--scheme", "rot13", "--json", js, "--report", md}, 2, "rot13"},
		{[]string{"--images", images, "--features", empty, "--json", filepath.Join(dir, "x.json"), "--report", filepath.Join(dir, "x.md")}, 1, "no .f32 feature files in " + empty},
		{[]string{"--images", empty, "--features", feats, "--json", filepath.Join(dir, "x.json"), "--report", filepath.Join(dir, "x.md")}, 1, "no PNG or DICOM images in " + empty},
		{[]string{"--images", filepath.Join(dir, "none"), "--features", feats, "--json", filepath.Join(dir, "x.json"), "--report", filepath.Join(dir, "x.md")}, 1, "none"},
		{[]string{"--images", images, "--fingerprints", empty, "--json", filepath.Join(dir, "x.json"), "--report", filepath.Join(dir, "x.md")}, 1, "no fingerprint images in " + empty},
	} {
		code, _, e := runCLI(append([]string{"eval"}, tc.args...)...)
		if code != tc.code || !strings.Contains(e, tc.want) {
			t.Errorf("eval %q: exit %d, %q; want exit %d and %q", tc.args, code, e, tc.code, tc.want)
		}
	}
	for _, f := range []string{"x.json", "x.md"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err == nil {
			t.Errorf("a failed eval left %s", f)
		}
	}
}
