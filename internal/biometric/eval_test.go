package biometric

import (
	"bytes"
	"context"
	"edge/internal/biometric/roc"
	"flag"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"testing"

	"edge/internal/testenv"
)

func TestParsePrintName(t *testing.T) {
	for _, tc := range []struct {
		name   string
		finger string
		imp    int
		ok     bool
	}{
		{"1_1.png", "1", 1, true},
		{"12_8.PNG", "12", 8, true},
		{"left-3_2.jpg", "left-3", 2, true},
		{"a_b_3.jpeg", "a_b", 3, true},
		{"1_0.png", "", 0, false},
		{"1_x.png", "", 0, false},
		{"_3.png", "", 0, false},
		{"1_1.txt", "", 0, false},
		{"3_4.tif", "3", 4, true},
		{"11.png", "", 0, false},
	} {
		f, n, ok := ParsePrintName(tc.name)
		if f != tc.finger || n != tc.imp || ok != tc.ok {
			t.Errorf("ParsePrintName(%q) = %q, %d, %v; want %q, %d, %v", tc.name, f, n, ok, tc.finger, tc.imp, tc.ok)
		}
	}
}

func TestScoresCounts(t *testing.T) {
	var fs []Finger
	for f := 0; f < 5; f++ {
		fs = append(fs, Finger{Name: string(rune('a' + f)), Vectors: fingerVectors(uint64(f), 6, 32, 0.4)})
	}
	gen, imp, _, err := Scores(fs, 2, false)
	if err != nil {
		t.Fatal(err)
	}
	if len(gen) != 5*4 || len(imp) != 5*4*4 {
		t.Fatalf("%d genuine, %d impostor scores; want 20 and 80", len(gen), len(imp))
	}
	r, err := Summarize(gen, imp, 0)
	if err != nil {
		t.Fatal(err)
	}
	// Noise 0.4 on 32 dimensions against independent directions separates
	// completely.
	if r.EER != 0 || r.Operating.FAR != 0 || r.Operating.FRR != 0 {
		t.Errorf("EER %v, FAR %v, FRR %v: want 0 for well-separated fingers", r.EER, r.Operating.FAR, r.Operating.FRR)
	}
	if _, _, _, err := Scores(fs[:1], 2, true); err == nil {
		t.Error("one finger accepted")
	}
	if _, _, _, err := Scores(fs, 6, true); err == nil {
		t.Error("no probes left, but no error")
	}
	short := append([]Finger{{Name: "z", Vectors: fingerVectors(9, 1, 32, 0.4)}}, fs...)
	if _, _, _, err := Scores(short, 2, true); err == nil {
		t.Error("finger with too few impressions accepted")
	}
}

