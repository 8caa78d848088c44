package eval

import (
	"bytes"
	"context"
	"encoding/binary"
	"math"
	"math/rand/v2"
	"os/exec"
	"strings"
	"testing"

	"edge/internal/medimg"
)

func TestEntropy(t *testing.T) {
	if got := Entropy(bytes.Repeat([]byte{7}, 100)); got != 0 {
		t.Fatalf("constant: %g", got)
	}
	all := make([]byte, 256*4)
	for i := range all {
		all[i] = byte(i)
	}
	if got := Entropy(all); math.Abs(got-8) > 1e-12 {
		t.Fatalf("uniform: %g", got)
	}
	if got := Entropy([]byte{0, 1}); got != 1 {
		t.Fatalf("two symbols: %g", got)
	}
}

func TestNPCRUACIBytes(t *testing.T) {
	npcr, uaci := NPCRUACIBytes([]byte{0, 0, 0, 0}, []byte{0, 255, 0, 51})
	if npcr != 50 || math.Abs(uaci-30) > 1e-9 {
		t.Fatalf("npcr %g uaci %g", npcr, uaci)
	}
	npcr, uaci = NPCRUACIBytes([]byte{1, 2}, []byte{1, 2, 3, 4})
	if npcr != 50 || uaci != 50 {
		t.Fatalf("length difference: npcr %g uaci %g", npcr, uaci)
	}
}

func gray(w, h int, f func(x, y int) int32) *medimg.Image {
	im := &medimg.Image{Width: w, Height: h, Frames: 1, Channels: 1, BitsAllocated: 8, BitsStored: 8, Photometric: medimg.Monochrome2}
	im.Pix = make([]int32, w*h)
	for y := range h {
		for x := range w {
			im.Pix[y*w+x] = f(x, y)
		}
	}
	return im
}

func TestCorrelation(t *testing.T) {
	ramp := gray(64, 64, func(x, y int) int32 { return int32(x + y) })
	if h, v, d := Correlation(ramp); h < 0.99 || v < 0.99 || d < 0.99 {
		t.Fatalf("ramp: %g %g %g", h, v, d)
	}
	r := rand.New(rand.NewPCG(1, 2))
	noise := gray(256, 256, func(x, y int) int32 { return int32(r.IntN(256)) })
	if h, v, d := Correlation(noise); math.Abs(h) > 0.02 || math.Abs(v) > 0.02 || math.Abs(d) > 0.02 {
		t.Fatalf("noise: %g %g %g", h, v, d)
	}
	if h, _, _ := Correlation(gray(8, 8, func(x, y int) int32 { return 5 })); h != 0 {
		t.Fatalf("flat image: %g", h)
	}
}

func TestEncapsulatedSize(t *testing.T) {
	var b bytes.Buffer
	b.WriteString("junk")
	b.Write([]byte{0xE0, 0x7F, 0x10, 0x00, 'O', 'B', 0, 0, 0xFF, 0xFF, 0xFF, 0xFF})
	item := func(n int) {
		binary.Write(&b, binary.LittleEndian, [2]uint16{0xFFFE, 0xE000})
		binary.Write(&b, binary.LittleEndian, uint32(n))
		b.Write(make([]byte, n))
	}
	item(4)  // offset table: not counted
	item(10) // fragments
	item(6)
	binary.Write(&b, binary.LittleEndian, [2]uint16{0xFFFE, 0xE0DD})
	binary.Write(&b, binary.LittleEndian, uint32(0))
	n, err := encapsulatedSize(b.Bytes())
	if err != nil || n != 16 {
		t.Fatalf("%d, %v", n, err)
	}
	if _, err := encapsulatedSize(b.Bytes()[:b.Len()-12]); err == nil {
		t.Fatal("truncated pixel data accepted")
	}
}

func testFeatures() []float32 {
	r := rand.New(rand.NewPCG(3, 4))
	f := make([]float32, 2048)
	for i := range f {
		f[i] = float32(r.NormFloat64())
	}
	return f
}

