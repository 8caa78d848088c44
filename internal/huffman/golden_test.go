package huffman

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"edge/internal/medimg"
)

var update = flag.Bool("update", false, "rewrite the golden streams and the fuzz seed corpus in testdata")

// goldenImages are small generated images, one per kind of stream feature:
// run mode, regular mode, RGB planes, signed 16-bit extremes, several frames.
// They use integer arithmetic only, so they are the same everywhere.
func goldenImages() map[string]*medimg.Image {
	lcg := uint32(12345)
	noise := func() int32 {
		lcg = lcg*1664525 + 1013904223
		return int32(lcg >> 29) // 0..7
	}
	return map[string]*medimg.Image{
		"gray8": testImage(24, 16, 1, 1, 8, 8, false, func(_, y, x, _ int) int32 {
			if x < 6 {
				return 0
			}
			return int32(40+x*5+y*3) + noise()
		}),
		"ct16s": testImage(20, 12, 1, 1, 16, 16, true, func(_, y, x, _ int) int32 {
			switch {
			case x == 0:
				return -32768
			case x == 19:
				return 32767
			}
			return int32(-1000+x*97-y*55) + 16*noise()
		}),
		"mr12x3": testImage(10, 9, 3, 1, 16, 12, false, func(f, y, x, _ int) int32 {
			return int32(2000+f*300+x*x*7+y*11) + noise()
		}),
		"rgb8": testImage(12, 10, 1, 3, 8, 8, false, func(_, y, x, c int) int32 {
			return int32(60+x*9+y*4+c*20) + noise()
		}),
		"bits1": testImage(17, 5, 1, 1, 8, 1, false, func(_, y, x, _ int) int32 {
			return int32((x/3 + y) % 2)
		}),
	}
}

// TestGolden pins the bitstream: a stream written on one architecture must
// decode on every other, so the encoder's output is fixed byte for byte.
// Predictive streams without a chroma palette are format version 3
// (testdata/golden/v3); zero-order streams are still version 1.
func TestGolden(t *testing.T) {
	for name, im := range goldenImages() {
		for _, zo := range []bool{false, true} {
			file := filepath.Join("testdata", "golden", "v3", name+".huf")
			if zo {
				file = filepath.Join("testdata", "golden", name+".zo.huf")
			}
			got := encodeBytes(t, im, zo)
			if !zo && got[4] != version3 {
				t.Fatalf("%s: encoder wrote format version %d, want 3", name, got[4])
			}
			checkGolden(t, file, got, im)
		}
	}
	if *update {
		writeFuzzSeeds(t)
	}
}

// checkGolden compares the stream the encoder wrote for im with the golden
// file (writing it first with -update), and decodes the golden file to im.
func checkGolden(t *testing.T, file string, got []byte, im *medimg.Image) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(file, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("%v (run go test -run Golden -update to write it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s: encoder wrote %d bytes differing from the golden %d bytes", file, len(got), len(want))
	}
	dec, err := NewDecoder(bytes.NewReader(want), Limits{}).Decode()
	if err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	equalImages(t, dec, im)
}

// goldenV4Images are generated images whose streams take version 4's
// chroma palette: a gray image with a pseudo-colour overlay, 8-bit, and
// 16-bit with two frames.
func goldenV4Images() map[string]*medimg.Image {
	return map[string]*medimg.Image{
		"overlay8":    overlayImage(64, 48, 1, 8),
		"overlay16x2": overlayImage(40, 30, 2, 16),
	}
}

// TestGoldenV4 pins the chroma palette's bitstream (testdata/golden/v4) as
// TestGolden pins the rest.
func TestGoldenV4(t *testing.T) {
	for name, im := range goldenV4Images() {
		file := filepath.Join("testdata", "golden", "v4", name+".huf")
		got := encodeBytes(t, im, false)
		if got[4] != version4 {
			t.Fatalf("%s: encoder wrote format version %d, want 4", name, got[4])
		}
		checkGolden(t, file, got, im)
	}
}

