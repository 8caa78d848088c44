package huffman

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/klauspost/compress/huff0"

	"edge/internal/medimg"
	"edge/internal/testenv"
)

// benchImage returns a 512×512 real image from the shared data when it is
// there (the chest X-ray for 8 bits, the centre of the 12-bit shoulder MR
// for 16), otherwise a generated one of the same shape, so the benchmark
// always runs and says which it measured.
func benchImage(b *testing.B, bits int) *medimg.Image {
	b.Helper()
	if im := sharedBenchImage(b, bits); im != nil {
		return im
	}
	b.Log("shared images absent: measuring a generated image")
	rng := rand.New(rand.NewPCG(3, 4))
	hi := 1<<bits - 1
	return testImage(512, 512, 1, 1, bits, bits, false, func(_, y, x, _ int) int32 {
		return int32(min(hi, (x*y)>>(18-bits)+rng.IntN(8)))
	})
}

func sharedBenchImage(b *testing.B, bits int) *medimg.Image {
	b.Helper()
	// testenv.DataDir would skip the benchmark; here absence means generate.
	dir := os.Getenv("EDGE_DATA")
	if dir == "" {
		root, err := testenv.ModuleRoot()
		if err != nil {
			return nil
		}
		dir = filepath.Join(root, "..", "shared", "data")
	}
	name := "cxr-00000001_000.png"
	if bits == 16 {
		name = "MR2_UNCR.dcm"
	}
	src, _, err := medimg.ReadFile(filepath.Join(dir, "medical", name))
	if err != nil || src.Width < 512 || src.Height < 512 {
		return nil
	}
	crop := *src
	crop.Width, crop.Height, crop.Frames = 512, 512, 1
	crop.Pix = make([]int32, 512*512*src.Channels)
	x0, y0 := (src.Width-512)/2, (src.Height-512)/2
	for y := range 512 {
		copy(crop.Pix[y*512:(y+1)*512], src.Pix[(y0+y)*src.Width+x0:])
	}
	return &crop
}

func benchEncode(b *testing.B, bits int, zeroOrder bool) {
	benchEncodeVersion(b, benchImage(b, bits), zeroOrder, 0)
}

// benchEncodeVersion measures encoding im as format version ver (0: the
// current one).
func benchEncodeVersion(b *testing.B, im *medimg.Image, zeroOrder bool, ver byte) {
	var buf bytes.Buffer
	e := NewEncoder(&buf)
	e.version = ver
	b.SetBytes(int64(im.RawSize()))
	b.ReportAllocs()
	for b.Loop() {
		buf.Reset()
		var err error
		if zeroOrder {
			err = e.EncodeZeroOrder(im)
		} else {
			err = e.Encode(im)
		}
		if err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(buf.Len()), "bytes/image")
}

func benchDecode(b *testing.B, bits int, zeroOrder bool) {
	im := benchImage(b, bits)
	benchDecodeStream(b, im, encodeBytes(b, im, zeroOrder))
}

