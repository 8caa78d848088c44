package eval

import (
	"encoding/binary"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
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
// the PNG sample images so that the JPEG-LS tools can take them too.
func TestWriteBenchInputs(t *testing.T) {
	if *benchInputs == "" {
		t.Skip("run with -write-inputs DIR to write the benchmark's inputs")
	}
	dir := *benchInputs
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
	write := func(name string, im *medimg.Image) {
		c, err := medimg.NewDICOMContainer(im, "2.25.7"+fmt.Sprint(len(name)))
		if err != nil {
			t.Fatal(err)
		}
		if err := medimg.WriteFile(filepath.Join(dir, name+".dcm"), im, c); err != nil {
			t.Fatal(err)
		}
		if err := medimg.WriteFile(filepath.Join(dir, name+".png"), im, nil); err != nil {
			t.Fatal(err)
		}
	}
	for _, n := range []int{256, 512, 1024, 2048, 3072} {
		write(fmt.Sprintf("dr%d", n), synthDR(n))
	}
	med := testenv.Path(t, "medical")
	for name, src := range map[string]string{"cr1760": "RG3_J2KR_decoded16.png", "ct512rgb": "ct-abdomen-rgb-01.png", "mr1024": "MR2_UNCR.dcm"} {
		im, _, err := medimg.ReadFile(filepath.Join(med, src))
		if err != nil {
			t.Fatal(err)
		}
		write(name, im)
	}
}
