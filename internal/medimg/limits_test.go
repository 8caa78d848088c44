package medimg

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

func rgb16(w, h int) *Image {
	im := &Image{Width: w, Height: h, Frames: 1, Channels: 3, BitsAllocated: 16, BitsStored: 16, Photometric: RGB}
	im.Pix = make([]int32, im.Samples())
	for i := range im.Pix {
		im.Pix[i] = int32((i*7919 + i/3*104729) % 65536)
	}
	im.Pix[0], im.Pix[1], im.Pix[2] = 0, 65535, 1
	return im
}

func sameImage(t *testing.T, got, want *Image) {
	t.Helper()
	if got.Width != want.Width || got.Height != want.Height || got.Frames != want.Frames || got.Channels != want.Channels ||
		got.BitsAllocated != want.BitsAllocated || got.BitsStored != want.BitsStored || got.Signed != want.Signed {
		t.Fatalf("decoded %s, want %s", describe(got), describe(want))
	}
	for i, v := range want.Pix {
		if got.Pix[i] != v {
			t.Fatalf("sample %d is %d, want %d", i, got.Pix[i], v)
		}
	}
}

// TestRGB16PNG writes and reads back 16-bit RGB PNG, sample for sample.
func TestRGB16PNG(t *testing.T) {
	im := rgb16(37, 21)
	var buf bytes.Buffer
	if err := EncodePNG(&buf, im); err != nil {
		t.Fatal(err)
	}
	if ctype, depth := buf.Bytes()[25], buf.Bytes()[24]; ctype != pngRGB || depth != 16 {
		t.Fatalf("PNG colour type %d depth %d, want RGB at 16", ctype, depth)
	}
	got, c, err := Decode(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if c.Format != FormatPNG {
		t.Fatalf("container %q", c.Format)
	}
	sameImage(t, got, im)
}

// TestRGB16DICOM writes a new 16-bit RGB DICOM file, checks dcmtk's dcmdump
// reads it, and reads it back sample for sample.
func TestRGB16DICOM(t *testing.T) {
	im := rgb16(33, 17)
	c, err := NewDICOMContainer(im, "2.25.1234567890")
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := Encode(&buf, im, c); err != nil {
		t.Fatal(err)
	}
	got, c2, err := Decode(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	sameImage(t, got, im)
	var again bytes.Buffer
	if err := Encode(&again, got, c2); err != nil || !bytes.Equal(again.Bytes(), buf.Bytes()) {
		t.Fatalf("written again: %v, identical %v", err, bytes.Equal(again.Bytes(), buf.Bytes()))
	}
	dump, err := exec.LookPath("dcmdump")
	if err != nil {
		t.Skip("dcmdump (dcmtk) not installed; the file was checked by this package only")
	}
	path := filepath.Join(t.TempDir(), "rgb16.dcm")
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(dump, "-q", "+L", path).CombinedOutput()
	if err != nil {
		t.Fatalf("dcmdump: %v\n%s", err, out)
	}
	for _, want := range []string{"(0028,0002) US 3", "(0028,0100) US 16", "(0028,0004) CS [RGB]", "(0028,0010) US 17", "(0028,0011) US 33"} {
		if !bytes.Contains(out, []byte(want)) {
			t.Errorf("dcmdump output lacks %q:\n%s", want, out)
		}
	}
}

// TestLimits checks that a decoder refuses, before allocating, an image over
// the limits it was given, and that on 32-bit platforms the default limit
// refuses what the address space could not hold: an error, not a crash.
// scripts run it as GOARCH=386 and, under qemu-arm-static, as GOARCH=arm.
func TestLimits(t *testing.T) {
	im := &Image{Width: 64, Height: 48, Frames: 1, Channels: 1, BitsAllocated: 16, BitsStored: 12, Photometric: Monochrome2}
	im.Pix = make([]int32, im.Samples())
	var png bytes.Buffer
	if err := EncodePNG(&png, im); err != nil {
		t.Fatal(err)
	}
	c, err := NewDICOMContainer(im, "2.25.42")
	if err != nil {
		t.Fatal(err)
	}
	var dcm bytes.Buffer
	if err := Encode(&dcm, im, c); err != nil {
		t.Fatal(err)
	}
	small := Limits{MaxSamples: 64*48 - 1}
	for name, data := range map[string][]byte{"png": png.Bytes(), "dicom": dcm.Bytes()} {
		if _, _, err := (Limits{MaxSamples: 64 * 48}).Decode(data); err != nil {
			t.Errorf("%s at its size: %v", name, err)
		}
		var ue *UnsupportedError
		if _, _, err := small.Decode(data); !errors.As(err, &ue) {
			t.Errorf("%s over MaxSamples: %v, want an UnsupportedError", name, err)
		}
		if _, _, err := (Limits{MaxFileBytes: int64(len(data) - 1)}).Decode(data); !errors.As(err, &ue) {
			t.Errorf("%s over MaxFileBytes: %v, want an UnsupportedError", name, err)
		}
	}

	// A DICOM header declaring 9000×9000 16-bit samples (81 M, 648 MiB
	// decoded) followed by too few bytes: over the 32-bit default limit
	// there, short pixel data elsewhere; an error either way.
	big := &Image{Width: 9000, Height: 9000, Frames: 1, Channels: 1, BitsAllocated: 16, BitsStored: 16}
	bc, err := NewDICOMContainer(big, "2.25.43")
	if err != nil {
		t.Fatal(err)
	}
	data := append(bytes.Clone(bc.Head), make([]byte, 1024)...)
	_, _, err = Decode(data)
	var ue *UnsupportedError
	var fe *FormatError
	switch {
	case DefaultMaxSamples < 9000*9000:
		if !errors.As(err, &ue) {
			t.Errorf("32-bit default limit: %v, want an UnsupportedError", err)
		}
	case !errors.As(err, &fe):
		t.Errorf("short pixel data: %v, want a FormatError", err)
	}
	t.Logf("default limit %d samples: %v", DefaultMaxSamples, err)
}
