package medimg

import (
	"bytes"
	"encoding/binary"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"testing"

	"edge/internal/par"
)

var update = flag.Bool("update", false, "rewrite the generated fixtures in testdata/")

// fixtureFiles is every generated file that is committed, by path.
func fixtureFiles() map[string][]byte {
	files := map[string][]byte{}
	for _, s := range dcmFixtures() {
		b := s.bytes()
		files[filepath.Join("testdata", s.name+".dcm")] = b
		files[filepath.Join("testdata", "fuzz", "FuzzDecodeDICOM", s.name)] = fuzzSeed(b)
	}
	for _, s := range badDICOMs() {
		files[filepath.Join("testdata", "fuzz", "FuzzDecodeDICOM", "bad_"+s.name)] = fuzzSeed(s.data)
	}
	for _, s := range pngFixtures() {
		b := s.bytes()
		if s.want != nil {
			files[filepath.Join("testdata", s.name+".png")] = b
		}
		files[filepath.Join("testdata", "fuzz", "FuzzDecodePNG", s.name)] = fuzzSeed(b)
	}
	return files
}

func TestFixturesCurrent(t *testing.T) {
	for path, want := range fixtureFiles() {
		if *update {
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, want, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		got, err := os.ReadFile(path)
		if err != nil {
			t.Errorf("%v (run with -update)", err)
			continue
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs from what the generator makes (run with -update)", path)
		}
	}
}

func TestDecodeGeneratedDICOM(t *testing.T) {
	for _, s := range dcmFixtures() {
		t.Run(s.name, func(t *testing.T) {
			data := s.bytes()
			im, c, err := Decode(data)
			if err != nil {
				t.Fatal(err)
			}
			if want := s.want(); !reflect.DeepEqual(im, want) {
				t.Fatalf("decoded\n%+v\nwant\n%+v", im, want)
			}
			if c.Format != FormatDICOM {
				t.Fatalf("container format %q", c.Format)
			}
			if len(c.Head)+im.RawSize()+len(c.Tail) != len(data) {
				t.Fatalf("head %d + pixels %d + tail %d ≠ file %d", len(c.Head), im.RawSize(), len(c.Tail), len(data))
			}
			var b bytes.Buffer
			if err := Encode(&b, im, c); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(b.Bytes(), data) {
				t.Fatal("re-encoded file differs from the original")
			}
		})
	}
}

func TestContainerSplitsAroundSamples(t *testing.T) {
	var odd *dcmSpec
	for _, s := range dcmFixtures() {
		if s.name == "explicit_le_u8_odd" {
			odd = s
		}
	}
	data := odd.bytes()
	_, c, err := Decode(data)
	if err != nil {
		t.Fatal(err)
	}
	// Head ends with the pixel data tag, VR, reserved bytes and the even length 10.
	wantHeadEnd := []byte{0xE0, 0x7F, 0x10, 0x00, 'O', 'B', 0, 0, 10, 0, 0, 0}
	if !bytes.HasSuffix(c.Head, wantHeadEnd) {
		t.Fatalf("head ends % x", c.Head[len(c.Head)-12:])
	}
	// Tail: the pad byte, then the trailing padding element (12-byte header, 6 bytes).
	if len(c.Tail) != 1+12+6 || c.Tail[0] != 0 || !bytes.HasPrefix(c.Tail[1:], []byte{0xFC, 0xFF, 0xFC, 0xFF, 'O', 'B'}) {
		t.Fatalf("tail % x", c.Tail)
	}
}

func TestReadFileFixtures(t *testing.T) {
	for _, s := range dcmFixtures() {
		im, c, err := ReadFile(filepath.Join("testdata", s.name+".dcm"))
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(im, s.want()) || c.Format != FormatDICOM {
			t.Errorf("%s: ReadFile gives a different image", s.name)
		}
	}
	for _, s := range pngFixtures() {
		if s.want == nil {
			continue
		}
		im, c, err := ReadFile(filepath.Join("testdata", s.name+".png"))
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(im, s.want) || c.Format != FormatPNG || c.Head != nil || c.Tail != nil {
			t.Errorf("%s: ReadFile gives a different image or container", s.name)
		}
	}
}

// A marked image has other pixels of the same geometry: the file must be the
// original with just the pixel bytes changed.
func TestEncodeDICOMOtherPixels(t *testing.T) {
	for _, s := range dcmFixtures() {
		data := s.bytes()
		im, c, err := Decode(data)
		if err != nil {
			t.Fatal(err)
		}
		marked := im.Clone()
		lo, hi := marked.Range()
		for i, v := range marked.Pix {
			if i%3 == 0 {
				if v < hi {
					marked.Pix[i] = v + 1
				} else {
					marked.Pix[i] = lo
				}
			}
		}
		var b bytes.Buffer
		if err := Encode(&b, marked, c); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		out := b.Bytes()
		if len(out) != len(data) || !bytes.Equal(out[:len(c.Head)], c.Head) || !bytes.Equal(out[len(out)-len(c.Tail):], c.Tail) {
			t.Fatalf("%s: header or tail changed", s.name)
		}
		back, c2, err := Decode(out)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(back.Pix, marked.Pix) || !bytes.Equal(c2.Head, c.Head) {
			t.Fatalf("%s: marked pixels did not come back", s.name)
		}
	}
}

func TestEncodeDICOMRefusesMismatch(t *testing.T) {
	data := dcmFixtures()[0].bytes()
	im, c, err := Decode(data)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		edit func(im *Image, c *Container)
		want string
	}{
		{"width", func(im *Image, c *Container) { im.Width, im.Height = im.Height, im.Width }, "the DICOM header describes 7×5"},
		{"signedness", func(im *Image, c *Container) { im.Signed = true }, "16-bit signed MONOCHROME2, the DICOM header describes"},
		{"sample out of range", func(im *Image, c *Container) { im.Pix[2] = 4096 }, "sample 2 is 4096, outside [0, 4095]"},
		{"short pixel buffer", func(im *Image, c *Container) { im.Pix = im.Pix[:3] }, "3 samples for a 7×5×1×1 image"},
		{"head cut", func(im *Image, c *Container) { c.Head = c.Head[:len(c.Head)-20] }, "malformed DICOM"},
		{"head with pixel bytes", func(im *Image, c *Container) { c.Head = append(c.Head, 0, 0) }, "ends 2 bytes past the pixel data tag"},
		{"unknown format", func(im *Image, c *Container) { c.Format = "tiff" }, `unknown container format "tiff"`},
		{"tiny head", func(im *Image, c *Container) { c.Head = []byte{8, 0, 1} }, "element header cut short"},
		{"empty head", func(im *Image, c *Container) { c.Head = nil }, "no (7FE0,0010) Pixel Data element"},
	}
	for _, tc := range cases {
		im2 := im.Clone()
		c2 := &Container{Format: c.Format, Head: append([]byte(nil), c.Head...), Tail: c.Tail}
		tc.edit(im2, c2)
		err := Encode(new(bytes.Buffer), im2, c2)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %v, want an error containing %q", tc.name, err, tc.want)
		}
	}
}

