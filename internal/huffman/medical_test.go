package huffman

import (
	"bytes"
	"errors"
	"image"
	"image/color"
	"image/png"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"edge/internal/medimg"
	"edge/internal/testenv"
)

// pngBest is the size of im's samples as a PNG at best compression: the bar
// the codec must clear on every image. Frames are stacked vertically; signed
// samples keep their 16-bit two's complement pattern.
func pngBest(t testing.TB, im *medimg.Image) int {
	t.Helper()
	r := image.Rect(0, 0, im.Width, im.Height*im.Frames)
	var m image.Image
	switch {
	case im.Channels == 3:
		rgba := image.NewNRGBA(r)
		for i := 0; i < len(im.Pix)/3; i++ {
			copy(rgba.Pix[4*i:], []byte{byte(im.Pix[3*i]), byte(im.Pix[3*i+1]), byte(im.Pix[3*i+2]), 255})
		}
		m = rgba
	case im.BitsAllocated == 8:
		g := image.NewGray(r)
		for i, v := range im.Pix {
			g.Pix[i] = byte(v)
		}
		m = g
	default:
		g := image.NewGray16(r)
		for i, v := range im.Pix {
			g.SetGray16(i%im.Width, i/im.Width, color.Gray16{Y: uint16(v)})
		}
		m = g
	}
	var buf bytes.Buffer
	if err := (&png.Encoder{CompressionLevel: png.BestCompression}).Encode(&buf, m); err != nil {
		t.Fatal(err)
	}
	return buf.Len()
}

// mark changes n random samples by ±1 (staying in range), the kind of
// change the reversible embedding makes, with a fixed seed.
func mark(im *medimg.Image, n int) *medimg.Image {
	m := im.Clone()
	lo, hi := m.Range()
	rng := rand.New(rand.NewPCG(7, uint64(len(m.Pix))))
	for range n {
		i := rng.IntN(len(m.Pix))
		switch v := m.Pix[i]; {
		case v == hi || (v > lo && rng.IntN(2) == 0):
			m.Pix[i] = v - 1
		default:
			m.Pix[i] = v + 1
		}
	}
	return m
}

// medicalImages reads every image of the shared medical folder that the
// medimg reader supports.
func medicalImages(t *testing.T) map[string]*medimg.Image {
	dir := testenv.Path(t, "medical")
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]*medimg.Image{}
	for _, e := range ents {
		name := e.Name()
		if !strings.HasSuffix(name, ".png") && !strings.HasSuffix(name, ".dcm") {
			continue
		}
		im, _, err := medimg.ReadFile(filepath.Join(dir, name))
		var ue *medimg.UnsupportedError
		if errors.As(err, &ue) {
			t.Logf("%s: skipped: %v", name, err) // JPEG 2000; its pixels are in a PNG beside it
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		out[name] = im
	}
	if len(out) == 0 {
		t.Fatalf("no readable PNG or DICOM sample images in %s", dir)
	}
	return out
}

func TestMedicalImages(t *testing.T) {
	enc := NewEncoder(nil)
	dec := NewDecoder(nil, Limits{})
	for name, orig := range medicalImages(t) {
		for _, v := range []struct {
			label string
			im    *medimg.Image
		}{{"original", orig}, {"marked", mark(orig, 2400)}} {
			t.Run(name+"/"+v.label, func(t *testing.T) {
				var buf bytes.Buffer
				enc.Reset(&buf)
				if err := enc.Encode(v.im); err != nil {
					t.Fatal(err)
				}
				n := buf.Len()
				dec.Reset(&buf)
				got, err := dec.Decode()
				if err != nil {
					t.Fatal(err)
				}
				equalImages(t, got, v.im)
				p := pngBest(t, v.im)
				var zo bytes.Buffer
				if err := EncodeZeroOrder(&zo, v.im); err != nil {
					t.Fatal(err)
				}
				zn := zo.Len()
				zi, err := DecodeZeroOrder(&zo, Limits{})
				if err != nil {
					t.Fatal(err)
				}
				equalImages(t, zi, v.im)
				t.Logf("raw %d  png-best %d  huffman %d (%.1f%% saved, %.3f of png)  zero-order %d",
					v.im.RawSize(), p, n, 100*(1-float64(n)/float64(v.im.RawSize())), float64(n)/float64(p), zn)
				if n >= p {
					t.Errorf("huffman %d bytes, not below png-best %d", n, p)
				}
			})
		}
	}
}