func benchDecodeStream(b *testing.B, im *medimg.Image, stream []byte) {
	r := bytes.NewReader(stream)
	d := NewDecoder(r, Limits{})
	b.SetBytes(int64(im.RawSize()))
	b.ReportAllocs()
	for b.Loop() {
		r.Reset(stream)
		d.Reset(r)
		if _, err := d.Decode(); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEncode8(b *testing.B)  { benchEncode(b, 8, false) }
func BenchmarkDecode8(b *testing.B)  { benchDecode(b, 8, false) }
func BenchmarkEncode16(b *testing.B) { benchEncode(b, 16, false) }
func BenchmarkDecode16(b *testing.B) { benchDecode(b, 16, false) }

// The version 2 figures are the bar version 3 is held to: both run in the
// same process, on the same images.
func BenchmarkEncode16V2(b *testing.B) { benchEncodeVersion(b, benchImage(b, 16), false, version2) }
func BenchmarkDecode16V2(b *testing.B) {
	im := benchImage(b, 16)
	benchDecodeStream(b, im, encodeVersion(b, im, version2))
}

// BenchmarkMedical encodes and decodes whole shared images: the 12-bit MR
// (four stripes) and the 16-bit radiograph (twelve) in versions 2 and 3, the
// ultrasound (whose stripes take the chroma palette) and the colour CT
// (whose stripes do not, after trying) in versions 3 and 4.
func BenchmarkMedical(b *testing.B) {
	for _, c := range []struct {
		name string
		vers []byte
	}{
		{"MR2_UNCR.dcm", []byte{version2, version3}},
		{"RG3_J2KR_decoded16.png", []byte{version2, version3}},
		{"US1_UNCR.dcm", []byte{version3, version4}},
		{"ct-abdomen-rgb-01.png", []byte{version3, version4}},
	} {
		name := c.name
		p, ok := testenv.Lookup(b, filepath.Join("medical", name))
		if !ok {
			b.Logf("%s absent from the shared data: not measured", name)
			continue
		}
		im, _, err := medimg.ReadFile(p)
		if err != nil {
			b.Fatal(err)
		}
		for _, ver := range c.vers {
			b.Run(fmt.Sprintf("%s/v%d/encode", name, ver), func(b *testing.B) { benchEncodeVersion(b, im, false, ver) })
			b.Run(fmt.Sprintf("%s/v%d/decode", name, ver), func(b *testing.B) { benchDecodeStream(b, im, encodeVersion(b, im, ver)) })
		}
	}
}

func BenchmarkEncodeZeroOrder8(b *testing.B)  { benchEncode(b, 8, true) }
func BenchmarkDecodeZeroOrder8(b *testing.B)  { benchDecode(b, 8, true) }
func BenchmarkEncodeZeroOrder16(b *testing.B) { benchEncode(b, 16, true) }
func BenchmarkDecodeZeroOrder16(b *testing.B) { benchDecode(b, 16, true) }

// huff0Blocks splits the 8-bit image's bytes into blocks huff0 accepts.
func huff0Blocks(b *testing.B) [][]byte {
	raw := benchImage(b, 8).RawBytes()
	var blocks [][]byte
	for len(raw) > 0 {
		n := min(len(raw), 128<<10)
		blocks = append(blocks, raw[:n])
		raw = raw[n:]
	}
	return blocks
}

// BenchmarkHuff0Compress8 is klauspost/compress's zero-order Huffman coder
// on the same 8-bit pixels, the speed reference for BenchmarkEncodeZeroOrder8.
func BenchmarkHuff0Compress8(b *testing.B) {
	blocks := huff0Blocks(b)
	var s huff0.Scratch
	b.SetBytes(int64(len(blocks) * len(blocks[0])))
	b.ReportAllocs()
	size := 0
	for b.Loop() {
		size = 0
		for _, blk := range blocks {
			out, _, err := huff0.Compress1X(blk, &s)
			if err != nil {
				b.Fatal(err)
			}
			size += len(out)
		}
	}
	b.ReportMetric(float64(size), "bytes/image")
}

func BenchmarkHuff0Decompress8(b *testing.B) {
	blocks := huff0Blocks(b)
	var enc huff0.Scratch
	var streams [][]byte
	for _, blk := range blocks {
		out, _, err := huff0.Compress1X(blk, &enc)
		if err != nil {
			b.Fatal(err)
		}
		streams = append(streams, bytes.Clone(out))
	}
	var s huff0.Scratch
	s.MaxDecodedSize = 128 << 10
	b.SetBytes(int64(len(blocks) * len(blocks[0])))
	b.ReportAllocs()
	for b.Loop() {
		for i, st := range streams {
			d, rest, err := huff0.ReadTable(st, &s)
			if err != nil {
				b.Fatal(err)
			}
			out, err := d.Decompress1X(rest)
			if err != nil || len(out) != len(blocks[i]) {
				b.Fatalf("block %d: %d bytes, %v", i, len(out), err)
			}
		}
	}
}
