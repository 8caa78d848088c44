package medimg

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/suyashkumar/dicom"
	"github.com/suyashkumar/dicom/pkg/tag"

	"edge/internal/testenv"
)

// What each sample DICOM must decode to; dcmdump gives the same attributes.
var sampleDICOMs = map[string]struct {
	w, h, ch, bitsAlloc, bitsStored int
	signed                          bool
	phot                            Photometric
}{
	"CT_small.dcm":      {128, 128, 1, 16, 16, true, Monochrome2},
	"MR_small.dcm":      {64, 64, 1, 16, 16, true, Monochrome2},
	"pet-1.dcm":         {168, 168, 1, 16, 16, true, Monochrome2},
	"mr-brain-0051.dcm": {360, 360, 1, 16, 12, false, Monochrome2},
	"MR2_UNCR.dcm":      {1024, 1024, 1, 16, 12, false, Monochrome2},
	"US1_UNCR.dcm":      {640, 480, 3, 8, 8, false, RGB},
}

func TestSamples(t *testing.T) {
	dir := testenv.Path(t, "medical")
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	seen := 0
	for _, e := range entries {
		name := e.Name()
		path := filepath.Join(dir, name)
		t.Run(name, func(t *testing.T) {
			orig, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			im, c, err := ReadFile(path)
			if name == "RG3_J2KR.dcm" {
				var ue *UnsupportedError
				want := "unsupported transfer syntax 1.2.840.10008.1.2.4.90 (JPEG 2000 Image Compression (Lossless Only))"
				if !errors.As(err, &ue) || ue.What != strings.TrimPrefix(want, "unsupported ") || !strings.HasSuffix(err.Error(), want) {
					t.Fatalf("got %v, want an UnsupportedError ending %q", err, want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if err := im.Validate(); err != nil {
				t.Fatal(err)
			}
			var b bytes.Buffer
			if err := Encode(&b, im, c); err != nil {
				t.Fatal(err)
			}
			switch filepath.Ext(name) {
			case ".dcm":
				seen++
				if !bytes.Equal(b.Bytes(), orig) {
					t.Fatal("re-encoded DICOM differs from the file")
				}
				want, ok := sampleDICOMs[name]
				if !ok {
					t.Fatalf("no expectations for %s", name)
				}
				got := struct {
					w, h, ch, bitsAlloc, bitsStored int
					signed                          bool
					phot                            Photometric
				}{im.Width, im.Height, im.Channels, im.BitsAllocated, im.BitsStored, im.Signed, im.Photometric}
				if got != want {
					t.Fatalf("decoded %+v, want %+v", got, want)
				}
			case ".png":
				seen++
				back, _, err := Decode(b.Bytes())
				if err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(back, im) {
					t.Fatal("PNG re-encoded and decoded is a different image")
				}
			}
		})
	}
	if seen == 0 {
		t.Fatal("no sample images in", dir)
	}
}

// The signed samples must be read as int16: a word with the top bit set is
// negative. The shared CT and MR files hold no negative value (their minima
// are 128 and 127), so this checks words with the top bit set across the
// sample files by rewriting a copy's pixel bytes.
func TestSampleSignedWords(t *testing.T) {
	path := testenv.Path(t, "medical/CT_small.dcm")
	im, c, err := ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	neg := im.Clone()
	neg.Pix[0], neg.Pix[1] = -1000, -32768
	var b bytes.Buffer
	if err := Encode(&b, neg, c); err != nil {
		t.Fatal(err)
	}
	raw := b.Bytes()[len(c.Head):]
	if raw[0] != 0x18 || raw[1] != 0xFC || raw[2] != 0x00 || raw[3] != 0x80 {
		t.Fatalf("-1000 and -32768 written as % x", raw[:4])
	}
	back, _, err := Decode(b.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if back.Pix[0] != -1000 || back.Pix[1] != -32768 || back.BitsStored != 16 {
		t.Fatalf("read back %d, %d with %d bits stored", back.Pix[0], back.Pix[1], back.BitsStored)
	}
}

// dcmdumpRaw returns the last pixel data element of path as dcmdump +W
// writes it (little endian), or skips when dcmdump is not installed.
func dcmdumpRaw(t *testing.T, path string) []byte {
	t.Helper()
	bin := testenv.Tool(t, "dcmdump", "dcmtk")
	dir := t.TempDir()
	if out, err := exec.Command(bin, "-q", "+W", dir, path).CombinedOutput(); err != nil {
		t.Fatalf("dcmdump %s: %v\n%s", path, err, out)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.raw"))
	if len(files) == 0 {
		t.Fatalf("dcmdump wrote no pixel data for %s", path)
	}
	// Names end in .N.raw, N counting pixel data elements in file order:
	// the top-level one is the last.
	index := func(f string) int {
		s := strings.TrimSuffix(f, ".raw")
		n, _ := strconv.Atoi(s[strings.LastIndexByte(s, '.')+1:])
		return n
	}
	sort.Slice(files, func(i, j int) bool { return index(files[i]) < index(files[j]) })
	raw, err := os.ReadFile(files[len(files)-1])
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// fileOrderLE lays the samples out as a DICOM file stores them, in little endian.
func fileOrderLE(im *Image, planar bool) []byte {
	if !planar {
		return im.RawBytes()
	}
	p := im.Clone()
	plane := im.Width * im.Height
	for f := 0; f < im.Frames; f++ {
		for ch := 0; ch < 3; ch++ {
			for i := 0; i < plane; i++ {
				p.Pix[f*3*plane+ch*plane+i] = im.Pix[f*3*plane+3*i+ch]
			}
		}
	}
	return p.RawBytes()
}

func TestAgainstDcmdump(t *testing.T) {
	check := func(t *testing.T, path string, planar bool) {
		im, _, err := ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		raw := dcmdumpRaw(t, path)
		want := fileOrderLE(im, planar)
		if len(raw) < len(want) || len(raw) > len(want)+1 {
			t.Fatalf("dcmdump gives %d pixel bytes, the image has %d", len(raw), len(want))
		}
		if i := firstDiff(raw[:len(want)], want); i >= 0 {
			t.Fatalf("sample byte %d: dcmdump %#x, decoded %#x", i, raw[i], want[i])
		}
	}
	for _, s := range dcmFixtures() {
		t.Run(s.name, func(t *testing.T) { check(t, filepath.Join("testdata", s.name+".dcm"), s.planar == 1) })
	}
	dir := testenv.Path(t, "medical")
	for name := range sampleDICOMs {
		t.Run(name, func(t *testing.T) { check(t, filepath.Join(dir, name), false) })
	}
}

func firstDiff(a, b []byte) int {
	for i := range a {
		if a[i] != b[i] {
			return i
		}
	}
	return -1
}

// The walker reads the attributes itself; github.com/suyashkumar/dicom must
// agree on every file both can read.
func TestAttributesAgreeWithDicomLibrary(t *testing.T) {
	paths := []string{}
	for _, s := range dcmFixtures() {
		// The library reads neither bare data sets nor an element of VR UN
		// with undefined length (PS3.5 6.2.2, CP-246; dcmtk reads it).
		if s.ts != "" && s.preamble && !(s.sequences && s.ts != tsImplicitLE) {
			paths = append(paths, filepath.Join("testdata", s.name+".dcm"))
		}
	}
	dir := testenv.Path(t, "medical")
	for name := range sampleDICOMs {
		paths = append(paths, filepath.Join(dir, name))
	}
	sort.Strings(paths)
	for _, path := range paths {
		im, _, err := ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		ds, err := dicom.ParseFile(path, nil, dicom.SkipPixelData())
		if err != nil {
			t.Errorf("%s: the library cannot parse it: %v", path, err)
			continue
		}
		num := func(tg tag.Tag) int {
			e, err := ds.FindElementByTag(tg)
			if err != nil {
				t.Fatalf("%s: %v: %v", path, tg, err)
			}
			return e.Value.GetValue().([]int)[0]
		}
		str := func(tg tag.Tag) string {
			e, err := ds.FindElementByTag(tg)
			if err != nil {
				t.Fatalf("%s: %v: %v", path, tg, err)
			}
			return e.Value.GetValue().([]string)[0]
		}
		rep := 0
		if im.Signed {
			rep = 1
		}
		if num(tag.Rows) != im.Height || num(tag.Columns) != im.Width || num(tag.SamplesPerPixel) != im.Channels ||
			num(tag.BitsAllocated) != im.BitsAllocated || num(tag.PixelRepresentation) != rep ||
			str(tag.PhotometricInterpretation) != string(im.Photometric) {
			t.Errorf("%s: the library reads other attributes than %s", path, describe(im))
		}
	}
}
