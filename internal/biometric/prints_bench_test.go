package biometric

import (
	"context"
	"encoding/hex"
	"fmt"
	"path/filepath"
	"testing"

	"edge/internal/biometric/minutiae"
	"edge/internal/testenv"
)

// BenchmarkIdentifyPrint100 is one 1:N login by print among 100 enrolled
// clinicians: "store" as FindPrint does it (the probe's extraction, opening
// 100 sealed records files, preparing their 300 impressions, the search),
// "gallery" against a prepared Gallery (extraction and search).
// The 8 real fingers' records stand in for 100 clinicians' (speed does not
// depend on whose they are).
func BenchmarkIdentifyPrint100(b *testing.B) {
	dir := testenv.Path(b, "fingerprints/multi-impression")
	st, err := CreateStore(filepath.Join(b.TempDir(), "store"))
	if err != nil {
		b.Fatal(err)
	}
	if err := st.SaveCalibration(&Calibration{Threshold: 0.5, MinutiaeThreshold: 0.04, Model: hex.EncodeToString(testModel[:])}); err != nil {
		b.Fatal(err)
	}
	recs := make([][]*minutiae.Template, 8)
	for f := range recs {
		for i := 1; i <= 3; i++ {
			img, err := LoadImage(filepath.Join(dir, fmt.Sprintf("%d_%d.png", f+1, i)))
			if err != nil {
				b.Fatal(err)
			}
			t, err := ExtractPrint(img, 500)
			if err != nil {
				b.Fatal(err)
			}
			recs[f] = append(recs[f], t)
		}
	}
	vs := fingerVectors(1, 3, 2048, 0.3)
	for n := 0; n < 100; n++ {
		tm, err := NewTemplate(testModel, vs)
		if err != nil {
			b.Fatal(err)
		}
		if err := st.SavePrints(fmt.Sprintf("dr.%03d", n), tm, recs[n%8], false); err != nil {
			b.Fatal(err)
		}
	}
	probe, err := LoadImage(filepath.Join(dir, "1_5.png"))
	if err != nil {
		b.Fatal(err)
	}
	b.Run("store", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			d, n, err := st.FindPrint(context.Background(), probe, 500, testModel)
			if err != nil || !d.Match || n != 100 {
				b.Fatalf("%+v, %d candidates, %v", d, n, err)
			}
		}
	})
	b.Run("gallery", func(b *testing.B) {
		g, err := st.Gallery(context.Background(), testModel)
		if err != nil || g.Len() != 100 {
			b.Fatal(err)
		}
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			d, err := g.Find(context.Background(), probe, 500)
			if err != nil || !d.Match {
				b.Fatalf("%+v, %v", d, err)
			}
		}
	})
}
