package minutiae

import (
	"bytes"
	"errors"
	"flag"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the fuzz seed corpus in testdata/fuzz")

// synthTemplate draws a template of n random minutiae; fuzz seeds and codec
// tests use it so that no real finger's minutiae are ever committed.
func synthTemplate(seed uint64, n int) *Template {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	t := &Template{Width: 248, Height: 338, Quality: uint8(rng.IntN(101))}
	for i := 0; i < n; i++ {
		t.Minutiae = append(t.Minutiae, Minutia{
			X: uint16(rng.IntN(int(t.Width))), Y: uint16(rng.IntN(int(t.Height))),
			Angle: uint8(rng.IntN(256)), Kind: Kind(1 + rng.IntN(2)), Quality: uint8(1 + rng.IntN(100)),
		})
	}
	return t
}

func TestRecordRoundTrip(t *testing.T) {
	for _, n := range []int{0, 1, 40, MaxMinutiae, 255} {
		tm := synthTemplate(uint64(n), n)
		b, err := tm.Encode()
		if err != nil {
			t.Fatal(err)
		}
		if want := 24 + 4 + 6*n + 2; len(b) != want {
			t.Errorf("%d minutiae: %d bytes, want %d", n, len(b), want)
		}
		if n <= MaxMinutiae && len(b) > 2048 {
			t.Errorf("%d minutiae: %d bytes, more than 2 KiB", n, len(b))
		}
		got, err := Decode(b)
		if err != nil {
			t.Fatalf("%d minutiae: %v", n, err)
		}
		if len(got.Minutiae) == 0 {
			got.Minutiae = nil
		}
		if len(tm.Minutiae) == 0 {
			tm.Minutiae = nil
		}
		if !reflect.DeepEqual(got, tm) {
			t.Errorf("%d minutiae: decoded template differs", n)
		}
	}
}

// The header and one minutia, byte by byte, as doc.go describes them.
func TestRecordLayout(t *testing.T) {
	tm := &Template{Width: 0x0302, Height: 0x0304, Quality: 77, Minutiae: []Minutia{{X: 0x0123, Y: 0x0234, Angle: 64, Kind: Bifurcation, Quality: 90}}}
	b, err := tm.Encode()
	if err != nil {
		t.Fatal(err)
	}
	want := []byte{'F', 'M', 'R', 0, ' ', '2', '0', 0, 0, 0, 0, 36, 0, 0, 3, 2, 3, 4, 0, 197, 0, 197, 1, 0,
		0, 0, 77, 1,
		0x81, 0x23, 0x02, 0x34, 64, 90,
		0, 0}
	if !bytes.Equal(b, want) {
		t.Errorf("record\n got % x\nwant % x", b, want)
	}
}

func TestDecodeRejects(t *testing.T) {
	good, err := synthTemplate(7, 3).Encode()
	if err != nil {
		t.Fatal(err)
	}
	mut := func(f func(b []byte) []byte) []byte { return f(append([]byte(nil), good...)) }
	cases := map[string][]byte{
		"empty":          {},
		"short header":   good[:20],
		"bad magic":      mut(func(b []byte) []byte { b[0] = 'X'; return b }),
		"ANSI version":   mut(func(b []byte) []byte { copy(b[4:], "030\x00"); return b }),
		"length too big": mut(func(b []byte) []byte { b[11]++; return b }),
		"truncated":      good[:len(good)-1],
		"trailing bytes": append(append([]byte(nil), good...), 0),
		"zero width":     mut(func(b []byte) []byte { b[14], b[15] = 0, 0; return b }),
		"resolution 0":   mut(func(b []byte) []byte { b[18], b[19] = 0, 0; return b }),
		"no views":       mut(func(b []byte) []byte { b[22] = 0; return b }),
		"reserved byte":  mut(func(b []byte) []byte { b[23] = 1; return b }),
		"more minutiae":  mut(func(b []byte) []byte { b[27] = 200; return b }),
		"type 3":         mut(func(b []byte) []byte { b[28] |= 0xC0; return b }),
		"x outside":      mut(func(b []byte) []byte { b[28], b[29] = 0x7F, 0xFF; return b }),
		"quality 101":    mut(func(b []byte) []byte { b[33] = 101; return b }),
		"extended past end": mut(func(b []byte) []byte {
			b[len(b)-1] = 9
			return b
		}),
		"too long": make([]byte, MaxRecordLen+1),
	}
	for name, b := range cases {
		_, err := Decode(b)
		var fe *FormatError
		if !errors.As(err, &fe) {
			t.Errorf("%s: %v, want a FormatError", name, err)
		}
	}
}

// A record from another extractor at another resolution is scaled to 500 dpi.
func TestDecodeScalesResolution(t *testing.T) {
	tm := &Template{Width: 200, Height: 300, Minutiae: []Minutia{{X: 100, Y: 150, Angle: 3, Kind: Ending, Quality: 50}}}
	b, _ := tm.Encode()
	b[18], b[19], b[20], b[21] = 0, 99, 0, 99 // ~250 dpi
	got, err := Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	if got.Width != 398 || got.Height != 597 || got.Minutiae[0].X != 199 || got.Minutiae[0].Y != 298 {
		t.Errorf("scaled to %d×%d, minutia at (%d,%d)", got.Width, got.Height, got.Minutiae[0].X, got.Minutiae[0].Y)
	}
}

func FuzzDecode(f *testing.F) {
	f.Fuzz(func(t *testing.T, b []byte) {
		tm, err := Decode(b)
		if err != nil {
			var fe *FormatError
			if !errors.As(err, &fe) {
				t.Fatalf("error %v is not a FormatError", err)
			}
			return
		}
		// What decodes re-encodes, decodes to the same, and can be compared.
		enc, err := tm.Encode()
		if err != nil {
			t.Fatalf("decoded template does not encode: %v", err)
		}
		again, err := Decode(enc)
		if err != nil {
			t.Fatalf("re-encoded record does not decode: %v", err)
		}
		if !reflect.DeepEqual(again.Minutiae, tm.Minutiae) && len(tm.Minutiae) > 0 {
			t.Fatal("decode(encode(decode(b))) differs")
		}
		p := Prepare(tm)
		if s := p.Compare(p); s < 0 || s > 1 {
			t.Fatalf("self score %v outside [0,1]", s)
		}
	})
}

// TestWriteFuzzSeeds keeps testdata/fuzz in step with its generator
// (-update rewrites it): records of synthetic templates and a few malformed
// ones, and synthetic images.
func TestWriteFuzzSeeds(t *testing.T) {
	dir := filepath.Join("testdata", "fuzz", "FuzzDecode")
	var seeds [][]byte
	for i, n := range []int{0, 1, 12, 40, 96} {
		b, err := synthTemplate(uint64(100+i), n).Encode()
		if err != nil {
			t.Fatal(err)
		}
		seeds = append(seeds, b)
	}
	two, _ := synthTemplate(9, 5).Encode()
	two[22] = 2
	two = append(two, two[24:]...) // a second view, same bytes
	two[8], two[9], two[10], two[11] = 0, 0, byte(len(two)>>8), byte(len(two))
	seeds = append(seeds, two, []byte("FMR\x00 20\x00"), []byte{})
	for i, s := range seeds {
		writeSeed(t, filepath.Join(dir, "seed"+strconv.Itoa(i)), "[]byte("+strconv.Quote(string(s))+")")
	}
	writeExtractSeeds(t)
}

// writeSeed checks the committed seed at path against what the generator
// makes now, and with -update rewrites it.
func writeSeed(t *testing.T, path string, values ...string) {
	t.Helper()
	var buf bytes.Buffer
	buf.WriteString("go test fuzz v1\n")
	for _, v := range values {
		buf.WriteString(v + "\n")
	}
	if got, err := os.ReadFile(path); err == nil && bytes.Equal(got, buf.Bytes()) {
		return
	}
	if !*update {
		t.Errorf("%s is stale or missing; rerun with -update", path)
		return
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}
