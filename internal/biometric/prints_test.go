package biometric

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"edge/internal/biometric/minutiae"
	"edge/internal/testenv"
)

// wideMeans is blockMeans at 32×32 twice over: the 2048 values the
// protected template takes.
type wideMeans struct{}

func (wideMeans) Features(ctx context.Context, img image.Image) ([]float32, error) {
	v, err := blockMeans{32}.Features(ctx, img)
	if err != nil {
		return nil, err
	}
	return append(v, v...), nil
}

// calibratedPrintStore evaluates the real prints with the block-means
// features and the minutiae matcher and keeps the calibration in a new
// store.
func calibratedPrintStore(t *testing.T) (*Store, *Report, string) {
	t.Helper()
	dir := testenv.Path(t, "fingerprints/multi-impression")
	prints, err := ListPrints(dir)
	if err != nil {
		t.Fatal(err)
	}
	r, err := Evaluate(context.Background(), wideMeans{}, prints, EvalOptions{Minutiae: true, Model: testModel})
	if err != nil {
		t.Fatal(err)
	}
	st, err := CreateStore(filepath.Join(t.TempDir(), "store"))
	if err != nil {
		t.Fatal(err)
	}
	if err := st.SaveCalibration(r.Calibration()); err != nil {
		t.Fatal(err)
	}
	return st, r, dir
}

func loadPrints(t *testing.T, dir string, finger int, imps ...int) ([]image.Image, [][]float32) {
	t.Helper()
	var imgs []image.Image
	var vs [][]float32
	for _, i := range imps {
		img, err := LoadImage(filepath.Join(dir, fmt.Sprintf("%d_%d.png", finger, i)))
		if err != nil {
			t.Fatal(err)
		}
		v, err := wideMeans{}.Features(context.Background(), img)
		if err != nil {
			t.Fatal(err)
		}
		imgs, vs = append(imgs, img), append(vs, v)
	}
	return imgs, vs
}

func enrollByPrint(t *testing.T, st *Store, id string, dir string, finger int) {
	t.Helper()
	cal, err := st.Calibration(testModel)
	if err != nil {
		t.Fatal(err)
	}
	imgs, vs := loadPrints(t, dir, finger, 1, 2, 3)
	var ts []*minutiae.Template
	for _, img := range imgs {
		mt, err := ExtractPrint(img, 500)
		if err != nil {
			t.Fatal(err)
		}
		ts = append(ts, mt)
	}
	if _, err := EnrollPrints(ts, cal); err != nil {
		t.Fatal(err)
	}
	tmpl, err := NewTemplate(testModel, vs)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.SavePrints(id, tmpl, ts, false); err != nil {
		t.Fatal(err)
	}
}

