package minutiae

import (
	"encoding/binary"
	"fmt"
)

// Record layout constants (ISO/IEC 19794-2:2005, see doc.go).
const (
	headerLen  = 24
	viewLen    = 4
	minutiaLen = 6
	// MaxRecordLen bounds what Decode reads: 255 views of 255 minutiae each
	// is far beyond any real record; 64 KiB leaves room for extended data
	// while keeping a hostile record cheap to reject.
	MaxRecordLen = 1 << 16
	// workResolution is 500 dpi in the record's unit, pixels per centimetre.
	workResolution = 197
)

// FormatError reports a record that is not a well-formed ISO/IEC
// 19794-2:2005 finger minutiae record, with the byte offset where reading
// failed.
type FormatError struct {
	Offset int
	Reason string
}

func (e *FormatError) Error() string {
	return fmt.Sprintf("minutiae: record: at byte %d: %s", e.Offset, e.Reason)
}

// Encode writes t as an ISO/IEC 19794-2:2005 finger minutiae record with
// one finger view and no extended data.
func (t *Template) Encode() ([]byte, error) {
	if err := t.check(); err != nil {
		return nil, err
	}
	n := headerLen + viewLen + minutiaLen*len(t.Minutiae) + 2
	b := make([]byte, 0, n)
	b = append(b, "FMR\x00 20\x00"...)
	b = binary.BigEndian.AppendUint32(b, uint32(n))
	b = binary.BigEndian.AppendUint16(b, 0) // no certification, device type unreported
	b = binary.BigEndian.AppendUint16(b, t.Width)
	b = binary.BigEndian.AppendUint16(b, t.Height)
	b = binary.BigEndian.AppendUint16(b, workResolution)
	b = binary.BigEndian.AppendUint16(b, workResolution)
	b = append(b, 1, 0) // one view, reserved
	// Finger position unknown (0), view 0, impression: live-scan plain (0).
	b = append(b, 0, 0, t.Quality, byte(len(t.Minutiae)))
	for _, m := range t.Minutiae {
		b = binary.BigEndian.AppendUint16(b, uint16(m.Kind)<<14|m.X)
		b = binary.BigEndian.AppendUint16(b, m.Y)
		b = append(b, m.Angle, m.Quality)
	}
	b = binary.BigEndian.AppendUint16(b, 0) // no extended data
	return b, nil
}

// check validates the fields a record can carry.
func (t *Template) check() error {
	switch {
	case t == nil:
		return fmt.Errorf("minutiae: nil template")
	case t.Width == 0 || t.Height == 0 || t.Width > 0x3FFF || t.Height > 0x3FFF:
		return fmt.Errorf("minutiae: template image size %d×%d out of range 1..16383", t.Width, t.Height)
	case t.Quality > 100:
		return fmt.Errorf("minutiae: template quality %d > 100", t.Quality)
	case len(t.Minutiae) > 255:
		return fmt.Errorf("minutiae: %d minutiae, a record holds at most 255", len(t.Minutiae))
	}
	for i, m := range t.Minutiae {
		if m.X >= t.Width || m.Y >= t.Height || m.Kind > Bifurcation || m.Quality > 100 {
			return fmt.Errorf("minutiae: minutia %d (%d,%d kind %d quality %d) outside the %d×%d image or out of range", i, m.X, m.Y, m.Kind, m.Quality, t.Width, t.Height)
		}
	}
	return nil
}

