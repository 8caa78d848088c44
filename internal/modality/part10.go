package modality

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"strings"
)

// ImplementationClassUID and ImplementationVersion name this provider in
// association negotiation and in the file meta it writes.
const (
	ImplementationClassUID = "2.25.149215624902542914274561593355531627140" // a UUID-derived UID (PS3.5 B.2)
	ImplementationVersion  = "EDGE_1"
)

const (
	preambleLen = 128
	// maxMetaLen bounds the file meta group a watched file may declare.
	maxMetaLen = 64 << 10
)

// meta is what the file meta information of a Part 10 file says.
type meta struct {
	SOPClassUID, SOPInstanceUID, TransferSyntaxUID, SourceAE string
}

// appendMeta appends preamble, "DICM" and the file meta group (PS3.10 7.1).
func appendMeta(b []byte, m meta) []byte {
	b = append(b, make([]byte, preambleLen)...)
	b = append(b, "DICM"...)
	var g []byte
	g = appendExplicit(g, 0x0001, "OB", []byte{0, 1})
	g = appendExplicit(g, 0x0002, "UI", padUID(m.SOPClassUID))
	g = appendExplicit(g, 0x0003, "UI", padUID(m.SOPInstanceUID))
	g = appendExplicit(g, 0x0010, "UI", padUID(m.TransferSyntaxUID))
	g = appendExplicit(g, 0x0012, "UI", padUID(ImplementationClassUID))
	g = appendExplicit(g, 0x0013, "SH", padText(ImplementationVersion))
	if m.SourceAE != "" {
		g = appendExplicit(g, 0x0016, "AE", padText(m.SourceAE))
	}
	b = appendExplicit(b, 0x0000, "UL", binary.LittleEndian.AppendUint32(nil, uint32(len(g))))
	return append(b, g...)
}

func padUID(s string) []byte {
	b := []byte(s)
	if len(b)%2 == 1 {
		b = append(b, 0)
	}
	return b
}

func padText(s string) []byte {
	b := []byte(s)
	if len(b)%2 == 1 {
		b = append(b, ' ')
	}
	return b
}

// appendExplicit appends a group 0002 element in explicit VR little endian.
func appendExplicit(b []byte, elem uint16, vr string, v []byte) []byte {
	b = binary.LittleEndian.AppendUint16(b, 0x0002)
	b = binary.LittleEndian.AppendUint16(b, elem)
	b = append(b, vr...)
	if longVR(vr) {
		b = append(b, 0, 0)
		b = binary.LittleEndian.AppendUint32(b, uint32(len(v)))
	} else {
		b = binary.LittleEndian.AppendUint16(b, uint16(len(v)))
	}
	return append(b, v...)
}

// longVR reports the VRs whose explicit length is 4 bytes after 2 reserved
// ones (PS3.5 7.1.2).
func longVR(vr string) bool {
	switch vr {
	case "OB", "OD", "OF", "OL", "OV", "OW", "SQ", "SV", "UC", "UN", "UR", "UT", "UV":
		return true
	}
	return false
}

// readMeta reads preamble, "DICM" and the file meta group of a Part 10 file
// and leaves r at the first byte of the data set. The group's length is
// checked against maxMetaLen before it is read.
func readMeta(r *bufio.Reader) (meta, error) {
	var m meta
	var head [preambleLen + 4 + 12]byte
	if _, err := io.ReadFull(r, head[:]); err != nil {
		return m, fmt.Errorf("modality: not a DICOM Part 10 file: %w", err)
	}
	if string(head[preambleLen:preambleLen+4]) != "DICM" {
		return m, fmt.Errorf("modality: not a DICOM Part 10 file: no DICM at byte %d", preambleLen)
	}
	gl := head[preambleLen+4:]
	if binary.LittleEndian.Uint32(gl) != 0x00000002 || string(gl[4:6]) != "UL" || binary.LittleEndian.Uint16(gl[6:]) != 4 {
		return m, fmt.Errorf("modality: file meta does not start with File Meta Information Group Length (0002,0000) UL")
	}
	n := binary.LittleEndian.Uint32(gl[8:])
	if n > maxMetaLen {
		return m, fmt.Errorf("modality: file meta group of %d bytes, more than %d", n, maxMetaLen)
	}
	g := make([]byte, n)
	if _, err := io.ReadFull(r, g); err != nil {
		return m, fmt.Errorf("modality: file meta group cut short: %w", err)
	}
	for off := 0; off < len(g); {
		tag, _, v, next, err := explicitElement(g, off)
		if err != nil {
			return m, err
		}
		if tag>>16 != 0x0002 {
			return m, fmt.Errorf("modality: element (%04X,%04X) inside the file meta group at byte %d", tag>>16, tag&0xFFFF, off)
		}
		s := strings.TrimRight(string(v), "\x00 ")
		switch tag {
		case 0x00020002:
			m.SOPClassUID = s
		case 0x00020003:
			m.SOPInstanceUID = s
		case 0x00020010:
			m.TransferSyntaxUID = s
		case 0x00020016:
			m.SourceAE = s
		}
		off = next
	}
	if m.SOPClassUID == "" || m.SOPInstanceUID == "" || m.TransferSyntaxUID == "" {
		return m, fmt.Errorf("modality: file meta lacks Media Storage SOP Class, SOP Instance or Transfer Syntax UID")
	}
	return m, nil
}