type badInput struct {
	name        string
	data        []byte
	unsupported bool // an *UnsupportedError, else a *FormatError
	want        string
}

func specNamed(name string) *dcmSpec {
	for _, s := range dcmFixtures() {
		if s.name == name {
			return s
		}
	}
	panic("no fixture " + name)
}

// patch replaces the first occurrence of old in data.
func patch(data []byte, old, new string) []byte {
	i := bytes.Index(data, []byte(old))
	if i < 0 {
		panic("patch: pattern not found")
	}
	out := append([]byte(nil), data...)
	copy(out[i:], new)
	return out
}

func badDICOMs() []badInput {
	u12 := specNamed("explicit_le_u12").bytes()
	with := func(edit func(s *dcmSpec)) []byte {
		s := specNamed("explicit_le_u12")
		edit(s)
		return s.bytes()
	}
	rows := "\x28\x00\x10\x00US\x02\x00"
	pixelHeader := "\xe0\x7f\x10\x00OW\x00\x00"
	pixelStart := bytes.Index(u12, []byte(pixelHeader)) + 12

	deep := &dcmWriter{s: syntax{order: binary.LittleEndian}}
	for range maxNesting + 2 {
		deep.head(0x00081140, "SQ", undefinedLength)
		deep.item(tagItem, undefinedLength)
	}
	deepFile := append([]byte(nil), u12[:bytes.Index(u12, []byte("\x10\x00\x10\x00PN"))]...)
	deepFile = append(deepFile, deep.buf.Bytes()...)

	return []badInput{
		{"not_an_image", []byte("hello, world: neither PNG nor DICOM"), false, "medimg: not a PNG or DICOM file"},
		{"truncated_pixel_data", u12[:pixelStart+30], false, "pixel data value of 70 bytes runs past the end of the file (30 bytes left)"},
		{"pixel_data_short_of_geometry", patch(u12, rows+"\x05\x00", rows+"\x06\x00"), false, "pixel data is 70 bytes, the 7×6×1-frame×1-sample 16-bit geometry needs 84"},
		{"pixel_data_longer_than_geometry", with(func(s *dcmSpec) { s.extraPixelBytes = 4 }), false, "pixel data is 74 bytes, more than the 70 the geometry needs"},
		{"no_pixel_data", u12[:pixelStart-12], false, "no (7FE0,0010) Pixel Data element"},
		{"encapsulated_in_native_syntax", patch(u12, pixelHeader+"\x46\x00\x00\x00", pixelHeader+"\xff\xff\xff\xff"), false, "encapsulated (compressed) pixel data in transfer syntax 1.2.840.10008.1.2.1"},
		{"jpeg2000", with(func(s *dcmSpec) { s.ts = tsJPEG2000Lossless }), true,
			"medimg: unsupported transfer syntax 1.2.840.10008.1.2.4.90 (JPEG 2000 Image Compression (Lossless Only))"},
		{"deflated", with(func(s *dcmSpec) { s.ts = tsDeflated }), true, "unsupported transfer syntax 1.2.840.10008.1.2.1.99 (Deflated Explicit VR Little Endian)"},
		{"unknown_syntax", with(func(s *dcmSpec) { s.ts = "1.2.3.4" }), true, "unsupported transfer syntax 1.2.3.4 (not a known transfer syntax)"},
		{"ybr", with(func(s *dcmSpec) {
			s.spp, s.photometric, s.bitsAlloc, s.bitsStored, s.highBit, s.pix = 3, "YBR_FULL", 8, 8, 7, ramp(3*35, 0, 255)
		}), true, `unsupported photometric interpretation "YBR_FULL"`},
		{"bits_allocated_32", with(func(s *dcmSpec) { s.bitsAlloc = 32 }), true, "unsupported bits allocated 32 (want 8 or 16)"},
		{"bits_allocated_1", with(func(s *dcmSpec) { s.bitsAlloc, s.bitsStored, s.highBit = 1, 1, 0 }), true, "unsupported bits allocated 1"},
		{"bits_stored_over_allocated", with(func(s *dcmSpec) { s.bitsStored, s.highBit = 17, 16 }), false, "17 bits stored with 16 allocated"},
		{"zero_rows", patch(u12, rows+"\x05\x00", rows+"\x00\x00"), false, "empty image of 0 rows and 7 columns"},
		{"no_rows", patch(u12, rows, "\x28\x00\x12\x00US\x02\x00"), false, "no (0028,0010) Rows before the pixel data"},
		{"rows_twice", patch(u12, "\x28\x00\x11\x00", "\x28\x00\x10\x00"), false, "(0028,0010) Rows appears twice"},
		{"rows_not_us", patch(u12, rows, "\x28\x00\x10\x00SS\x02\x00"), false, "(0028,0010) Rows has VR SS, want US"},
		{"unknown_vr", patch(u12, "\x08\x00\x60\x00CS", "\x08\x00\x60\x00ZZ"), false, `(0008,0060) has unknown VR "ZZ"`},
		{"length_past_end", patch(u12, "\x10\x00\x10\x00PN\x08\x00", "\x10\x00\x10\x00PN\xff\xff"), false, "(0010,0010) value of 65535 bytes runs past the end"},
		{"item_at_top_level", patch(u12, "\x08\x00\x60\x00CS\x02\x00", "\xfe\xff\x00\xe0\x02\x00\x00\x00"), false, "(FFFE,E000) outside a sequence"},
		{"nested_too_deep", deepFile, false, "sequences nested more than 32 deep"},
		{"frames_zero", patch(specNamed("multiframe_mono1").bytes(), "\x28\x00\x08\x00IS\x02\x003 ", "\x28\x00\x08\x00IS\x02\x000 "), false, `(0028,0008) Number of Frames is "0"`},
		{"dicm_without_meta", u12[:132], false, "no file meta information after the DICM prefix"},
	}
}

