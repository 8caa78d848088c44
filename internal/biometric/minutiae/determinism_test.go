package minutiae

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// goldenDigest holds two SHA-256 digests computed on amd64: of every sample
// print's record, and of the split protocol's scores rounded to 1e-9. The
// same digests on arm64 and 32-bit arm (under qemu-user) show extraction
// gives the same bytes and matching the same scores on every architecture;
// scores are rounded because the last bits of a float64 may differ where a
// compiler fuses a multiply and an add, and no threshold sits that close to
// a score. A digest reveals nothing of a template.
const goldenDigest = "testdata/sample-digest.txt"

func TestDeterministicOutput(t *testing.T) {
	samples := multiImpression(t)
	h := sha256.New()
	hs := sha256.New()
	for _, s := range samples {
		if s.Template == nil {
			h.Write([]byte{0})
			continue
		}
		b, err := s.Template.Encode()
		if err != nil {
			t.Fatal(err)
		}
		h.Write(b)
	}
	ev, err := Evaluate(context.Background(), samples, 3)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range append(append([]float64(nil), ev.SplitGenuine...), ev.SplitImpostor...) {
		hs.Write(binary.BigEndian.AppendUint64(nil, uint64(math.Round(v*1e9))))
	}
	got := hex.EncodeToString(h.Sum(nil)) + "\n" + hex.EncodeToString(hs.Sum(nil))
	// The same print extracted again gives the same bytes.
	img := sampleImage(t, "1_1")
	a, _, errA := Extract(img, 500)
	b, _, errB := Extract(img, 500)
	if errA != nil || errB != nil {
		t.Fatalf("extract 1_1: %v, %v", errA, errB)
	}
	ea, _ := a.Encode()
	eb, _ := b.Encode()
	if !bytes.Equal(ea, eb) {
		t.Fatal("two extractions of one print differ")
	}
	if *update {
		if err := os.WriteFile(goldenDigest, []byte(got+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(filepath.Clean(goldenDigest))
	if err != nil {
		t.Fatalf("read %s (regenerate with -update): %v", goldenDigest, err)
	}
	if w := strings.TrimSpace(string(want)); got != w {
		t.Errorf("digests of the sample records and scores are\n%s\nwant\n%s\nextraction or matching changed, or differs on this architecture", got, w)
	}
}
