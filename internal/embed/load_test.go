package embed

import (
	"fmt"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/suyashkumar/dicom"
	"github.com/suyashkumar/dicom/pkg/tag"

	"edge/internal/medimg"
	"edge/internal/testenv"
)

// sample is one shared test image, loaded by this package's tests without
// depending on the image readers being finished.
type sample struct {
	name string
	im   *medimg.Image
}

// samples loads every image in the shared medical folder that the tests can
// read (RG3_J2KR.dcm is JPEG 2000; its decoded PNG stands in), plus that PNG
// at the 10 bits stored its DICOM declares, the harder PSNR case.
func samples(t testing.TB) []sample {
	t.Helper()
	dir := testenv.Path(t, "medical")
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []sample
	for _, e := range ents {
		p := filepath.Join(dir, e.Name())
		var im *medimg.Image
		switch {
		case e.Name() == "RG3_J2KR.dcm":
			continue
		case strings.HasSuffix(e.Name(), ".png"):
			im, err = loadPNG(p)
		case strings.HasSuffix(e.Name(), ".dcm"):
			im, err = loadDICOM(p)
		default:
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", e.Name(), err)
		}
		if err := im.Validate(); err != nil {
			t.Fatalf("%s: %v", e.Name(), err)
		}
		out = append(out, sample{e.Name(), im})
		if e.Name() == "RG3_J2KR_decoded16.png" {
			n := im.Clone()
			n.BitsStored = 10
			if n.Validate() == nil {
				out = append(out, sample{e.Name() + "@10bit", n})
			}
		}
	}
	if len(out) == 0 {
		t.Fatalf("no PNG or DICOM sample images in %s", dir)
	}
	return out
}

func loadPNG(path string) (*medimg.Image, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	src, err := png.Decode(f)
	if err != nil {
		return nil, err
	}
	b := src.Bounds()
	im := &medimg.Image{Width: b.Dx(), Height: b.Dy(), Frames: 1, Channels: 1, BitsAllocated: 8, BitsStored: 8, Photometric: medimg.Monochrome2}
	gray := true
	if p, ok := src.(*image.Paletted); ok {
		for _, c := range p.Palette {
			r, g, bb, _ := c.RGBA()
			gray = gray && r == g && g == bb
		}
	}
	switch src.(type) {
	case *image.Gray:
	case *image.Gray16:
		im.BitsAllocated, im.BitsStored = 16, 16
	case *image.Paletted:
		if !gray {
			im.Channels, im.Photometric = 3, medimg.RGB
		}
	default:
		im.Channels, im.Photometric = 3, medimg.RGB
	}
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			c := src.At(x, y)
			switch {
			case im.BitsAllocated == 16:
				im.Pix = append(im.Pix, int32(color.Gray16Model.Convert(c).(color.Gray16).Y))
			case im.Channels == 1:
				r, _, _, _ := c.RGBA()
				im.Pix = append(im.Pix, int32(r>>8))
			default:
				r, g, bb, _ := c.RGBA()
				im.Pix = append(im.Pix, int32(r>>8), int32(g>>8), int32(bb>>8))
			}
		}
	}
	return im, nil
}

func loadDICOM(path string) (*medimg.Image, error) {
	ds, err := dicom.ParseFile(path, nil)
	if err != nil {
		return nil, err
	}
	get := func(t tag.Tag, def int) int {
		e, err := ds.FindElementByTag(t)
		if err != nil {
			return def
		}
		switch v := e.Value.GetValue().(type) {
		case []int:
			return v[0]
		case []string:
			var n int
			if _, err := fmt.Sscan(v[0], &n); err == nil {
				return n
			}
		}
		return def
	}
	im := &medimg.Image{
		Width: get(tag.Columns, 0), Height: get(tag.Rows, 0), Frames: get(tag.NumberOfFrames, 1),
		Channels: get(tag.SamplesPerPixel, 1), BitsAllocated: get(tag.BitsAllocated, 16),
		BitsStored: get(tag.BitsStored, 16), Signed: get(tag.PixelRepresentation, 0) == 1,
		Photometric: medimg.Monochrome2,
	}
	if im.Channels == 3 {
		im.Photometric = medimg.RGB
	}
	pe, err := ds.FindElementByTag(tag.PixelData)
	if err != nil {
		return nil, err
	}
	info := dicom.MustGetPixelDataInfo(pe.Value)
	for _, fr := range info.Frames {
		nf, err := fr.GetNativeFrame()
		if err != nil {
			return nil, err
		}
		for _, px := range nf.Data {
			for _, v := range px {
				v &= 1<<im.BitsAllocated - 1
				if im.Signed && v >= 1<<(im.BitsStored-1) {
					v -= 1 << im.BitsStored
				}
				im.Pix = append(im.Pix, int32(v))
			}
		}
	}
	if err := im.Validate(); err != nil {
		// Samples outside bits stored: widen, as the image readers do.
		im.BitsStored = im.BitsAllocated
		for i := range im.Pix {
			v := im.Pix[i] & (1<<im.BitsAllocated - 1)
			if im.Signed && v >= 1<<(im.BitsAllocated-1) {
				v -= 1 << im.BitsAllocated
			}
			im.Pix[i] = v
		}
	}
	return im, nil
}