func TestLoginByPrint(t *testing.T) {
	st, r, dir := calibratedPrintStore(t)
	m := r.Minutiae
	if m == nil || m.Fingers != 8 || m.Split.Genuine != 40 || m.Split.Impostor != 280 || m.FVC.Genuine != 8*28 || m.FVC.Impostor != 28 {
		t.Fatalf("minutiae report %+v", m)
	}
	cal, err := st.Calibration(testModel)
	if err != nil {
		t.Fatal(err)
	}
	if cal.MinutiaeThreshold != m.Threshold || cal.MinutiaeRule != "zero-fmr" || cal.Version != 1 {
		t.Fatalf("calibration keeps minutiae threshold %v (%s), version %d; evaluation measured %v", cal.MinutiaeThreshold, cal.MinutiaeRule, cal.Version, m.Threshold)
	}
	t.Logf("minutiae split: EER %.4f, FMR1000 %.4f, ZeroFMR %.4f; FVC EER %.4f; threshold %.4f (FNMR %.4f); fusion helps %v (%+v vs %+v)",
		m.Split.EER, m.Split.FMR1000, m.Split.ZeroFMR, m.FVC.EER, m.Threshold, m.FNMR, m.Fusion.Helps, m.Fusion.Fused, m.Fusion.Minutiae)

	enrollByPrint(t, st, "dr.a", dir, 1)
	enrollByPrint(t, st, "dr.b", dir, 2)
	// The records are sealed, 0600, and hold no record in the clear.
	b, err := os.ReadFile(st.printsPath("dr.a"))
	if err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(st.printsPath("dr.a")); fi.Mode().Perm() != 0o600 {
		t.Errorf("minutiae file mode %04o", fi.Mode().Perm())
	}
	recs, err := st.LoadPrints("dr.a")
	if err != nil || len(recs) != 3 {
		t.Fatalf("LoadPrints: %d records, %v", len(recs), err)
	}
	rec, _ := recs[0].Encode()
	if bytes.Contains(b, rec[:24]) {
		t.Error("the minutiae file holds a record header in the clear")
	}
	// A file of another clinician does not open under this id.
	if _, err := openPrints(st.key, "dr.b", b); !errors.Is(err, ErrOpen) {
		t.Errorf("dr.a's records opened as dr.b's: %v", err)
	}

	imgs, vs := loadPrints(t, dir, 1, 4, 5)
	d, ident, err := st.VerifyPrint("dr.a", imgs[0], 500, testModel, vs[0])
	if err != nil || !d.Match || ident == nil || ident.ClinicianID() != "dr.a" || d.Threshold != cal.MinutiaeThreshold {
		t.Fatalf("genuine print: %+v, identity %v, %v", d, ident != nil, err)
	}
	d, ident, err = st.VerifyPrint("dr.b", imgs[0], 500, testModel, vs[0])
	if err != nil || d.Match || ident != nil || d.Score >= d.Threshold {
		t.Fatalf("impostor print: %+v, identity %v, %v", d, ident != nil, err)
	}
	d, ident, n, err := st.IdentifyPrint(context.Background(), imgs[1], 500, testModel, vs[1])
	if err != nil || !d.Match || d.ID != "dr.a" || ident == nil || n != 2 {
		t.Fatalf("identify: %+v, identity %v, %d candidates, %v", d, ident != nil, n, err)
	}
	// Rotated by 30° and shifted by a quarter of its width, on a canvas
	// of the background's grey, the print still logs its finger in.
	moved := rotateShift(imgs[0], 30, imgs[0].Bounds().Dx()/4)
	if d, ident, err := st.VerifyPrint("dr.a", moved, 500, testModel, vs[0]); err != nil || !d.Match || ident == nil {
		t.Errorf("rotated and shifted print: %+v, %v", d, err)
	}
	g, err := st.Gallery(context.Background(), testModel)
	if err != nil || g.Len() != 2 {
		t.Fatalf("gallery: %v", err)
	}
	if d, ident, err := g.Identify(context.Background(), imgs[1], 500, vs[1]); err != nil || d.ID != "dr.a" || ident == nil || ident.ClinicianID() != "dr.a" {
		t.Fatalf("gallery identify: %+v, %v", d, err)
	}
	other, ov := loadPrints(t, dir, 5, 4)
	d, ident, _, err = st.IdentifyPrint(context.Background(), other[0], 500, testModel, ov[0])
	if err != nil || d.Match || d.ID != "" || ident != nil {
		t.Fatalf("identify an unenrolled finger: %+v, identity %v, %v", d, ident != nil, err)
	}

	// No usable fingerprint is an error with the quality score, never a
	// decision.
	blank := image.NewGray(image.Rect(0, 0, 256, 288))
	noise := image.NewGray(blank.Rect)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range noise.Pix {
		noise.Pix[i] = uint8(rng.IntN(256))
		blank.Pix[i] = 255
	}
	for name, img := range map[string]image.Image{"blank": blank, "noise": noise} {
		d, ident, err := st.VerifyPrint("dr.a", img, 500, testModel, vs[0])
		var qe *minutiae.QualityError
		if !errors.Is(err, minutiae.ErrNoFingerprint) || !errors.As(err, &qe) || d.Match || ident != nil {
			t.Errorf("%s: %+v, identity %v, %v", name, d, ident != nil, err)
		}
		_, ident, _, err = st.IdentifyPrint(context.Background(), img, 500, testModel, vs[0])
		if !errors.Is(err, minutiae.ErrNoFingerprint) || ident != nil {
			t.Errorf("%s identify: identity %v, %v", name, ident != nil, err)
		}
	}

	// A clinician enrolled before the records were kept is told to enroll
	// again, and is no candidate.
	tmpl, _ := NewTemplate(testModel, vs)
	if err := st.Save("dr.old", tmpl, false); err != nil {
		t.Fatal(err)
	}
	if _, _, err := st.VerifyPrint("dr.old", imgs[0], 500, testModel, vs[0]); !errors.Is(err, ErrNoPrints) {
		t.Errorf("verify without records: %v", err)
	}
	if _, _, n, err := st.IdentifyPrint(context.Background(), imgs[1], 500, testModel, vs[1]); err != nil || n != 2 {
		t.Errorf("identify beside a clinician without records: %d candidates, %v", n, err)
	}
	// Enrolling an id twice without replace is refused before anything
	// is written.
	if err := st.SavePrints("dr.a", tmpl, recs, false); !errors.Is(err, ErrExists) {
		t.Errorf("second enrollment: %v", err)
	}
}

