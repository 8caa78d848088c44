package huffman

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"

	"edge/internal/medimg"
)

func encodeBytes(t testing.TB, im *medimg.Image, zeroOrder bool) []byte {
	t.Helper()
	var buf bytes.Buffer
	e := NewEncoder(&buf)
	err := e.Encode(im)
	if zeroOrder {
		buf.Reset()
		err = e.EncodeZeroOrder(im)
	}
	if err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func sampleImage() *medimg.Image {
	return edgeCases()["gradient-with-background"]
}

func TestTruncatedStreamIsCorrupt(t *testing.T) {
	for _, zo := range []bool{false, true} {
		b := encodeBytes(t, sampleImage(), zo)
		for n := 0; n < len(b); n++ {
			_, err := NewDecoder(bytes.NewReader(b[:n]), Limits{}).Decode()
			var ce *CorruptInputError
			if !errors.As(err, &ce) {
				t.Fatalf("zero-order=%v, %d of %d bytes: error %v, want CorruptInputError", zo, n, len(b), err)
			}
			if ce.Offset > int64(n) {
				t.Fatalf("%d of %d bytes: offset %d past the input", n, len(b), ce.Offset)
			}
		}
	}
}

func TestFlippedBitsNeverPanic(t *testing.T) {
	for _, zo := range []bool{false, true} {
		b := encodeBytes(t, sampleImage(), zo)
		// Every bit of the header and tables, then a sample of the data.
		for i := 0; i < len(b)*8; i += map[bool]int{true: 1, false: 13}[i < 64*8] {
			c := bytes.Clone(b)
			c[i/8] ^= 1 << (i % 8)
			im, err := NewDecoder(bytes.NewReader(c), Limits{MaxSamples: 1 << 15}).Decode()
			if err == nil {
				if verr := im.Validate(); verr != nil {
					t.Fatalf("bit %d: decoded an invalid image: %v", i, verr)
				}
			}
		}
	}
}

// TestStreamsBackToBack shows the decoder takes no byte beyond its stream.
func TestStreamsBackToBack(t *testing.T) {
	a, b := edgeCases()["rgb"], edgeCases()["multiframe"]
	var buf bytes.Buffer
	e := NewEncoder(&buf)
	if err := e.Encode(a); err != nil {
		t.Fatal(err)
	}
	if err := e.EncodeZeroOrder(b); err != nil {
		t.Fatal(err)
	}
	buf.WriteString("tail")
	d := NewDecoder(&buf, Limits{})
	for _, want := range []*medimg.Image{a, b} {
		got, err := d.Decode()
		if err != nil {
			t.Fatal(err)
		}
		equalImages(t, got, want)
	}
	if rest, _ := io.ReadAll(&buf); string(rest) != "tail" {
		t.Fatalf("left %q after two streams, want %q", rest, "tail")
	}
}

func TestLimits(t *testing.T) {
	b := encodeBytes(t, sampleImage(), false)
	_, err := NewDecoder(bytes.NewReader(b), Limits{MaxSamples: 1000}).Decode()
	if !errors.Is(err, ErrTooLarge) {
		t.Fatalf("12288 samples with a limit of 1000: %v, want ErrTooLarge", err)
	}
	_, err = NewDecoder(bytes.NewReader(b), Limits{MaxBytes: 100}).Decode()
	if !errors.Is(err, ErrTooLarge) {
		t.Fatalf("payload limit of 100 bytes: %v, want ErrTooLarge", err)
	}
}

// rawHeader builds a stream header by hand for the malformed-header cases;
// rest replaces the payload size.
func rawHeader(kind byte, w, h, frames int, rest ...byte) []byte {
	hd := header{version: version3, kind: kind, geom: medimg.Image{Width: w, Height: h, Frames: frames, Channels: 1,
		BitsAllocated: 8, BitsStored: 8, Photometric: medimg.Monochrome2}}
	b := appendHeader(nil, &hd)
	return append(b[:len(b)-1], rest...) // drop the zero payload size
}

func TestMalformedStreams(t *testing.T) {
	good := encodeBytes(t, edgeCases()["row"], false)
	trailing := bytes.Clone(good)
	// One more payload byte than the symbols need: raise the declared size.
	trailing = append(trailing, 0)
	trailing[len(rawHeader(kindPredictive, 300, 1, 1))]++
	cases := []struct {
		name   string
		stream []byte
		want   string
	}{
		{"empty", nil, "truncated in magic"},
		{"bad magic", []byte("PNG\x00\x01\x01"), "magic"},
		{"future version", append([]byte("EHUF"), 5, 1), "format version 5"},
		{"zero-order in version 2", append([]byte("EHUF"), 2, 2), "stream kind 2 in format version 2"},
		{"zero-order in version 3", append([]byte("EHUF"), 3, 2), "stream kind 2 in format version 3"},
		{"zero-order in version 4", append([]byte("EHUF"), 4, 2), "stream kind 2 in format version 4"},
		{"unknown kind", append([]byte("EHUF"), 1, 9), "stream kind 9"},
		{"0x0 image", rawHeader(kindPredictive, 0, 0, 1, 0), "empty image"},
		{"no frames", rawHeader(kindPredictive, 2, 2, 0, 0), "frame count 0"},
		{"huge geometry", rawHeader(kindPredictive, 65535, 65535, 1, 0), "exceeds"},
		{"payload missing", rawHeader(kindPredictive, 4, 4, 1, 10), "payload truncated"},
		{"payload size beyond any stream", rawHeader(kindPredictive, 1, 1, 1, 0xff, 0xff, 0xff, 0x7f), "payload size"},
		{"trailing bytes", trailing, "unused bytes"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := NewDecoder(bytes.NewReader(c.stream), Limits{}).Decode()
			var ce *CorruptInputError
			if !errors.As(err, &ce) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want a CorruptInputError mentioning %q", err, c.want)
			}
		})
	}
}

