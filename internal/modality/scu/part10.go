package scu

import (
	"encoding/binary"
	"fmt"
	"strings"
)

const (
	preambleLen = 128
	// maxMetaLen bounds the file meta group; real ones are a few hundred bytes.
	maxMetaLen = 64 << 10
)

// File is a Part 10 file split for C-STORE: what its file meta says and the
// data set bytes after the meta, sent exactly as they are.
type File struct {
	SOPClassUID, SOPInstanceUID, TransferSyntaxUID string
	DataSet                                        []byte
}

// ParseFile splits a Part 10 file: 128-byte preamble, "DICM", the file meta
// group (explicit VR little endian, its group length checked against the
// bytes and maxMetaLen), then the data set. The meta must name the Media
// Storage SOP Class and Instance UIDs and the transfer syntax.
func ParseFile(b []byte) (*File, error) {
	const head = preambleLen + 4 + 12
	if len(b) < head {
		return nil, fmt.Errorf("scu: not a DICOM Part 10 file: %d bytes", len(b))
	}
	if string(b[preambleLen:preambleLen+4]) != "DICM" {
		return nil, fmt.Errorf("scu: not a DICOM Part 10 file: no DICM at byte %d", preambleLen)
	}
	gl := b[preambleLen+4 : head]
	if binary.LittleEndian.Uint32(gl) != 0x00000002 || string(gl[4:6]) != "UL" || binary.LittleEndian.Uint16(gl[6:]) != 4 {
		return nil, fmt.Errorf("scu: file meta does not start with File Meta Information Group Length (0002,0000) UL")
	}
	n := binary.LittleEndian.Uint32(gl[8:])
	if n > maxMetaLen || uint64(n) > uint64(len(b)-head) {
		return nil, fmt.Errorf("scu: file meta group of %d bytes, more than %d or than the %d bytes left", n, maxMetaLen, len(b)-head)
	}
	g := b[head : head+int(n)]
	f := &File{DataSet: b[head+int(n):]}
	for off := 0; off < len(g); {
		if len(g)-off < 8 {
			return nil, fmt.Errorf("scu: file meta element header cut short at byte %d", off)
		}
		group, elem := binary.LittleEndian.Uint16(g[off:]), binary.LittleEndian.Uint16(g[off+2:])
		if group != 0x0002 {
			return nil, fmt.Errorf("scu: element (%04X,%04X) inside the file meta group at byte %d", group, elem, off)
		}
		vr := string(g[off+4 : off+6])
		var vn uint32
		hl := 8
		switch vr {
		case "OB", "OD", "OF", "OL", "OV", "OW", "SQ", "SV", "UC", "UN", "UR", "UT", "UV":
			if len(g)-off < 12 {
				return nil, fmt.Errorf("scu: file meta element header cut short at byte %d", off)
			}
			vn, hl = binary.LittleEndian.Uint32(g[off+8:]), 12
		default:
			vn = uint32(binary.LittleEndian.Uint16(g[off+6:]))
		}
		if uint64(vn) > uint64(len(g)-off-hl) {
			return nil, fmt.Errorf("scu: file meta element (0002,%04X) at byte %d declares %d bytes, %d left", elem, off, vn, len(g)-off-hl)
		}
		v := strings.TrimRight(string(g[off+hl:off+hl+int(vn)]), "\x00 ")
		switch elem {
		case 0x0002:
			f.SOPClassUID = v
		case 0x0003:
			f.SOPInstanceUID = v
		case 0x0010:
			f.TransferSyntaxUID = v
		}
		off += hl + int(vn)
	}
	for _, u := range []struct{ what, v string }{
		{"Media Storage SOP Class UID", f.SOPClassUID},
		{"Media Storage SOP Instance UID", f.SOPInstanceUID},
		{"Transfer Syntax UID", f.TransferSyntaxUID},
	} {
		if !isUID(u.v) {
			return nil, fmt.Errorf("scu: file meta %s %q is not a UID", u.what, u.v)
		}
	}
	if len(f.DataSet) == 0 {
		return nil, fmt.Errorf("scu: Part 10 file has no data set")
	}
	return f, nil
}

// isUID reports 1 to 64 characters of digits and dots (PS3.5 9.1).
func isUID(s string) bool {
	if len(s) == 0 || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < '0' || c > '9') && c != '.' {
			return false
		}
	}
	return true
}
