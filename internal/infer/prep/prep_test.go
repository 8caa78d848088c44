package prep

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/image/bmp"
	"golang.org/x/image/tiff"

	"edge/internal/testenv"
)

// sensorImage is what a 256×288 sensor gives: 4-bit samples scaled to 8 bits.
func sensorImage() *image.Gray {
	s := Synthetic(256, 288, 3)
	for i, v := range s.Pix {
		s.Pix[i] = v / 17 * 17
	}
	return s
}

func TestFormatsGiveTheSameTensor(t *testing.T) {
	gray := sensorImage()
	want, err := Tensor(gray, Size)
	if err != nil {
		t.Fatal(err)
	}
	if len(want) != 3*Size*Size {
		t.Fatalf("%d values", len(want))
	}
	// The same gray levels as palette, RGB(A) and 16-bit gray.
	b := gray.Bounds()
	pal := image.NewPaletted(b, nil)
	for i := 0; i < 256; i++ {
		pal.Palette = append(pal.Palette, color.Gray{uint8(i)})
	}
	rgba := image.NewRGBA(b)
	g16 := image.NewGray16(b)
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			v := gray.GrayAt(x, y).Y
			pal.SetColorIndex(x, y, v)
			rgba.Set(x, y, color.RGBA{v, v, v, 255})
			g16.SetGray16(x, y, color.Gray16{uint16(v) * 0x101})
		}
	}
	encoders := map[string]func(*bytes.Buffer, image.Image) error{
		"png":  func(w *bytes.Buffer, m image.Image) error { return png.Encode(w, m) },
		"bmp":  func(w *bytes.Buffer, m image.Image) error { return bmp.Encode(w, m) },
		"tiff": func(w *bytes.Buffer, m image.Image) error { return tiff.Encode(w, m, nil) },
	}
	for name, img := range map[string]image.Image{"palette": pal, "rgba": rgba, "gray16": g16, "gray": gray} {
		for ename, enc := range encoders {
			var buf bytes.Buffer
			if err := enc(&buf, img); err != nil {
				t.Fatal(err)
			}
			dec, err := Decode(&buf)
			if err != nil {
				t.Fatalf("%s %s: %v", name, ename, err)
			}
			got, err := Tensor(dec, Size)
			if err != nil {
				t.Fatal(err)
			}
			for i := range got {
				if got[i] != want[i] {
					t.Fatalf("%s as %s: value %d is %v, want %v", name, ename, i, got[i], want[i])
				}
			}
		}
	}
	// JPEG is lossy: close, not equal.
	var buf bytes.Buffer
	jpeg.Encode(&buf, gray, &jpeg.Options{Quality: 95})
	dec, err := Decode(&buf)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := Tensor(dec, Size)
	var diff float64
	for i := range got {
		diff += math.Abs(float64(got[i] - want[i]))
	}
	if d := diff / float64(len(got)); d > 0.1 {
		t.Fatalf("JPEG mean difference %.3f", d)
	}
}

func TestTransparentIsWhite(t *testing.T) {
	img := image.NewNRGBA(image.Rect(0, 0, 64, 64))
	if got := luma(img.At(0, 0)); got != 0xffff {
		t.Fatalf("transparent pixel luma %#x, want 0xffff", got)
	}
	if got := luma(color.RGBA{0, 0, 0, 255}); got != 0 {
		t.Fatalf("black luma %#x", got)
	}
}

func TestStretchAndResize(t *testing.T) {
	// A faint image (values 100..120) stretches to the full range.
	g := make([]uint16, 1000)
	for i := range g {
		g[i] = uint16(100 + i%21)
	}
	Stretch(g)
	lo, hi := g[0], g[0]
	for _, v := range g {
		lo, hi = min(lo, v), max(hi, v)
	}
	if lo != 0 || hi != 65535 {
		t.Fatalf("stretched range %d..%d", lo, hi)
	}
	// Area averaging: a 4×1 row [0 100 200 300] to 2×1 is [50 250]; to 3×1
	// the middle output covers thirds of pixels 1 and 2.
	src := []uint16{0, 100, 200, 300}
	if got := Resize(src, 4, 1, 2, 1); got[0] != 50 || got[1] != 250 {
		t.Fatalf("4→2: %v", got)
	}
	if got := Resize(src, 4, 1, 3, 1); got[0] != 25 || got[1] != 150 || got[2] != 275 {
		t.Fatalf("4→3: %v", got)
	}
	if got := Resize([]uint16{7, 9}, 2, 1, 4, 1); got[0] != 7 || got[3] != 9 {
		t.Fatalf("2→4: %v", got)
	}
}

