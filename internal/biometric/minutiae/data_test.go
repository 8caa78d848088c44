package minutiae

import (
	"image"
	_ "image/jpeg"
	_ "image/png"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"

	"edge/internal/testenv"
)

func decodeFile(t testing.TB, path string) image.Image {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, _, err := image.Decode(f)
	if err != nil {
		t.Fatalf("decode %s: %v", path, err)
	}
	return img
}

// The shared prints are extracted once per test binary: several tests and
// benchmarks use them, and extraction dominates their run time.
var (
	samplesOnce sync.Once
	samplesDir  string
	samplesAll  []Sample
	samplesImgs map[string]image.Image
)

// multiImpression extracts every F_I.png print of the shared set, in
// (finger, impression) order. A refused print has a nil template.
func multiImpression(t testing.TB) []Sample {
	t.Helper()
	dir := testenv.Path(t, "fingerprints/multi-impression")
	samplesOnce.Do(func() {
		samplesDir = dir
		samplesImgs = map[string]image.Image{}
		names, _ := filepath.Glob(filepath.Join(dir, "*_*.png"))
		for _, n := range names {
			base := strings.TrimSuffix(filepath.Base(n), ".png")
			f, i, ok := strings.Cut(base, "_")
			imp, err := strconv.Atoi(i)
			if !ok || err != nil {
				continue
			}
			img := decodeFile(t, n)
			samplesImgs[base] = img
			tm, _, err := Extract(img, 500)
			if err != nil {
				t.Logf("%s: %v", base, err)
			}
			samplesAll = append(samplesAll, Sample{Finger: f, Impression: imp, Template: tm})
		}
		sort.Slice(samplesAll, func(a, b int) bool {
			if samplesAll[a].Finger != samplesAll[b].Finger {
				return samplesAll[a].Finger < samplesAll[b].Finger
			}
			return samplesAll[a].Impression < samplesAll[b].Impression
		})
	})
	if len(samplesAll) == 0 {
		t.Skipf("no F_I.png prints in %s", dir)
	}
	return samplesAll
}

// sampleImage returns the decoded print "F_I" of the shared set.
func sampleImage(t testing.TB, name string) image.Image {
	t.Helper()
	multiImpression(t)
	img, ok := samplesImgs[name]
	if !ok {
		t.Skipf("print %s not in the shared set", name)
	}
	return img
}