// Decode reads an ISO/IEC 19794-2:2005 finger minutiae record and returns
// the first finger view as a template, its coordinates scaled to WorkDPI.
// Every length is checked against the bytes present before anything is
// allocated; other views and extended data are validated and skipped.
func Decode(b []byte) (*Template, error) {
	fe := func(off int, f string, a ...any) error {
		return &FormatError{Offset: off, Reason: fmt.Sprintf(f, a...)}
	}
	if len(b) > MaxRecordLen {
		return nil, fe(0, "%d bytes, more than the %d accepted", len(b), MaxRecordLen)
	}
	if len(b) < headerLen {
		return nil, fe(0, "%d bytes, shorter than the %d-byte header", len(b), headerLen)
	}
	if string(b[0:4]) != "FMR\x00" {
		return nil, fe(0, "format identifier %q, want \"FMR\\x00\"", b[0:4])
	}
	if string(b[4:8]) != " 20\x00" {
		return nil, fe(4, "version %q, want \" 20\\x00\" (2005)", b[4:8])
	}
	if n := binary.BigEndian.Uint32(b[8:12]); n != uint32(len(b)) {
		return nil, fe(8, "record length field %d, have %d bytes", n, len(b))
	}
	w := binary.BigEndian.Uint16(b[14:16])
	h := binary.BigEndian.Uint16(b[16:18])
	xr := binary.BigEndian.Uint16(b[18:20])
	yr := binary.BigEndian.Uint16(b[20:22])
	views := int(b[22])
	switch {
	case w == 0 || h == 0 || w > 0x3FFF || h > 0x3FFF:
		return nil, fe(14, "image size %d×%d out of range 1..16383", w, h)
	case xr < 98 || xr > 600 || yr < 98 || yr > 600:
		// 250..1500 dpi, the range Extract accepts.
		return nil, fe(18, "resolution %d×%d px/cm, want 98..600", xr, yr)
	case views < 1:
		return nil, fe(22, "no finger views")
	case b[23] != 0:
		return nil, fe(23, "reserved byte %d, want 0", b[23])
	}
	// Scale to WorkDPI; exact (identity) for records written at 500 dpi.
	sx := func(v uint16, r uint16) uint32 { return (uint32(v)*workResolution + uint32(r)/2) / uint32(r) }
	W, H := max(sx(w, xr), 1), max(sx(h, yr), 1)
	if W > 0x3FFF || H > 0x3FFF {
		return nil, fe(14, "image %d×%d at %d×%d px/cm is %d×%d at 500 dpi, beyond 16383", w, h, xr, yr, W, H)
	}
	t := &Template{Width: uint16(W), Height: uint16(H)}
	off := headerLen
	for v := 0; v < views; v++ {
		if len(b)-off < viewLen {
			return nil, fe(off, "view %d header truncated", v)
		}
		pos, vi, q, n := b[off], b[off+1], b[off+2], int(b[off+3])
		switch {
		case pos > 10:
			return nil, fe(off, "finger position %d, want 0..10", pos)
		case vi&0x0F > 3 && vi&0x0F != 8:
			return nil, fe(off+1, "impression type %d, want 0..3 or 8", vi&0x0F)
		case q > 100:
			return nil, fe(off+2, "finger quality %d > 100", q)
		}
		off += viewLen
		if len(b)-off < n*minutiaLen+2 {
			return nil, fe(off, "view %d declares %d minutiae, %d bytes left", v, n, len(b)-off)
		}
		if v == 0 {
			t.Quality = q
			t.Minutiae = make([]Minutia, 0, n)
		}
		for i := 0; i < n; i++ {
			p := b[off:]
			xv, yv := binary.BigEndian.Uint16(p[0:2]), binary.BigEndian.Uint16(p[2:4])
			k, x, y := Kind(xv>>14), xv&0x3FFF, yv&0x3FFF
			switch {
			case k > Bifurcation:
				return nil, fe(off, "minutia type %d", k)
			case yv>>14 != 0:
				return nil, fe(off+2, "reserved bits set")
			case x >= w || y >= h:
				return nil, fe(off, "minutia at (%d,%d) outside the %d×%d image", x, y, w, h)
			case p[5] > 100:
				return nil, fe(off+5, "minutia quality %d > 100", p[5])
			}
			if v == 0 {
				m := Minutia{X: uint16(min(sx(x, xr), W-1)), Y: uint16(min(sx(y, yr), H-1)), Angle: p[4], Kind: k, Quality: p[5]}
				t.Minutiae = append(t.Minutiae, m)
			}
			off += minutiaLen
		}
		ext := int(binary.BigEndian.Uint16(b[off : off+2]))
		off += 2
		if len(b)-off < ext {
			return nil, fe(off-2, "extended data of %d bytes, %d left", ext, len(b)-off)
		}
		off += ext
	}
	if off != len(b) {
		return nil, fe(off, "%d bytes after the last view", len(b)-off)
	}
	return t, nil
}