func TestRealPrint(t *testing.T) {
	for _, rel := range []string{"fingerprints/multi-impression/1_1.png", "fingerprints/nist/whorl.jpg"} {
		p := testenv.Path(t, rel)
		f, err := os.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		img, err := Decode(f)
		f.Close()
		if err != nil {
			t.Fatalf("%s: %v", rel, err)
		}
		x, err := Tensor(img, Size)
		if err != nil {
			t.Fatal(err)
		}
		// Channel 0 spans the normalised range of 0..1.
		lo, hi := float32(math.Inf(1)), float32(math.Inf(-1))
		for _, v := range x[:Size*Size] {
			lo, hi = min(lo, v), max(hi, v)
		}
		if lo > -2.0 || hi < 2.2 {
			t.Fatalf("%s: channel 0 range %.2f..%.2f, want about -2.12..2.25", rel, lo, hi)
		}
	}
}

// pngHeader is a valid PNG signature and IHDR for a w×h 8-bit gray image,
// without pixel data: enough for DecodeConfig.
func pngHeader(w, h uint32) []byte {
	var b bytes.Buffer
	b.WriteString("\x89PNG\r\n\x1a\n")
	ihdr := make([]byte, 17)
	copy(ihdr, "IHDR")
	binary.BigEndian.PutUint32(ihdr[4:], w)
	binary.BigEndian.PutUint32(ihdr[8:], h)
	ihdr[12] = 8
	binary.Write(&b, binary.BigEndian, uint32(13))
	b.Write(ihdr)
	binary.Write(&b, binary.BigEndian, crc32.ChecksumIEEE(ihdr))
	return b.Bytes()
}

func TestBadImages(t *testing.T) {
	var one bytes.Buffer
	png.Encode(&one, image.NewGray(image.Rect(0, 0, 1, 1)))
	for name, c := range map[string]struct {
		b    []byte
		want string
	}{
		"not an image": {[]byte("%PDF-1.4 hello"), "not an image"},
		"empty":        {nil, "not an image"},
		"1x1":          {one.Bytes(), "too small to be a fingerprint"},
		"huge header":  {pngHeader(100000, 100000), "larger than 4096×4096"},
		"header only":  {pngHeader(300, 300), "decode png"},
	} {
		_, err := Decode(bytes.NewReader(c.b))
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.HasPrefix(err.Error(), "prep: ") {
			t.Errorf("%s: err %v, want %q", name, err, c.want)
		}
		if name == "not an image" && !errors.Is(err, ErrNotImage) {
			t.Errorf("not an image: %v does not wrap ErrNotImage", err)
		}
	}
	if _, err := Tensor(image.NewGray(image.Rect(0, 0, 1, 1)), Size); err == nil || !strings.Contains(err.Error(), "too small") {
		t.Fatalf("Tensor 1×1: %v", err)
	}
}

// TestWriteFuzzSeeds keeps testdata/fuzz/FuzzDecode in step with the generator.
func TestWriteFuzzSeeds(t *testing.T) {
	var small, bm bytes.Buffer
	img := Synthetic(40, 36, 1)
	png.Encode(&small, img)
	bmp.Encode(&bm, img)
	seeds := map[string][]byte{"png": small.Bytes(), "bmp": bm.Bytes(), "huge": pngHeader(5000, 5000), "text": []byte("hello")}
	dir := filepath.Join("testdata", "fuzz", "FuzzDecode")
	for name, b := range seeds {
		want := "go test fuzz v1\n[]byte(" + quote(b) + ")\n"
		p := filepath.Join(dir, name)
		if got, err := os.ReadFile(p); err == nil && string(got) == want {
			continue
		}
		if os.Getenv("EDGE_UPDATE_SEEDS") == "" {
			t.Fatalf("%s is stale or missing; rerun with EDGE_UPDATE_SEEDS=1", p)
		}
		os.MkdirAll(dir, 0o755)
		if err := os.WriteFile(p, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func quote(b []byte) string {
	const hex = "0123456789abcdef"
	s := []byte{'"'}
	for _, c := range b {
		s = append(s, '\\', 'x', hex[c>>4], hex[c&15])
	}
	return string(append(s, '"'))
}

func FuzzDecode(f *testing.F) {
	f.Fuzz(func(t *testing.T, b []byte) {
		img, err := Decode(bytes.NewReader(b))
		if err != nil {
			return
		}
		r := img.Bounds()
		if r.Dx() < MinSide || r.Dy() < MinSide || r.Dx() > MaxSide || r.Dy() > MaxSide {
			t.Fatalf("accepted a %v image", r)
		}
		if _, err := Tensor(img, 32); err != nil {
			t.Fatal(err)
		}
	})
}

func BenchmarkTensorSensor(b *testing.B) {
	img := sensorImage()
	b.ReportAllocs()
	b.SetBytes(256 * 288)
	for b.Loop() {
		if _, err := Tensor(img, Size); err != nil {
			b.Fatal(err)
		}
	}
}
