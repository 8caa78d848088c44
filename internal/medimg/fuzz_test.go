package medimg

import (
	"bytes"
	"errors"
	"os"
	"reflect"
	"testing"

	"edge/internal/testenv"
)

// checkDecode is the property both fuzz targets hold: decoding never panics
// and fails only with a typed error; what it accepts is a valid image that
// encodes back (to the very same bytes for DICOM) and decodes to itself.
func checkDecode(t *testing.T, data []byte) {
	im, c, err := Decode(data)
	if err != nil {
		var fe *FormatError
		var ue *UnsupportedError
		if !errors.As(err, &fe) && !errors.As(err, &ue) {
			t.Fatalf("untyped error %T: %v", err, err)
		}
		return
	}
	if err := im.Validate(); err != nil {
		t.Fatalf("decoded an invalid image: %v", err)
	}
	var b bytes.Buffer
	if err := Encode(&b, im, c); err != nil {
		if c.Format == FormatDICOM {
			t.Fatalf("cannot encode what was decoded: %v", err)
		}
		// PNG output has fewer forms than PNG input accepts; none of them
		// should be refused.
		t.Fatalf("cannot re-encode a decoded PNG: %v", err)
	}
	if c.Format == FormatDICOM && !bytes.Equal(b.Bytes(), data) {
		t.Fatal("DICOM re-encoded to other bytes")
	}
	back, c2, err := Decode(b.Bytes())
	if err != nil {
		t.Fatalf("cannot decode what was encoded: %v", err)
	}
	if !reflect.DeepEqual(back, im) || c2.Format != c.Format {
		t.Fatal("decode → encode → decode changed the image")
	}
}

func FuzzDecodeDICOM(f *testing.F) {
	tiny := &Image{Width: 1, Height: 1, Frames: 1, Channels: 1, BitsAllocated: 8, BitsStored: 8, Photometric: Monochrome2, Pix: []int32{7}}
	f.Fuzz(func(t *testing.T, data []byte) {
		checkDecode(t, data)
		// A kept Head is outside bytes too (it arrives in an envelope):
		// parsing it to encode must fail cleanly, never panic.
		var b bytes.Buffer
		if err := Encode(&b, tiny, &Container{Format: FormatDICOM, Head: data}); err == nil && !bytes.HasPrefix(b.Bytes(), data) {
			t.Fatal("encoded file does not start with the head")
		}
	})
}

func FuzzDecodePNG(f *testing.F) {
	f.Fuzz(checkDecode)
}

func BenchmarkDecodeMR2UNCR(b *testing.B) {
	data, err := os.ReadFile(testenv.Path(b, "medical/MR2_UNCR.dcm"))
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := Decode(data); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEncodeMR2UNCR(b *testing.B) {
	data, err := os.ReadFile(testenv.Path(b, "medical/MR2_UNCR.dcm"))
	if err != nil {
		b.Fatal(err)
	}
	im, c, err := Decode(data)
	if err != nil {
		b.Fatal(err)
	}
	var buf bytes.Buffer
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		buf.Reset()
		if err := Encode(&buf, im, c); err != nil {
			b.Fatal(err)
		}
	}
}