func TestEvaluateSynthetic(t *testing.T) {
	dir := writeSynthSet(t, 4, 5)
	// A file that is not a print is ignored.
	if err := os.WriteFile(filepath.Join(dir, "README.txt"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	prints, err := ListPrints(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(prints) != 20 || prints[0].Finger != "1" || prints[4].Impression != 5 || prints[5].Finger != "2" {
		t.Fatalf("ListPrints order: %+v", prints[:6])
	}
	done := 0
	r, err := Evaluate(context.Background(), blockMeans{8}, prints, EvalOptions{Enroll: 3, Model: testModel, Progress: func(n, total int, _ Print) { done = n }})
	if err != nil {
		t.Fatal(err)
	}
	if done != 20 || r.Fingers != 4 || r.Probes != 8 || len(r.Genuine) != 8 || len(r.Impostor) != 24 || r.Enroll != 3 {
		t.Fatalf("report counts: progress %d, %d fingers, %d probes, %d genuine, %d impostor", done, r.Fingers, r.Probes, len(r.Genuine), len(r.Impostor))
	}
	var g, im float64
	for _, s := range r.Genuine {
		g += s
	}
	for _, s := range r.Impostor {
		im += s
	}
	g, im = g/float64(len(r.Genuine)), im/float64(len(r.Impostor))
	if g <= im || r.EER >= 0.5 {
		t.Errorf("mean genuine %.3f, impostor %.3f, EER %.3f: the block-mean feature should separate these fingers", g, im, r.EER)
	}
	t.Logf("synthetic set, block means: EER %.3f at %.4f, AUC %.3f", r.EER, r.EERPoint.Threshold, r.AUC)

	// The measured threshold goes into a store and comes back.
	s, err := CreateStore(filepath.Join(t.TempDir(), "s"))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.SaveCalibration(r.Calibration()); err != nil {
		t.Fatal(err)
	}
	cal, err := s.Calibration(testModel)
	if err != nil || cal.Threshold != r.Operating.Threshold || len(cal.Centre) != 64 {
		t.Fatalf("stored calibration %+v, %v; want threshold %v and 64 dimensions", cal, err, r.Operating.Threshold)
	}
	// The stored calibration decides as the evaluation did: a probe's
	// score against its own finger's template is the same number.
	probe, err := blockMeans{8}.Features(context.Background(), synthPrint(2, 5, 64))
	if err != nil {
		t.Fatal(err)
	}
	var enrolled [][]float32
	for i := 1; i <= 3; i++ {
		v, _ := blockMeans{8}.Features(context.Background(), synthPrint(2, i, 64))
		enrolled = append(enrolled, v)
	}
	score, err := (&Template{Model: testModel, Vectors: enrolled}).Score(cal, probe)
	if err != nil {
		t.Fatal(err)
	}
	// Probes of finger 2 are genuine scores 3 and 4 (two per finger).
	if score != r.Genuine[3] {
		t.Errorf("score with the stored calibration %v, evaluation had %v (genuine %v)", score, r.Genuine[3], r.Genuine)
	}
}

func TestEvaluateRealPrintsBlockMeans(t *testing.T) {
	dir := testenv.Path(t, "fingerprints/multi-impression")
	prints, err := ListPrints(dir)
	if err != nil {
		t.Fatal(err)
	}
	r, err := Evaluate(context.Background(), blockMeans{16}, prints, EvalOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if r.Fingers != 8 || len(r.Genuine) != 8*5 || len(r.Impostor) != 8*5*7 {
		t.Fatalf("%d fingers, %d genuine, %d impostor; want 8, 40, 280", r.Fingers, len(r.Genuine), len(r.Impostor))
	}
	if r.EER < 0 || r.EER > 1 || r.AUC < 0 || r.AUC > 1 {
		t.Fatalf("EER %v, AUC %v out of [0, 1]", r.EER, r.AUC)
	}
	t.Logf("multi-impression, 16×16 block means (no network): EER %.3f at %.4f, FAR %.3f FRR %.3f, AUC %.3f", r.EER, r.EERPoint.Threshold, r.Operating.FAR, r.Operating.FRR, r.AUC)
}

var plotOut = flag.String("plot", "", "write the ROC plot of TestPlotROC to this file, to look at")

func TestPlotROC(t *testing.T) {
	gen := []float64{0.875, 0.75, 0.625, 0.5}
	imp := []float64{0.5625, 0.4375, 0.375, 0.25}
	r, err := Summarize(gen, imp, 0.25)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := WritePNG(&buf, r); err != nil {
		t.Fatal(err)
	}
	buf0 := bytes.Clone(buf.Bytes())
	img, err := png.Decode(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if img.Bounds() != image.Rect(0, 0, plotW, plotH) {
		t.Fatalf("plot is %v", img.Bounds())
	}
	// The curve passes through (FAR 0, TPR 0.75): that pixel is the curve's
	// colour or covered by the EER marker drawn on it.
	x, y := toPlot(roc.Point{FAR: 0, TPR: 0.75})
	if c := img.At(x, y); c != colEER && c != colCurve {
		t.Errorf("pixel at the EER point is %v", c)
	}
	// The operating point at FAR ≤ 0.25 differs from the EER point and is
	// marked in its own colour.
	x, y = toPlot(r.Operating)
	if c := img.At(x, y); c != colOp {
		t.Errorf("operating point pixel is %v, want %v", c, colOp)
	}
	// Below the curve, away from grid and reference lines, stays white.
	x, y = toPlot(roc.Point{FAR: 0.55, TPR: 0.15})
	if r, g, b, _ := img.At(x, y).RGBA(); r != 0xffff || g != 0xffff || b != 0xffff {
		t.Errorf("pixel below the curve is %v, want white", img.At(x, y))
	}
	if *plotOut != "" {
		if err := os.WriteFile(*plotOut, buf0, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