func TestBadDICOM(t *testing.T) {
	for _, tc := range badDICOMs() {
		t.Run(tc.name, func(t *testing.T) {
			im, c, err := Decode(tc.data)
			if err == nil {
				t.Fatalf("decoded %+v", im)
			}
			if im != nil || c != nil {
				t.Fatal("an error came with an image or container")
			}
			var fe *FormatError
			var ue *UnsupportedError
			if tc.unsupported && !errors.As(err, &ue) || !tc.unsupported && !errors.As(err, &fe) {
				t.Fatalf("error %T: %v", err, err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %q, want it to contain %q", err, tc.want)
			}
		})
	}
}

func TestPNGFixtures(t *testing.T) {
	for _, s := range pngFixtures() {
		t.Run(s.name, func(t *testing.T) {
			im, c, err := Decode(s.bytes())
			if s.want == nil {
				if err == nil || !strings.Contains(err.Error(), s.wantErr) {
					t.Fatalf("got %v, want an error containing %q", err, s.wantErr)
				}
				var fe *FormatError
				var ue *UnsupportedError
				if !errors.As(err, &fe) && !errors.As(err, &ue) {
					t.Fatalf("untyped error %T", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(im, s.want) {
				t.Fatalf("decoded\n%+v\nwant\n%+v", im, s.want)
			}
			if c.Format != FormatPNG {
				t.Fatalf("container %q", c.Format)
			}
			var b bytes.Buffer
			if err := Encode(&b, im, c); err != nil {
				t.Fatal(err)
			}
			back, _, err := Decode(b.Bytes())
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(back, im) {
				t.Fatal("PNG round trip changed the image")
			}
		})
	}
}

// A header claiming 65535×65535 must be refused from the header alone.
func TestPNGHugeHeaderAllocatesLittle(t *testing.T) {
	for _, s := range pngFixtures() {
		if s.name != "huge_header_no_pixels" && s.name != "large_header_tiny_body" {
			continue
		}
		data := s.bytes()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		_, _, err := Decode(data)
		runtime.ReadMemStats(&after)
		if err == nil {
			t.Fatalf("%s decoded", s.name)
		}
		if n := after.TotalAlloc - before.TotalAlloc; n > 1<<20 {
			t.Errorf("%s: refusing it allocated %d bytes", s.name, n)
		}
	}
}

func TestEncodePNG(t *testing.T) {
	signed := &Image{Width: 3, Height: 1, Frames: 1, Channels: 1, BitsAllocated: 16, BitsStored: 16, Signed: true,
		Photometric: Monochrome2, Pix: []int32{-1, -32768, 5}}
	var b bytes.Buffer
	if err := EncodePNG(&b, signed); err != nil {
		t.Fatal(err)
	}
	back, _, err := Decode(b.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if want := []int32{0xFFFF, 0x8000, 5}; !reflect.DeepEqual(back.Pix, want) || back.Signed {
		t.Fatalf("signed samples came back as %v (signed %v), want the bit patterns %v", back.Pix, back.Signed, want)
	}
	signed8 := &Image{Width: 2, Height: 1, Frames: 1, Channels: 1, BitsAllocated: 8, BitsStored: 8, Signed: true,
		Photometric: Monochrome2, Pix: []int32{-128, -1}}
	b.Reset()
	if err := EncodePNG(&b, signed8); err != nil {
		t.Fatal(err)
	}
	if back, _, err = Decode(b.Bytes()); err != nil || !reflect.DeepEqual(back.Pix, []int32{0x80, 0xFF}) {
		t.Fatalf("8-bit signed came back as %v, %v", back, err)
	}

	bad := []struct {
		name string
		im   *Image
		want string
	}{
		{"multi-frame", &Image{Width: 1, Height: 1, Frames: 2, Channels: 1, BitsAllocated: 8, BitsStored: 8, Pix: []int32{1, 2}}, "a PNG holds one frame, this image has 2"},
		{"out of range", &Image{Width: 1, Height: 1, Frames: 1, Channels: 1, BitsAllocated: 8, BitsStored: 4, Pix: []int32{16}}, "outside [0, 15]"},
		{"empty", &Image{Width: 0, Height: 0, Frames: 1, Channels: 1, BitsAllocated: 8, BitsStored: 8}, "empty image 0×0"},
	}
	for _, tc := range bad {
		if err := EncodePNG(new(bytes.Buffer), tc.im); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %v, want an error containing %q", tc.name, err, tc.want)
		}
	}
}

func TestWriteFile(t *testing.T) {
	dir := t.TempDir()
	data := specNamed("explicit_le_sequences").bytes()
	im, c, err := Decode(data)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"out.dcm", "out.DICOM", "out"} {
		p := filepath.Join(dir, name)
		if err := WriteFile(p, im, c); err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(p)
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("%s: not the original file (%v)", name, err)
		}
		if st, _ := os.Stat(p); st.Mode().Perm() != 0o600 {
			t.Fatalf("%s: mode %v", name, st.Mode())
		}
	}
	p := filepath.Join(dir, "out.png")
	if err := WriteFile(p, im, c); err != nil {
		t.Fatal(err)
	}
	back, pc, err := ReadFile(p)
	if err != nil || pc.Format != FormatPNG || !reflect.DeepEqual(back.Pix, im.Pix) {
		t.Fatalf("PNG from a DICOM: %v", err)
	}
	// A PNG-born image has no DICOM header to write.
	if err := WriteFile(filepath.Join(dir, "x.dcm"), back, pc); err == nil || !strings.Contains(err.Error(), "needs the DICOM header") {
		t.Fatalf("got %v", err)
	}
	if err := WriteFile(filepath.Join(dir, "x.jpg"), back, pc); err == nil || !strings.Contains(err.Error(), `unknown extension ".jpg"`) {
		t.Fatalf("got %v", err)
	}
	// An image that cannot be encoded leaves no file behind.
	bad := im.Clone()
	bad.Pix[0] = -5
	if err := WriteFile(filepath.Join(dir, "bad.dcm"), bad, c); err == nil {
		t.Fatal("wrote an invalid image")
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), "bad") || strings.HasPrefix(e.Name(), ".bad") || strings.HasPrefix(e.Name(), "x") {
			t.Fatalf("left %s behind", e.Name())
		}
	}
}

func TestReadFileNamesTheFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "j2k.dcm")
	if err := os.WriteFile(p, badDICOMs()[6].data, 0o600); err != nil {
		t.Fatal(err)
	}
	_, _, err := ReadFile(p)
	var ue *UnsupportedError
	if !errors.As(err, &ue) || ue.File != p || !strings.Contains(err.Error(), p+": unsupported transfer syntax 1.2.840.10008.1.2.4.90") {
		t.Fatalf("got %v", err)
	}
	if _, _, err := ReadFile(filepath.Join(t.TempDir(), "missing.png")); err == nil || !strings.HasPrefix(err.Error(), "medimg: ") {
		t.Fatalf("missing file: %v", err)
	}
	if _, _, err := ReadFile(t.TempDir()); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Fatalf("directory: %v", err)
	}
}

func TestPNGHeaderChecks(t *testing.T) {
	var gray8 []byte
	for _, s := range pngFixtures() {
		if s.name == "gray8" {
			gray8 = s.bytes()
		}
	}
	flipped := append([]byte(nil), gray8...)
	flipped[17] ^= 0x40 // width 5 → 16389: a flipped bit, caught by the CRC
	cases := map[string]struct {
		data []byte
		want string
	}{
		"bad IHDR CRC":      {flipped, "malformed PNG: IHDR checksum is"},
		"signature only":    {gray8[:8], "malformed PNG: file is truncated in its header (8 bytes)"},
		"no IHDR":           {patch(gray8, "IHDR", "IHDx"), "malformed PNG: no IHDR chunk after the signature"},
		"truncated in IDAT": {gray8[:len(gray8)-16], "malformed PNG"},
	}
	for name, tc := range cases {
		_, _, err := Decode(tc.data)
		var fe *FormatError
		if !errors.As(err, &fe) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %v, want a FormatError containing %q", name, err, tc.want)
		}
	}
}

