package eval

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"

	"edge/internal/medimg"
)

// JPEGLS measures the standard lossless codec on the same pixels with dcmtk's
// dcmcjpls: the size of the compressed pixel payload (the encapsulated
// fragments, without the offset table or item headers), so that it compares
// with the body size of our schemes. A DICOM original is compressed as it is;
// other images are first wrapped in a minimal DICOM.
type JPEGLS struct {
	// Tool is the dcmcjpls executable.
	Tool string
	// Dir holds the temporary files.
	Dir string
}

// FindJPEGLS returns a JPEGLS when dcmcjpls is installed.
func FindJPEGLS(dir string) (*JPEGLS, bool) {
	p, err := exec.LookPath("dcmcjpls")
	if err != nil {
		return nil, false
	}
	return &JPEGLS{Tool: p, Dir: dir}, true
}

// Size compresses im, written back into its own DICOM container when it came
// as DICOM, and returns the size of the compressed pixel payload.
func (j *JPEGLS) Size(ctx context.Context, im *medimg.Image, c *medimg.Container) (int, error) {
	in := filepath.Join(j.Dir, "jls-in.dcm")
	out := filepath.Join(j.Dir, "jls-out.dcm")
	defer os.Remove(in)
	defer os.Remove(out)
	var buf bytes.Buffer
	var err error
	if c != nil && c.Format == medimg.FormatDICOM {
		err = medimg.Encode(&buf, im, c)
	} else {
		err = writeMinimalDICOM(&buf, im)
	}
	if err != nil {
		return 0, fmt.Errorf("eval: dicom for dcmcjpls: %w", err)
	}
	if err := os.WriteFile(in, buf.Bytes(), 0o600); err != nil {
		return 0, err
	}
	// Lossless (the default), and with the encoder's own default parameters:
	// what a PACS gets from a modality that offers JPEG-LS lossless.
	cmd := exec.CommandContext(ctx, j.Tool, in, out)
	if msg, err := cmd.CombinedOutput(); err != nil {
		return 0, fmt.Errorf("eval: dcmcjpls: %v: %s", err, bytes.TrimSpace(msg))
	}
	b, err := os.ReadFile(out)
	if err != nil {
		return 0, err
	}
	return encapsulatedSize(b)
}

// encapsulatedSize sums the fragment lengths of the last encapsulated Pixel
// Data element of an explicit VR little endian file, skipping the basic
// offset table (the first item).
func encapsulatedSize(b []byte) (int, error) {
	tag := []byte{0xE0, 0x7F, 0x10, 0x00, 'O', 'B', 0, 0, 0xFF, 0xFF, 0xFF, 0xFF}
	i := bytes.LastIndex(b, tag)
	if i < 0 {
		return 0, errors.New("eval: no encapsulated pixel data in dcmcjpls output")
	}
	p := i + len(tag)
	total, item := 0, 0
	for p+8 <= len(b) {
		g, e := binary.LittleEndian.Uint16(b[p:]), binary.LittleEndian.Uint16(b[p+2:])
		n := int(binary.LittleEndian.Uint32(b[p+4:]))
		p += 8
		if g == 0xFFFE && e == 0xE0DD {
			return total, nil
		}
		if g != 0xFFFE || e != 0xE000 || n < 0 || p+n > len(b) {
			return 0, fmt.Errorf("eval: bad item (%04X,%04X) length %d at %d in dcmcjpls output", g, e, n, p-8)
		}
		if item > 0 {
			total += n
		}
		item++
		p += n
	}
	return 0, errors.New("eval: dcmcjpls output ends inside its pixel data")
}

// writeMinimalDICOM writes a Secondary Capture file holding just the pixels,
// in explicit VR little endian, so dcmtk can compress an image that came as PNG.
func writeMinimalDICOM(w *bytes.Buffer, im *medimg.Image) error {
	if err := im.Validate(); err != nil {
		return err
	}
	const sc = "1.2.840.10008.5.1.4.1.1.7"
	const uid = "2.25.1"
	var meta bytes.Buffer
	elem(&meta, 0x0002, 0x0001, "OB", []byte{0, 1})
	elem(&meta, 0x0002, 0x0002, "UI", uidValue(sc))
	elem(&meta, 0x0002, 0x0003, "UI", uidValue(uid))
	elem(&meta, 0x0002, 0x0010, "UI", uidValue("1.2.840.10008.1.2.1"))
	w.Write(make([]byte, 128))
	w.WriteString("DICM")
	elem(w, 0x0002, 0x0000, "UL", binary.LittleEndian.AppendUint32(nil, uint32(meta.Len())))
	w.Write(meta.Bytes())
	elem(w, 0x0008, 0x0016, "UI", uidValue(sc))
	elem(w, 0x0008, 0x0018, "UI", uidValue(uid))
	us := func(v int) []byte { return binary.LittleEndian.AppendUint16(nil, uint16(v)) }
	elem(w, 0x0028, 0x0002, "US", us(im.Channels))
	photo := string(im.Photometric)
	if photo == "" || photo == string(medimg.PaletteColor) {
		photo = string(medimg.Monochrome2)
	}
	elem(w, 0x0028, 0x0004, "CS", textValue(photo))
	if im.Channels == 3 {
		elem(w, 0x0028, 0x0006, "US", us(0))
	}
	if im.Frames > 1 {
		elem(w, 0x0028, 0x0008, "IS", textValue(fmt.Sprint(im.Frames)))
	}
	elem(w, 0x0028, 0x0010, "US", us(im.Height))
	elem(w, 0x0028, 0x0011, "US", us(im.Width))
	elem(w, 0x0028, 0x0100, "US", us(im.BitsAllocated))
	elem(w, 0x0028, 0x0101, "US", us(im.BitsStored))
	elem(w, 0x0028, 0x0102, "US", us(im.BitsStored-1))
	rep := 0
	if im.Signed {
		rep = 1
	}
	elem(w, 0x0028, 0x0103, "US", us(rep))
	px := im.RawBytes()
	if len(px)%2 == 1 {
		px = append(px, 0)
	}
	vr := "OW"
	if im.BitsAllocated == 8 {
		vr = "OB"
	}
	elem(w, 0x7FE0, 0x0010, vr, px)
	return nil
}

func uidValue(s string) []byte {
	b := []byte(s)
	if len(b)%2 == 1 {
		b = append(b, 0)
	}
	return b
}

func textValue(s string) []byte {
	b := []byte(s)
	if len(b)%2 == 1 {
		b = append(b, ' ')
	}
	return b
}

func elem(w *bytes.Buffer, group, element uint16, vr string, v []byte) {
	var h [12]byte
	binary.LittleEndian.PutUint16(h[0:], group)
	binary.LittleEndian.PutUint16(h[2:], element)
	copy(h[4:6], vr)
	switch vr {
	case "OB", "OW", "UN", "SQ", "UT":
		binary.LittleEndian.PutUint32(h[8:], uint32(len(v)))
		w.Write(h[:12])
	default:
		binary.LittleEndian.PutUint16(h[6:], uint16(len(v)))
		w.Write(h[:8])
	}
	w.Write(v)
}