func TestEnrollPrintsRefusesAnotherFinger(t *testing.T) {
	st, _, dir := calibratedPrintStore(t)
	cal, err := st.Calibration(testModel)
	if err != nil {
		t.Fatal(err)
	}
	var ts []*minutiae.Template
	for _, fi := range [][2]int{{1, 1}, {1, 2}, {6, 1}} {
		imgs, _ := loadPrints(t, dir, fi[0], fi[1])
		mt, err := ExtractPrint(imgs[0], 500)
		if err != nil {
			t.Fatal(err)
		}
		ts = append(ts, mt)
	}
	scores, err := EnrollPrints(ts, cal)
	var ae *AgreementError
	if !errors.As(err, &ae) || len(scores) != 3 || scores[2] >= cal.MinutiaeThreshold {
		t.Fatalf("another finger's print: scores %v, %v", scores, err)
	}
}

func TestDecodePrintsRejects(t *testing.T) {
	for name, b := range map[string][]byte{
		"empty":       nil,
		"magic":       []byte("XXXX\x01"),
		"no records":  []byte("EBM1\x00"),
		"truncated":   []byte("EBM1\x01\x10"),
		"overlong":    []byte("EBM1\x01\xff\xff\x00"),
		"bad record":  []byte("EBM1\x01\x02\x00ab"),
		"too many":    []byte("EBM1\xff"),
		"trailing":    append([]byte("EBM1\x01\x00\x00"), 0),
		"zero record": []byte("EBM1\x01\x00\x00"),
	} {
		if _, err := decodePrints(b); err == nil {
			t.Errorf("%s: decoded", name)
		}
	}
}

func FuzzDecodePrints(f *testing.F) {
	t := &minutiae.Template{Width: 300, Height: 300, Quality: 60}
	for i := 0; i < 10; i++ {
		t.Minutiae = append(t.Minutiae, minutiae.Minutia{X: uint16(20 * i), Y: uint16(10 + 20*i), Angle: uint8(25 * i), Kind: minutiae.Ending, Quality: 50})
	}
	rec, err := t.Encode()
	if err != nil {
		f.Fatal(err)
	}
	good := append([]byte("EBM1\x01"), byte(len(rec)), byte(len(rec)>>8))
	f.Add(append(good, rec...))
	f.Add([]byte("EBM1\x01\xff\xff"))
	f.Fuzz(func(t *testing.T, b []byte) {
		ts, err := decodePrints(b)
		if err != nil {
			return
		}
		for _, mt := range ts {
			if _, err := mt.Encode(); err != nil {
				t.Fatalf("a decoded record does not encode: %v", err)
			}
		}
	})
}

// rotateShift turns img by deg degrees about its centre and moves it right
// by dx pixels, on a canvas large enough to hold it, nearest neighbour,
// filled with white.
func rotateShift(img image.Image, deg float64, dx int) *image.Gray {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	side := int(math.Hypot(float64(w), float64(h))) + dx + 2
	out := image.NewGray(image.Rect(0, 0, side, side))
	for i := range out.Pix {
		out.Pix[i] = 255
	}
	sin, cos := math.Sincos(deg * math.Pi / 180)
	cx, cy := float64(side)/2, float64(side)/2
	for y := 0; y < side; y++ {
		for x := 0; x < side; x++ {
			u, v := float64(x-dx)-cx, float64(y)-cy
			sx := cos*u + sin*v + float64(w)/2
			sy := -sin*u + cos*v + float64(h)/2
			ix, iy := int(math.Floor(sx)), int(math.Floor(sy))
			if ix < 0 || iy < 0 || ix >= w || iy >= h {
				continue
			}
			out.SetGray(x, y, color.GrayModel.Convert(img.At(b.Min.X+ix, b.Min.Y+iy)).(color.Gray))
		}
	}
	return out
}