// explicitElement reads the explicit VR little endian element at b[off:]
// with a defined length, checking the length against what is left.
func explicitElement(b []byte, off int) (tag uint32, vr string, v []byte, next int, err error) {
	if len(b)-off < 8 {
		return 0, "", nil, 0, fmt.Errorf("modality: element header cut short at byte %d", off)
	}
	tag = uint32(binary.LittleEndian.Uint16(b[off:]))<<16 | uint32(binary.LittleEndian.Uint16(b[off+2:]))
	vr = string(b[off+4 : off+6])
	var n uint32
	hl := 8
	if longVR(vr) {
		if len(b)-off < 12 {
			return 0, "", nil, 0, fmt.Errorf("modality: element header cut short at byte %d", off)
		}
		n = binary.LittleEndian.Uint32(b[off+8:])
		hl = 12
	} else {
		n = uint32(binary.LittleEndian.Uint16(b[off+6:]))
	}
	if uint64(n) > uint64(len(b)-off-hl) {
		return 0, "", nil, 0, fmt.Errorf("modality: element (%04X,%04X) at byte %d declares %d bytes, %d left", tag>>16, tag&0xFFFF, off, n, len(b)-off-hl)
	}
	return tag, vr, b[off+hl : off+hl+int(n)], off + hl + int(n), nil
}

// datasetUIDs finds SOP Class UID (0008,0016) and SOP Instance UID
// (0008,0018) at the start of a data set. It walks top-level elements of
// defined length only up to (0008,0018); ok is false when it cannot get
// there within head (an element of undefined length, or head cut short when
// it is not the whole data set), and the caller then skips the check rather
// than refuse a valid object. When whole is true, head is the complete data
// set, and running out of it means the UIDs are absent (ok, empty strings).
func datasetUIDs(head []byte, ts string, whole bool) (class, inst string, ok bool) {
	explicit := ts != ImplicitVRLittleEndian
	for off := 0; ; {
		if len(head)-off < 8 {
			return class, inst, whole
		}
		tag := uint32(binary.LittleEndian.Uint16(head[off:]))<<16 | uint32(binary.LittleEndian.Uint16(head[off+2:]))
		if tag > 0x00080018 {
			return class, inst, true
		}
		var n uint32
		hl := 8
		if explicit {
			vr := string(head[off+4 : off+6])
			if longVR(vr) {
				if len(head)-off < 12 {
					return class, inst, whole
				}
				n = binary.LittleEndian.Uint32(head[off+8:])
				hl = 12
			} else {
				n = uint32(binary.LittleEndian.Uint16(head[off+6:]))
			}
		} else {
			n = binary.LittleEndian.Uint32(head[off+4:])
		}
		if n == 0xFFFFFFFF || uint64(n) > uint64(len(head)-off-hl) {
			return class, inst, whole && n != 0xFFFFFFFF
		}
		v := strings.TrimRight(string(head[off+hl:off+hl+int(n)]), "\x00 ")
		switch tag {
		case 0x00080016:
			class = v
		case 0x00080018:
			return class, v, true
		}
		off += hl + int(n)
	}
}