func TestRunBothSchemes(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	im := gray(160, 128, func(x, y int) int32 {
		return int32(min(255, max(0, 100+int(60*math.Sin(float64(x)/11)*math.Cos(float64(y)/7))+r.IntN(3))))
	})
	opt := Options{Schemes: []string{"v1", "paper"}}
	if j, ok := FindJPEGLS(t.TempDir()); ok {
		opt.JPEGLS = j
	}
	if j, ok := FindJXL(t.TempDir()); ok {
		opt.JXL = j
	}
	rs, err := Run(context.Background(), []Source{{Name: "synthetic", Image: im, Features: testFeatures()}}, opt)
	if err != nil {
		t.Fatal(err)
	}
	res := rs[0]
	if res.PNGBytes == 0 || res.PNGBytes >= res.RawBytes {
		t.Fatalf("PNG size %d of %d", res.PNGBytes, res.RawBytes)
	}
	if opt.JPEGLS != nil && (res.JPEGLSBytes == 0 || res.JPEGLSBytes >= res.RawBytes) {
		t.Fatalf("JPEG-LS size %d (%s)", res.JPEGLSBytes, res.JPEGLSError)
	}
	if opt.JXL != nil && (res.JXLBytes == 0 || res.JXLBytes >= res.RawBytes) {
		t.Fatalf("JPEG XL size %d (%s)", res.JXLBytes, res.JXLError)
	}
	for _, s := range res.Schemes {
		if s.Error != "" || !s.Exact || s.BER != 0 || s.NC != 1 || s.PSNR < 54 || s.SSIM < 0.999 {
			t.Fatalf("%s: %+v", s.Scheme, s)
		}
		if !s.WrongKeyRejected || s.KeySensitivity < 90 {
			t.Fatalf("%s: key sensitivity %.2f %%, wrong key rejected %v", s.Scheme, s.KeySensitivity, s.WrongKeyRejected)
		}
	}
	v1, paper := res.Schemes[0], res.Schemes[1]
	if v1.BodyEntropy < 7.9 || v1.NPCR < 50 {
		t.Fatalf("v1 cipher: entropy %.4f NPCR %.2f", v1.BodyEntropy, v1.NPCR)
	}
	// Permutation alone moves the one changed sample and nothing else: the
	// paper scheme's known weakness, which the table must show, not hide.
	if paper.NPCR > 1 || paper.Cipher == nil || math.Abs(paper.Cipher.H) > 0.1 {
		t.Fatalf("paper cipher: NPCR %.3f correlation %+v", paper.NPCR, paper.Cipher)
	}
	if v1.BodyBytes >= paper.BodyBytes {
		t.Fatalf("v1 body %d not smaller than paper's %d", v1.BodyBytes, paper.BodyBytes)
	}
	var md strings.Builder
	sums := Summarise(rs)
	if err := WriteMarkdown(&md, rs, sums); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"| synthetic |", "## Cipher", "**mean**"} {
		if !strings.Contains(md.String(), want) {
			t.Fatalf("report lacks %q:\n%s", want, md.String())
		}
	}
	if sums[0].Exact != 1 || sums[0].BelowPNG != 1 {
		t.Fatalf("summary %+v", sums[0])
	}
}

func TestMinimalDICOMReadsBack(t *testing.T) {
	im := gray(33, 17, func(x, y int) int32 { return int32(x * y % 256) })
	var b bytes.Buffer
	if err := writeMinimalDICOM(&b, im); err != nil {
		t.Fatal(err)
	}
	got, c, err := medimg.Decode(b.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if c.Format != medimg.FormatDICOM || !bytes.Equal(got.RawBytes(), im.RawBytes()) {
		t.Fatal("minimal DICOM does not read back to the same pixels")
	}
	if _, err := exec.LookPath("dcmdump"); err == nil {
		j := &JPEGLS{Dir: t.TempDir()}
		if p, err := exec.LookPath("dcmcjpls"); err == nil {
			j.Tool = p
			if n, err := j.Size(context.Background(), im, nil); err != nil || n <= 0 {
				t.Fatalf("dcmcjpls on the minimal DICOM: %d, %v", n, err)
			}
		}
	}
}
