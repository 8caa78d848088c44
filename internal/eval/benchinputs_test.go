package eval

import (
	"encoding/binary"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"edge/internal/medimg"
	"edge/internal/testenv"
)

var benchInputs = flag.String("write-inputs", "", "write the inputs of scripts/bench-protect.sh into this folder")

// synthDR is a generated digital-radiography-like image: 16 bits stored,
// a smooth exposure field with a collimated border and structure, plus
// noise, from integer arithmetic only (the same on every machine).
func synthDR(n int) *medimg.Image {
	im := &medimg.Image{Width: n, Height: n, Frames: 1, Channels: 1, BitsAllocated: 16, BitsStored: 16, Photometric: medimg.Monochrome2}
	im.Pix = make([]int32, n*n)
	lcg := uint32(2463534242)
	for y := range n {
		for x := range n {
			lcg = lcg*1664525 + 1013904223
			noise := int32(lcg>>24) - 128
			v := int32(3000)
			if x > n/16 && x < n-n/16 && y > n/16 && y < n-n/16 {
				dx, dy := int64(2*x-n), int64(2*y-n)
				r2 := (dx*dx + dy*dy) * 1000 / int64(n*n)
				band := int32((x/(n/24+1)+y/(n/17+1))%5) * 900
				v = 20000 + int32(r2*18) + band + int32(x*7000/n) + noise
			}
			im.Pix[y*n+x] = min(max(v, 0), 65535)
		}
	}
	return im
}

// TestWriteBenchInputs writes what scripts/bench-protect.sh measures: a
// feature file, generated DR images of 256² to 3072², and DICOM copies of
// the PNG sample images so that the JPEG-LS tools can take them too; into
// -write-inputs DIR, or a temporary folder. Each image is read back and
// must hold the pixels written.
func TestWriteBenchInputs(t *testing.T) {
	dir := *benchInputs
	if dir == "" {
		dir = t.TempDir()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	f := make([]byte, 4*2048)
	lcg := uint32(99)
	for i := 0; i < 2048; i++ {
		lcg = lcg*1664525 + 1013904223
		binary.LittleEndian.PutUint32(f[4*i:], math.Float32bits(float32(lcg>>8)/(1<<24)-0.5))
	}
	if err := os.WriteFile(filepath.Join(dir, "features.f32"), f, 0o600); err != nil {
		t.Fatal(err)
	}
	put := func(path string, im *medimg.Image, c *medimg.Container) {
		t.Helper()
		if err := medimg.WriteFile(path, im, c); err != nil {
			t.Fatal(err)
		}
		got, _, err := medimg.ReadFile(path)
		if err != nil {
			t.Fatalf("reading back %s: %v", path, err)
		}
		if got.Width != im.Width || got.Height != im.Height || got.Channels != im.Channels || !slices.Equal(got.Pix, im.Pix) {
			t.Errorf("%s does not hold the %d×%d×%d pixels written", path, im.Width, im.Height, im.Channels)
		}
	}
	write := func(name string, im *medimg.Image) {
		c, err := medimg.NewDICOMContainer(im, "2.25.7"+fmt.Sprint(len(name)))
		if err != nil {
			t.Fatal(err)
		}
		put(filepath.Join(dir, name+".dcm"), im, c)
		put(filepath.Join(dir, name+".png"), im, nil)
	}
	for _, n := range []int{256, 512, 1024, 2048, 3072} {
		write(fmt.Sprintf("dr%d", n), synthDR(n))
	}
	med := testenv.Path(t, "medical")
	// 16-bit PNGs whose data use fewer bits: samples of 10, 12 and 14 bits
	// scaled up to 16 by bit replication (how a viewer widens them), and a
	// 16-bit palette-like image of 67 levels, multiples of 1024.
	sparse := filepath.Join(dir, "sparse")
	if err := os.MkdirAll(sparse, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		src, name string
		bits      int
	}{{"RG3_J2KR_decoded16.png", "cr-10bit-in-16.png", 10}, {"MR2_UNCR.dcm", "mr-12bit-in-16.png", 12}, {"mr-brain-0051.dcm", "mrbrain-12bit-in-16.png", 12}, {"CT_small.dcm", "ct-14bit-in-16.png", 14}} {
		im, _, err := medimg.ReadFile(filepath.Join(med, c.src))
		if err != nil {
			t.Fatal(err)
		}
		lo, hi := im.Pix[0], im.Pix[0]
		for _, v := range im.Pix {
			lo, hi = min(lo, v), max(hi, v)
		}
		out := &medimg.Image{Width: im.Width, Height: im.Height, Frames: 1, Channels: 1, BitsAllocated: 16, BitsStored: 16, Photometric: medimg.Monochrome2}
		out.Pix = make([]int32, len(im.Pix))
		top := int64(1)<<c.bits - 1
		for i, v := range im.Pix {
			// Into c.bits bits, then widened to 16 by replicating the top bits.
			u := int64(v-lo) * top / max(int64(hi-lo), 1)
			out.Pix[i] = int32(u<<(16-c.bits) | u>>(2*c.bits-16))
		}
		put(filepath.Join(sparse, c.name), out, nil)
	}
	cxr, _, err := medimg.ReadFile(filepath.Join(med, "cxr-00000001_000.png"))
	if err != nil {
		t.Fatal(err)
	}
	pal := &medimg.Image{Width: cxr.Width, Height: cxr.Height, Frames: 1, Channels: 1, BitsAllocated: 16, BitsStored: 16, Photometric: medimg.Monochrome2}
	pal.Pix = make([]int32, len(cxr.Pix))
	for i, v := range cxr.Pix {
		pal.Pix[i] = v * 63 / 255 * 1024
	}
	put(filepath.Join(sparse, "cxr-64-levels-16.png"), pal, nil)
	for name, src := range map[string]string{"cr1760": "RG3_J2KR_decoded16.png", "ct512rgb": "ct-abdomen-rgb-01.png", "mr1024": "MR2_UNCR.dcm"} {
		im, _, err := medimg.ReadFile(filepath.Join(med, src))
		if err != nil {
			t.Fatal(err)
		}
		write(name, im)
	}
}
