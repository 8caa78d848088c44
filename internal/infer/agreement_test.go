//go:build cgo

package infer

import (
	"context"
	"fmt"
	"image"
	"path/filepath"
	"testing"

	"edge/internal/infer/prep"
	"edge/internal/testenv"
)

// TestInt8AgreesWithFP32 runs the full ResNet152, fp32 and int8 (the ones
// make model wrote, else ones built for the test run), on eight prints, one
// per finger where the shared prints are present and synthetic ones where
// not, and wants the mean cosine between the two feature vectors at least
// 0.99: the int8 model stands in for the fp32 one in every template.
func TestInt8AgreesWithFP32(t *testing.T) {
	fp, qp := fullModels(t)
	var prints []image.Image
	var from string
	if dir, ok := testenv.Lookup(t, "fingerprints/multi-impression"); ok {
		for f := 1; f <= 8; f++ {
			prints = append(prints, loadPrint(t, filepath.Join(dir, fmt.Sprintf("%d_2.png", f))))
		}
		from = dir
	} else {
		for i := range 8 {
			prints = append(prints, prep.Synthetic(256, 288, uint64(100+i)))
		}
		from = "synthetic prints (shared prints absent)"
	}
	ctx := context.Background()
	rt, err := LoadRuntime(ortLib(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Close()
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
	worst := 1.0
	for i, img := range prints {
		x, err := ef.Features(ctx, img)
		if err != nil {
			t.Fatal(err)
		}
		y, err := eq.Features(ctx, img)
		if err != nil {
			t.Fatal(err)
		}
		c := cosine(x, y)
		if c != c {
			t.Fatalf("print %d: cosine is NaN", i+1)
		}
		sum += c
		worst = min(worst, c)
	}
	mean := sum / float64(len(prints))
	t.Logf("int8 vs fp32 over %d prints from %s: mean cosine %.6f, worst %.6f", len(prints), from, mean, worst)
	if mean < 0.99 {
		t.Errorf("mean cosine %.6f between int8 and fp32 features, want >= 0.99", mean)
	}
}