// Validate checks a large image in pieces on several cores; it must still
// name the first sample out of range, whichever piece is checked first.
func TestValidateNamesFirstBadSample(t *testing.T) {
	im := &Image{Width: 512, Height: 300, Frames: 1, Channels: 1, BitsAllocated: 16, BitsStored: 12, Signed: true}
	im.Pix = make([]int32, im.Samples())
	if err := im.Validate(); err != nil {
		t.Fatal(err)
	}
	im.Pix[150000] = 2048
	im.Pix[70001] = -2049
	im.Pix[140000] = 5000
	err := im.Validate()
	if want := "sample 70001 is -2049, outside [-2048, 2047]"; err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("got %v, want an error containing %q", err, want)
	}
	im.Pix[70001] = -2048
	if err := im.Validate(); err == nil || !strings.Contains(err.Error(), "sample 140000 is 5000") {
		t.Fatalf("got %v, want sample 140000 named", err)
	}
}

// TestExtremesMatchesScan: the extremes in pieces agree with one plain scan,
// with the extremes placed in the first, a middle and the last piece.
func TestExtremesMatchesScan(t *testing.T) {
	if lo, hi := Extremes(nil, 2); lo != 0 || hi != 0 {
		t.Fatalf("empty: %d, %d", lo, hi)
	}
	const n = 3*par.Piece + 5
	for _, at := range [][2]int{{0, n - 1}, {n - 1, 0}, {par.Piece + 3, 2 * par.Piece}, {7, 7}} {
		pix := make([]int32, n)
		for i := range pix {
			pix[i] = int32(i%1000) - 500
		}
		pix[at[0]], pix[at[1]] = -70000, 90000
		if at[0] == at[1] {
			pix[at[0]] = -70000
		}
		wantLo, wantHi := slices.Min(pix), slices.Max(pix)
		for _, workers := range []int{1, 2, 4} {
			if lo, hi := Extremes(pix, workers); lo != wantLo || hi != wantHi {
				t.Fatalf("extremes at %v, %d workers: %d, %d, want %d, %d", at, workers, lo, hi, wantLo, wantHi)
			}
		}
	}
}

// TestValidExtremes: a valid image gives its lowest and highest sample, an
// invalid one the error Validate gives and no extremes.
func TestValidExtremes(t *testing.T) {
	im := &Image{Width: 300, Height: 400, Frames: 1, Channels: 1, BitsAllocated: 16, BitsStored: 12, Signed: true}
	im.Pix = make([]int32, im.Samples())
	im.Pix[5], im.Pix[100000] = -2048, 2047
	if lo, hi, err := im.ValidExtremes(); err != nil || lo != -2048 || hi != 2047 {
		t.Fatalf("got %d, %d, %v, want -2048, 2047", lo, hi, err)
	}
	im.Pix[90000] = 2048
	lo, hi, err := im.ValidExtremes()
	if want := im.Validate(); err == nil || want == nil || err.Error() != want.Error() || lo != 0 || hi != 0 {
		t.Fatalf("got %d, %d, %v, want the error %v", lo, hi, err, want)
	}
}
