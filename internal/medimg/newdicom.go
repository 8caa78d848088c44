package medimg

import (
	"encoding/binary"
	"fmt"
	"strconv"
)

// NewDICOMContainer makes the container of a new DICOM file for im: a
// Secondary Capture object, explicit VR little endian, with the image's
// geometry and no patient data, identified by uid (a DICOM UID the caller
// owns, "2.25." and a decimal number for instance). Encode with it writes a
// file that ReadFile reads back as im, for images that came without a DICOM
// header (a PNG) and must go to a DICOM peer.
func NewDICOMContainer(im *Image, uid string) (*Container, error) {
	if err := im.CheckGeometry(); err != nil {
		return nil, err
	}
	if im.Width > 0xffff || im.Height > 0xffff {
		return nil, fmt.Errorf("medimg: %d×%d does not fit DICOM's 16-bit rows and columns", im.Width, im.Height)
	}
	if len(uid) == 0 || len(uid) > 64 {
		return nil, fmt.Errorf("medimg: UID %q is not 1 to 64 characters", uid)
	}
	for i := 0; i < len(uid); i++ {
		if c := uid[i]; c != '.' && (c < '0' || c > '9') {
			return nil, fmt.Errorf("medimg: UID %q has a character other than digits and dots", uid)
		}
	}
	const secondaryCapture = "1.2.840.10008.5.1.4.1.1.7"
	var meta, ds []byte
	le := binary.LittleEndian
	elem := func(b []byte, tag uint32, vr string, v []byte) []byte {
		b = le.AppendUint16(b, uint16(tag>>16))
		b = le.AppendUint16(b, uint16(tag))
		b = append(b, vr...)
		if longVR(vr) {
			b = append(b, 0, 0)
			return append(le.AppendUint32(b, uint32(len(v))), v...)
		}
		return append(le.AppendUint16(b, uint16(len(v))), v...)
	}
	text := func(v string, pad byte) []byte {
		b := []byte(v)
		if len(b)%2 == 1 {
			b = append(b, pad)
		}
		return b
	}
	us := func(v int) []byte { return le.AppendUint16(nil, uint16(v)) }

	meta = elem(meta, 0x00020001, "OB", []byte{0, 1})
	meta = elem(meta, 0x00020002, "UI", text(secondaryCapture, 0))
	meta = elem(meta, 0x00020003, "UI", text(uid, 0))
	meta = elem(meta, 0x00020010, "UI", text(tsExplicitLE, 0))
	head := make([]byte, preambleLen, preambleLen+256)
	head = append(head, "DICM"...)
	head = elem(head, 0x00020000, "UL", le.AppendUint32(nil, uint32(len(meta))))
	head = append(head, meta...)

	ds = elem(ds, 0x00080016, "UI", text(secondaryCapture, 0))
	ds = elem(ds, 0x00080018, "UI", text(uid, 0))
	ds = elem(ds, 0x00080060, "CS", text("OT", ' '))
	ds = elem(ds, 0x00280002, "US", us(im.Channels))
	photometric := im.Photometric
	if photometric == "" {
		photometric = Monochrome2
		if im.Channels == 3 {
			photometric = RGB
		}
	}
	ds = elem(ds, 0x00280004, "CS", text(string(photometric), ' '))
	if im.Channels == 3 {
		ds = elem(ds, 0x00280006, "US", us(0))
	}
	if im.Frames > 1 {
		ds = elem(ds, 0x00280008, "IS", text(strconv.Itoa(im.Frames), ' '))
	}
	ds = elem(ds, 0x00280010, "US", us(im.Height))
	ds = elem(ds, 0x00280011, "US", us(im.Width))
	ds = elem(ds, 0x00280100, "US", us(im.BitsAllocated))
	ds = elem(ds, 0x00280101, "US", us(im.BitsStored))
	ds = elem(ds, 0x00280102, "US", us(im.BitsStored-1))
	rep := 0
	if im.Signed {
		rep = 1
	}
	ds = elem(ds, 0x00280103, "US", us(rep))
	n := im.RawSize()
	vr := "OW"
	if im.BitsAllocated == 8 {
		vr = "OB"
	}
	head = append(head, ds...)
	head = le.AppendUint16(head, 0x7fe0)
	head = le.AppendUint16(head, 0x0010)
	head = append(head, vr...)
	head = append(head, 0, 0)
	head = le.AppendUint32(head, uint32(n+n%2))
	var tail []byte
	if n%2 == 1 {
		tail = []byte{0}
	}
	return &Container{Format: FormatDICOM, Head: head, Tail: tail}, nil
}
