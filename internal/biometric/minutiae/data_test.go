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

// multiImpression extracts every F_I.png print of the shared set, in
// (finger, impression) order. A refused print has a nil template.
func multiImpression(t testing.TB) []Sample {
	t.Helper()
	dir := testenv.Path(t, "fingerprints/multi-impression")
	names, err := filepath.Glob(filepath.Join(dir, "*_*.png"))
	if err != nil || len(names) == 0 {
		t.Skipf("no prints in %s", dir)
	}
	var out []Sample
	for _, n := range names {
		base := strings.TrimSuffix(filepath.Base(n), ".png")
		f, i, ok := strings.Cut(base, "_")
		imp, err := strconv.Atoi(i)
		if !ok || err != nil {
			continue
		}
		tm, _, err := Extract(decodeFile(t, n), 500)
		if err != nil {
			t.Logf("%s: %v", base, err)
		}
		out = append(out, Sample{Finger: f, Impression: imp, Template: tm})
	}
	sort.Slice(out, func(a, b int) bool {
		if out[a].Finger != out[b].Finger {
			return out[a].Finger < out[b].Finger
		}
		return out[a].Impression < out[b].Impression
	})
	return out
}