// TestGoldenV2 decodes the version 2 streams that envelopes sealed before
// version 3 hold, and checks that the encoder's version 2 mode, which the
// benchmarks compare against, still writes them byte for byte.
func TestGoldenV2(t *testing.T) {
	for name, im := range goldenImages() {
		file := filepath.Join("testdata", "golden", "v2", name+".huf")
		want, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		if want[4] != version2 {
			t.Fatalf("%s is format version %d, want 2", file, want[4])
		}
		if got := encodeVersion(t, im, version2); !bytes.Equal(got, want) {
			t.Errorf("%s: version 2 encoder wrote %d bytes differing from the golden %d bytes", file, len(got), len(want))
		}
		dec, err := NewDecoder(bytes.NewReader(want), Limits{}).Decode()
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		equalImages(t, dec, im)
	}
}

// encodeVersion encodes im as a predictive stream of format version ver.
func encodeVersion(t testing.TB, im *medimg.Image, ver byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	e := NewEncoder(&buf)
	e.version = ver
	if err := e.Encode(im); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestGoldenV1 decodes the predictive streams format version 1 wrote, which
// envelopes sealed by older firmware hold: they must open for good.
func TestGoldenV1(t *testing.T) {
	for name, im := range goldenImages() {
		file := filepath.Join("testdata", "golden", name+".huf")
		want, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		if want[4] != version1 {
			t.Fatalf("%s is format version %d, want 1", file, want[4])
		}
		dec, err := NewDecoder(bytes.NewReader(want), Limits{}).Decode()
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		equalImages(t, dec, im)
	}
}

// writeFuzzSeeds writes the seed corpus of the fuzz targets in the format
// "go test -fuzz" reads.
func writeFuzzSeeds(t *testing.T) {
	write := func(target, name string, values ...any) {
		dir := filepath.Join("testdata", "fuzz", target)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		b.WriteString("go test fuzz v1\n")
		for _, v := range values {
			if bs, ok := v.([]byte); ok {
				fmt.Fprintf(&b, "[]byte(%q)\n", bs)
				continue
			}
			fmt.Fprintf(&b, "%T(%#v)\n", v, v)
		}
		if err := os.WriteFile(filepath.Join(dir, name), b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for name, im := range goldenImages() {
		write("FuzzDecode", "v2-"+name, encodeVersion(t, im, version2))
		write("FuzzDecode", "v3-"+name, encodeBytes(t, im, false))
		write("FuzzDecodeZeroOrder", name, encodeBytes(t, im, true))
	}
	for name, im := range goldenV4Images() {
		write("FuzzDecode", "v4-"+name, encodeBytes(t, im, false))
	}
	for i, s := range []struct {
		w, h, frames, channels uint8
		bits                   uint8
		signed                 bool
		sparse                 uint8
		data                   []byte
	}{
		{1, 1, 1, 1, 8, false, 0, []byte{7}},
		{8, 8, 1, 1, 16, true, 0, []byte{0x00, 0x80, 0xff, 0x7f, 1, 2, 3}},
		{5, 4, 2, 3, 8, false, 0, []byte("rgb samples repeat")},
		{16, 3, 1, 1, 12, false, 0, bytes.Repeat([]byte{0}, 40)},
		{9, 9, 1, 1, 1, false, 0, []byte{0xaa, 0x55}},
		{39, 17, 0, 3, 15, false, 0, []byte{0xff, 0xff, 0, 0, 0x12, 0x34, 0xff, 0x7f}},
		{30, 30, 2, 1, 15, false, 10, []byte("sixteen-bit samples, few distinct values")},
		{20, 25, 0, 3, 11, true, 4, []byte{0x80, 0x00, 0x7f, 0xff, 1, 2, 3, 4, 5}},
		{33, 21, 1, 5, 8, false, 0, []byte("gray with a few colours on top")},
		{24, 30, 1, 7, 16, true, 3, []byte{0x10, 0x20, 0x30, 0x40, 0x50, 0x60, 0x70, 0x80, 0x90}},
	} {
		name := fmt.Sprintf("seed%d", i)
		write("FuzzRoundTrip", name, s.w, s.h, s.frames, s.channels, s.bits, s.signed, s.sparse, s.data)
		write("FuzzRoundTripZeroOrder", name, s.w, s.h, s.frames, s.channels, s.bits, s.signed, s.sparse, s.data)
	}
}