// TestBadCodeTables feeds the table reader codes that a decoder must refuse.
func TestBadCodeTables(t *testing.T) {
	table := func(lens ...int) []byte {
		var w bitWriter
		w.expGolomb(uint32(len(lens)))
		prev := 0
		for _, l := range lens {
			w.expGolomb(0)
			w.expGolomb(zigzag(int32(l - prev)))
			prev = l
		}
		w.flush()
		return w.buf
	}
	cases := []struct {
		name string
		b    []byte
		want string
	}{
		{"over-subscribed", table(1, 1, 1), "over-subscribed"},
		{"incomplete", table(1, 2), "incomplete"},
		{"too long", table(1, 21), "code length 21"},
		{"too many symbols", table(make([]int, 65)...), "declares 65"},
	}
	for _, c := range cases {
		var r bitReader
		r.reset(c.b)
		var d decTable
		if err := d.read(&r, regAlphabet); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want %q", c.name, err, c.want)
		}
	}
	var r bitReader
	r.reset(table(1, 2, 2))
	var d decTable
	if err := d.read(&r, regAlphabet); err != nil {
		t.Fatalf("complete code refused: %v", err)
	}
}

func TestEncodeRefusesInvalidImages(t *testing.T) {
	bad := edgeCases()["flat"].Clone()
	bad.Pix[5] = 256
	long := edgeCases()["flat"].Clone()
	long.Photometric = "A NAME LONGER THAN SIXTEEN"
	for _, im := range []*medimg.Image{bad, long, {}} {
		var buf bytes.Buffer
		if err := NewEncoder(&buf).Encode(im); err == nil {
			t.Errorf("%s: encoded", geometry(im))
		}
		if err := EncodeZeroOrder(&buf, im); err == nil {
			t.Errorf("%s: encoded zero-order", geometry(im))
		}
		if buf.Len() != 0 {
			t.Errorf("%s: wrote %d bytes for a refused image", geometry(im), buf.Len())
		}
	}
}

func TestOtherPhotometricCarried(t *testing.T) {
	im := edgeCases()["rgb"].Clone()
	im.Photometric = "YBR_FULL"
	got, err := NewDecoder(bytes.NewReader(encodeBytes(t, im, false)), Limits{}).Decode()
	if err != nil {
		t.Fatal(err)
	}
	equalImages(t, got, im)
}

func TestDecodeZeroOrderRefusesPredictive(t *testing.T) {
	_, err := DecodeZeroOrder(bytes.NewReader(encodeBytes(t, sampleImage(), false)), Limits{})
	var ce *CorruptInputError
	if !errors.As(err, &ce) {
		t.Fatalf("predictive stream to DecodeZeroOrder: %v, want CorruptInputError", err)
	}
}
