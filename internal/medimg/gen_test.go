package medimg

// The generator of the package's fixtures: tiny DICOM and PNG files, each
// built byte by byte here, independently of the decoder, from a description
// of the image it must decode to. TestFixturesCurrent checks the committed
// copies in testdata/ (and the fuzz seeds made from them); run
// `go test -run TestFixturesCurrent -update ./internal/medimg` after a change.

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"fmt"
	"hash/crc32"
)

const (
	tsJPEG2000Lossless = "1.2.840.10008.1.2.4.90"
	tsDeflated         = "1.2.840.10008.1.2.1.99"
)

// dcmSpec describes one generated DICOM file.
type dcmSpec struct {
	name     string
	ts       string // transfer syntax; "" writes a bare data set without file meta
	preamble bool   // 128 zero bytes and "DICM" before the file meta
	explicit bool   // for a bare data set: explicit VR little endian

	rows, cols, frames, spp   int
	bitsAlloc, bitsStored     int
	highBit, pixelRep, planar int
	photometric               string
	framesAttr                bool // write Number of Frames
	sequences                 bool // nested sequences, items and an icon image before the pixel data
	palette                   bool // palette colour lookup tables
	trailer                   bool // Data Set Trailing Padding after the pixel data
	pix                       []int32
	extraPixelBytes           int // bytes past what the geometry needs (bad input)
	wantBitsStored            int
}

func (s *dcmSpec) syntax() syntax {
	switch s.ts {
	case "":
		return syntax{implicit: !s.explicit, order: binary.LittleEndian}
	case tsImplicitLE:
		return syntax{uid: s.ts, implicit: true, order: binary.LittleEndian}
	case tsExplicitBE:
		return syntax{uid: s.ts, order: binary.BigEndian}
	}
	return syntax{uid: s.ts, order: binary.LittleEndian}
}

// want is the image the file must decode to.
func (s *dcmSpec) want() *Image {
	return &Image{
		Width: s.cols, Height: s.rows, Frames: s.frames, Channels: s.spp,
		BitsAllocated: s.bitsAlloc, BitsStored: s.wantBitsStored, Signed: s.pixelRep == 1,
		Photometric: Photometric(s.photometric), Pix: append([]int32(nil), s.pix...),
	}
}

// dcmWriter appends elements in one syntax.
type dcmWriter struct {
	buf bytes.Buffer
	s   syntax
}

func (w *dcmWriter) tag(t uint32) {
	var b [4]byte
	w.s.order.PutUint16(b[0:], uint16(t>>16))
	w.s.order.PutUint16(b[2:], uint16(t))
	w.buf.Write(b[:])
}

func (w *dcmWriter) u16(v uint16) {
	var b [2]byte
	w.s.order.PutUint16(b[:], v)
	w.buf.Write(b[:])
}

func (w *dcmWriter) u32(v uint32) {
	var b [4]byte
	w.s.order.PutUint32(b[:], v)
	w.buf.Write(b[:])
}

// head writes a tag, VR and length.
func (w *dcmWriter) head(t uint32, vr string, n uint32) {
	w.tag(t)
	switch {
	case w.s.implicit:
		w.u32(n)
	case longVR(vr):
		w.buf.WriteString(vr)
		w.u16(0)
		w.u32(n)
	default:
		w.buf.WriteString(vr)
		w.u16(uint16(n))
	}
}

func (w *dcmWriter) elem(t uint32, vr string, v []byte) {
	w.head(t, vr, uint32(len(v)))
	w.buf.Write(v)
}

// str writes a string value padded to even length as PS3.5 6.2 asks.
func (w *dcmWriter) str(t uint32, vr, v string) {
	if len(v)%2 == 1 {
		if vr == "UI" {
			v += "\x00"
		} else {
			v += " "
		}
	}
	w.elem(t, vr, []byte(v))
}

func (w *dcmWriter) us(t uint32, vs ...int) {
	w.head(t, "US", uint32(2*len(vs)))
	for _, v := range vs {
		w.u16(uint16(v))
	}
}

func (w *dcmWriter) item(t uint32, n uint32) { w.tag(t); w.u32(n) }

func (w *dcmWriter) words(t uint32, vs []int) {
	w.head(t, "OW", uint32(2*len(vs)))
	for _, v := range vs {
		w.u16(uint16(v))
	}
}

// pixelBytes lays the samples out as the file stores them.
func (s *dcmSpec) pixelBytes() []byte {
	order := s.syntax().order
	bps := s.bitsAlloc / 8
	out := make([]byte, 0, len(s.pix)*bps)
	put := func(v int32) {
		if bps == 1 {
			out = append(out, byte(v))
		} else {
			out = order.(binary.AppendByteOrder).AppendUint16(out, uint16(v))
		}
	}
	plane := s.rows * s.cols
	for f := 0; f < s.frames; f++ {
		frame := s.pix[f*plane*s.spp : (f+1)*plane*s.spp]
		if s.planar == 1 {
			for c := 0; c < s.spp; c++ {
				for i := 0; i < plane; i++ {
					put(frame[i*s.spp+c])
				}
			}
			continue
		}
		for _, v := range frame {
			put(v)
		}
	}
	return out
}

func (s *dcmSpec) bytes() []byte {
	var out bytes.Buffer
	if s.preamble {
		out.Write(make([]byte, preambleLen))
		out.WriteString("DICM")
	}
	if s.ts != "" {
		meta := &dcmWriter{s: syntax{order: binary.LittleEndian}}
		meta.elem(0x00020001, "OB", []byte{0, 1})
		meta.str(0x00020002, "UI", "1.2.840.10008.5.1.4.1.1.7")
		meta.str(0x00020003, "UI", "1.2.826.0.1.3680043.2.1143.1")
		meta.str(0x00020010, "UI", s.ts)
		meta.str(0x00020012, "UI", "1.2.826.0.1.3680043.2.1143.2")
		group := &dcmWriter{s: meta.s}
		group.elem(0x00020000, "UL", binary.LittleEndian.AppendUint32(nil, uint32(meta.buf.Len())))
		out.Write(group.buf.Bytes())
		out.Write(meta.buf.Bytes())
	}
	w := &dcmWriter{s: s.syntax()}
	w.str(0x00080008, "CS", `ORIGINAL\PRIMARY`)
	w.str(0x00080016, "UI", "1.2.840.10008.5.1.4.1.1.7")
	w.str(0x00080018, "UI", "1.2.826.0.1.3680043.2.1143.1")
	w.str(0x00080060, "CS", "OT")
	if s.sequences {
		// Referenced Image Sequence, undefined length: an item of undefined
		// length holding a nested sequence, then an item of defined length.
		w.head(0x00081140, "SQ", undefinedLength)
		w.item(tagItem, undefinedLength)
		w.str(0x00081150, "UI", "1.2.840.10008.5.1.4.1.1.7")
		w.head(0x00089215, "SQ", undefinedLength)
		w.item(tagItem, undefinedLength)
		w.str(0x00080100, "SH", "121311")
		w.item(tagItemDelim, 0)
		w.item(tagSequenceDelim, 0)
		w.item(tagItemDelim, 0)
		inner := &dcmWriter{s: w.s}
		inner.str(0x00081155, "UI", "1.2.3.4")
		w.item(tagItem, uint32(inner.buf.Len()))
		w.buf.Write(inner.buf.Bytes())
		w.item(tagSequenceDelim, 0)
	}
	if s.sequences && !w.s.implicit {
		// A private element of unknown VR and undefined length: its contents
		// are implicit VR little endian whatever the transfer syntax.
		w.head(0x00091010, "UN", undefinedLength)
		un := &dcmWriter{s: syntax{implicit: true, order: binary.LittleEndian}}
		un.item(tagItem, undefinedLength)
		un.str(0x00100010, "PN", "Nested^Name")
		un.item(tagItemDelim, 0)
		un.item(tagSequenceDelim, 0)
		w.buf.Write(un.buf.Bytes())
	}
	w.str(0x00100010, "PN", "Doe^Jane")
	w.str(0x00100020, "LO", "\xc5\xc4\xd6-1 ") // Latin-1 bytes and a trailing space must survive
	w.us(tagSamplesPerPixel, s.spp)
	w.str(tagPhotometric, "CS", s.photometric)
	if s.spp == 3 {
		w.us(tagPlanarConfig, s.planar)
	}
	if s.framesAttr {
		w.str(tagNumberOfFrames, "IS", itoa(s.frames))
	}
	w.us(tagRows, s.rows)
	w.us(tagColumns, s.cols)
	w.us(tagBitsAllocated, s.bitsAlloc)
	w.us(tagBitsStored, s.bitsStored)
	w.us(tagHighBit, s.highBit)
	w.us(tagPixelRep, s.pixelRep)
	if s.palette {
		for _, t := range []uint32{0x00281101, 0x00281102, 0x00281103} {
			w.us(t, 4, 0, 16)
		}
		for i, t := range []uint32{0x00281201, 0x00281202, 0x00281203} {
			w.words(t, []int{0, 0x1000 * (i + 1), 0x8000, 0xFFFF})
		}
	}
	if s.sequences {
		// Icon Image Sequence: a small image of its own, with its own Rows
		// and Pixel Data, which must not be taken for the main image.
		w.head(0x00880200, "SQ", undefinedLength)
		w.item(tagItem, undefinedLength)
		w.us(tagSamplesPerPixel, 1)
		w.str(tagPhotometric, "CS", "MONOCHROME2")
		w.us(tagRows, 2)
		w.us(tagColumns, 2)
		w.us(tagBitsAllocated, 8)
		w.us(tagBitsStored, 8)
		w.us(tagHighBit, 7)
		w.us(tagPixelRep, 0)
		w.elem(tagPixelData, "OB", []byte{1, 2, 3, 4})
		w.item(tagItemDelim, 0)
		w.item(tagSequenceDelim, 0)
	}
	px := s.pixelBytes()
	px = append(px, make([]byte, s.extraPixelBytes)...)
	if len(px)%2 == 1 {
		px = append(px, 0)
	}
	vr := "OW"
	if s.bitsAlloc == 8 {
		vr = "OB"
	}
	w.elem(tagPixelData, vr, px)
	if s.trailer {
		w.elem(0xFFFCFFFC, "OB", make([]byte, 6))
	}
	out.Write(w.buf.Bytes())
	return out.Bytes()
}

func itoa(n int) string {
	var b []byte
	for {
		b = append([]byte{byte('0' + n%10)}, b...)
		if n /= 10; n == 0 {
			return string(b)
		}
	}
}

// ramp makes n deterministic samples in [lo, hi], touching both ends.
func ramp(n int, lo, hi int32) []int32 {
	p := make([]int32, n)
	span := int64(hi) - int64(lo) + 1
	x := uint32(12345)
	for i := range p {
		x = x*1103515245 + 12345
		p[i] = int32(int64(lo) + int64(x>>8)%span)
	}
	p[0], p[n-1] = lo, hi
	return p
}

// dcmFixtures are the valid generated DICOM files.
func dcmFixtures() []*dcmSpec {
	mono := func(name, ts string, rows, cols, bitsAlloc, bitsStored, rep int, lo, hi int32) *dcmSpec {
		return &dcmSpec{
			name: name, ts: ts, preamble: true, rows: rows, cols: cols, frames: 1, spp: 1,
			bitsAlloc: bitsAlloc, bitsStored: bitsStored, highBit: bitsStored - 1, pixelRep: rep,
			photometric: "MONOCHROME2", pix: ramp(rows*cols, lo, hi), wantBitsStored: bitsStored,
		}
	}
	u12 := mono("explicit_le_u12", tsExplicitLE, 5, 7, 16, 12, 0, 0, 4095)
	u12.trailer = true
	overlay := mono("explicit_le_u12_overlay", tsExplicitLE, 5, 7, 16, 12, 0, 0, 4095)
	overlay.pix[3] = 0x2000 | 17 // a bit above Bits Stored, as overlays once used
	overlay.wantBitsStored = 16
	// High Bit 15 with 12 bits stored: the samples sit in the top bits, so
	// whole words are kept and Bits Stored widens.
	highBit := mono("explicit_le_u12_high_bit_15", tsExplicitLE, 2, 3, 16, 12, 0, 0, 4095)
	highBit.highBit, highBit.wantBitsStored = 15, 16
	s12 := mono("explicit_le_s12", tsExplicitLE, 4, 6, 16, 12, 1, -2048, 2047)
	s16 := mono("implicit_le_s16_sequences", tsImplicitLE, 4, 6, 16, 16, 1, -32768, 32767)
	s16.sequences = true
	seq := mono("explicit_le_sequences", tsExplicitLE, 3, 5, 16, 10, 0, 0, 1023)
	seq.sequences, seq.trailer = true, true
	be := mono("explicit_be_u16", tsExplicitBE, 3, 5, 16, 16, 0, 0, 65535)
	be.sequences = true
	s8 := mono("explicit_le_s8", tsExplicitLE, 4, 4, 8, 8, 1, -128, 127)
	odd := mono("explicit_le_u8_odd", tsExplicitLE, 3, 3, 8, 8, 0, 0, 255)
	odd.trailer = true
	noPre := mono("no_preamble", tsExplicitLE, 2, 3, 16, 16, 0, 0, 65535)
	noPre.preamble = false
	bareI := mono("bare_implicit", "", 3, 2, 16, 12, 0, 0, 4095)
	bareI.preamble = false
	bareE := mono("bare_explicit", "", 3, 2, 8, 8, 0, 0, 255)
	bareE.preamble, bareE.explicit = false, true
	multi := mono("multiframe_mono1", tsExplicitLE, 4, 3, 8, 8, 0, 0, 255)
	multi.frames, multi.framesAttr, multi.photometric, multi.pix = 3, true, "MONOCHROME1", ramp(3*4*3, 0, 255)
	pal := mono("palette", tsExplicitLE, 3, 4, 8, 8, 0, 0, 3)
	pal.photometric, pal.palette = "PALETTE COLOR", true
	rgb := func(name, ts string, rows, cols, frames, planar int) *dcmSpec {
		return &dcmSpec{
			name: name, ts: ts, preamble: true, rows: rows, cols: cols, frames: frames, spp: 3,
			bitsAlloc: 8, bitsStored: 8, highBit: 7, planar: planar, photometric: "RGB",
			framesAttr: frames > 1, pix: ramp(rows*cols*frames*3, 0, 255), wantBitsStored: 8,
		}
	}
	return []*dcmSpec{
		u12, overlay, highBit, s12, s16, seq, be, s8, odd, noPre, bareI, bareE, multi, pal,
		rgb("rgb_planar_2frames", tsExplicitLE, 3, 4, 2, 1),
		rgb("rgb_interleaved_implicit", tsImplicitLE, 2, 5, 1, 0),
	}
}

// pngChunk appends one PNG chunk with its CRC.
func pngChunk(out []byte, typ string, data []byte) []byte {
	out = binary.BigEndian.AppendUint32(out, uint32(len(data)))
	start := len(out)
	out = append(out, typ...)
	out = append(out, data...)
	return binary.BigEndian.AppendUint32(out, crc32.ChecksumIEEE(out[start:]))
}

// pngSpec describes one generated PNG: the raw scanlines (without filter
// bytes) of each row, in the file's own bit depth and colour type.
type pngSpec struct {
	name             string
	width, height    int
	depth, colorType int
	interlaced       bool
	plte, trns       []byte
	rows             [][]byte // full-image rows, packed as the file stores them
	want             *Image   // nil when decoding must fail
	wantErr          string   // a piece of the error
	truncateAt       int      // cut the file to this many bytes when > 0
}

func (p *pngSpec) bytes() []byte {
	out := []byte(pngSignature)
	ihdr := binary.BigEndian.AppendUint32(nil, uint32(p.width))
	ihdr = binary.BigEndian.AppendUint32(ihdr, uint32(p.height))
	il := byte(0)
	if p.interlaced {
		il = 1
	}
	ihdr = append(ihdr, byte(p.depth), byte(p.colorType), 0, 0, il)
	out = pngChunk(out, "IHDR", ihdr)
	if p.plte != nil {
		out = pngChunk(out, "PLTE", p.plte)
	}
	if p.trns != nil {
		out = pngChunk(out, "tRNS", p.trns)
	}
	var raw bytes.Buffer
	if p.interlaced {
		p.adam7(&raw)
	} else {
		for _, r := range p.rows {
			raw.WriteByte(0)
			raw.Write(r)
		}
	}
	var z bytes.Buffer
	zw := zlib.NewWriter(&z)
	zw.Write(raw.Bytes())
	zw.Close()
	out = pngChunk(out, "IDAT", z.Bytes())
	out = pngChunk(out, "IEND", nil)
	if p.truncateAt > 0 {
		out = out[:p.truncateAt]
	}
	return out
}

// adam7 writes the seven interlace passes; it handles bit depths of 8 and
// more only, which is all the fixtures use.
func (p *pngSpec) adam7(raw *bytes.Buffer) {
	passes := [7][4]int{{0, 0, 8, 8}, {4, 0, 8, 8}, {0, 4, 4, 8}, {2, 0, 4, 4}, {0, 2, 2, 4}, {1, 0, 2, 2}, {0, 1, 1, 2}}
	bpp := len(p.rows[0]) / p.width
	for _, ps := range passes {
		x0, y0, dx, dy := ps[0], ps[1], ps[2], ps[3]
		if x0 >= p.width {
			continue
		}
		for y := y0; y < p.height; y += dy {
			raw.WriteByte(0)
			for x := x0; x < p.width; x += dx {
				raw.Write(p.rows[y][x*bpp : (x+1)*bpp])
			}
		}
	}
}

// packRows packs samples of the given bit depth into PNG rows.
func packRows(width, height, perPixel, depth int, samples []int) [][]byte {
	rows := make([][]byte, height)
	n := width * perPixel
	for y := range rows {
		var r []byte
		acc, bits := 0, 0
		for _, v := range samples[y*n : (y+1)*n] {
			if depth == 16 {
				r = append(r, byte(v>>8), byte(v))
				continue
			}
			acc, bits = acc<<depth|v, bits+depth
			if bits == 8 {
				r, acc, bits = append(r, byte(acc)), 0, 0
			}
		}
		if bits > 0 {
			r = append(r, byte(acc<<(8-bits)))
		}
		rows[y] = r
	}
	return rows
}

func intRamp(n, max int) []int {
	r := ramp(n, 0, int32(max))
	out := make([]int, n)
	for i, v := range r {
		out[i] = int(v)
	}
	return out
}

func grayWant(w, h, bits int, vals []int, scale int) *Image {
	im := &Image{Width: w, Height: h, Frames: 1, Channels: 1, BitsAllocated: bits, BitsStored: bits, Photometric: Monochrome2}
	for _, v := range vals {
		im.Pix = append(im.Pix, int32(v*scale))
	}
	return im
}

// pngFixtures are generated PNGs, valid and not.
func pngFixtures() []*pngSpec {
	var specs []*pngSpec
	for _, d := range []struct{ depth, scale int }{{1, 0xFF}, {2, 0x55}, {4, 0x11}, {8, 1}} {
		v := intRamp(5*3, 1<<d.depth-1)
		specs = append(specs, &pngSpec{
			name: "gray" + itoa(d.depth), width: 5, height: 3, depth: d.depth, colorType: pngGray,
			rows: packRows(5, 3, 1, d.depth, v), want: grayWant(5, 3, 8, v, d.scale),
		})
	}
	g16 := intRamp(4*3, 65535)
	specs = append(specs, &pngSpec{name: "gray16", width: 4, height: 3, depth: 16, colorType: pngGray,
		rows: packRows(4, 3, 1, 16, g16), want: grayWant(4, 3, 16, g16, 1)})
	il := intRamp(9*10, 255)
	specs = append(specs, &pngSpec{name: "gray8_interlaced", width: 9, height: 10, depth: 8, colorType: pngGray,
		interlaced: true, rows: packRows(9, 10, 1, 8, il), want: grayWant(9, 10, 8, il, 1)})

	// Gray with alpha: accepted when every pixel is opaque.
	ga := intRamp(3*2, 255)
	var gaOpaque, gaSeeThrough []int
	for i, v := range ga {
		gaOpaque = append(gaOpaque, v, 255)
		a := 255
		if i == 4 {
			a = 254
		}
		gaSeeThrough = append(gaSeeThrough, v, a)
	}
	specs = append(specs,
		&pngSpec{name: "gray_alpha_opaque", width: 3, height: 2, depth: 8, colorType: pngGrayAlpha,
			rows: packRows(3, 2, 2, 8, gaOpaque), want: grayWant(3, 2, 8, ga, 1)},
		&pngSpec{name: "gray_alpha_transparent", width: 3, height: 2, depth: 8, colorType: pngGrayAlpha,
			rows: packRows(3, 2, 2, 8, gaSeeThrough), wantErr: "pixel (1,1) is not opaque"})
	ga16 := intRamp(2*2, 65535)
	var ga16Opaque []int
	for _, v := range ga16 {
		ga16Opaque = append(ga16Opaque, v, 65535)
	}
	specs = append(specs, &pngSpec{name: "gray16_alpha_opaque", width: 2, height: 2, depth: 16, colorType: pngGrayAlpha,
		rows: packRows(2, 2, 2, 16, ga16Opaque), want: grayWant(2, 2, 16, ga16, 1)})

	// Gray with a tRNS colour: fine when no pixel has it, refused when one does.
	trnsVals := []int{10, 20, 30, 40}
	specs = append(specs,
		&pngSpec{name: "gray_trns_unused", width: 2, height: 2, depth: 8, colorType: pngGray, trns: []byte{0, 99},
			rows: packRows(2, 2, 1, 8, trnsVals), want: grayWant(2, 2, 8, trnsVals, 1)},
		&pngSpec{name: "gray_trns_used", width: 2, height: 2, depth: 8, colorType: pngGray, trns: []byte{0, 30},
			rows: packRows(2, 2, 1, 8, trnsVals), wantErr: "pixel (0,1) is not opaque"})

	rgbVals := intRamp(4*3*3, 255)
	rgbWant := &Image{Width: 4, Height: 3, Frames: 1, Channels: 3, BitsAllocated: 8, BitsStored: 8, Photometric: RGB}
	var rgbaVals []int
	for i, v := range rgbVals {
		rgbWant.Pix = append(rgbWant.Pix, int32(v))
		rgbaVals = append(rgbaVals, v)
		if i%3 == 2 {
			rgbaVals = append(rgbaVals, 255)
		}
	}
	rgbaSeeThrough := append([]int(nil), rgbaVals...)
	rgbaSeeThrough[4*5+3] = 0
	specs = append(specs,
		&pngSpec{name: "rgb8", width: 4, height: 3, depth: 8, colorType: pngRGB, rows: packRows(4, 3, 3, 8, rgbVals), want: rgbWant},
		&pngSpec{name: "rgba8_opaque", width: 4, height: 3, depth: 8, colorType: pngRGBA, rows: packRows(4, 3, 4, 8, rgbaVals), want: rgbWant},
		&pngSpec{name: "rgba8_transparent", width: 4, height: 3, depth: 8, colorType: pngRGBA,
			rows: packRows(4, 3, 4, 8, rgbaSeeThrough), wantErr: "pixel (1,1) is not opaque"},
		&pngSpec{name: "rgb16", width: 2, height: 1, depth: 16, colorType: pngRGB,
			rows: packRows(2, 1, 3, 16, []int{1, 2, 3, 65535, 5, 40000}),
			want: &Image{Width: 2, Height: 1, Frames: 1, Channels: 3, BitsAllocated: 16, BitsStored: 16, Photometric: RGB,
				Pix: []int32{1, 2, 3, 65535, 5, 40000}}})

	// Palettes: all-gray entries give gray, coloured entries give RGB.
	grayPLTE := []byte{0, 0, 0, 80, 80, 80, 160, 160, 160, 255, 255, 255}
	colorPLTE := []byte{0, 0, 0, 255, 0, 0, 0, 255, 0, 0, 0, 255}
	idx := []int{0, 1, 2, 3, 3, 2, 1, 0}
	palGray := &Image{Width: 4, Height: 2, Frames: 1, Channels: 1, BitsAllocated: 8, BitsStored: 8, Photometric: Monochrome2}
	palRGB := &Image{Width: 4, Height: 2, Frames: 1, Channels: 3, BitsAllocated: 8, BitsStored: 8, Photometric: RGB}
	for _, i := range idx {
		palGray.Pix = append(palGray.Pix, int32(grayPLTE[3*i]))
		palRGB.Pix = append(palRGB.Pix, int32(colorPLTE[3*i]), int32(colorPLTE[3*i+1]), int32(colorPLTE[3*i+2]))
	}
	specs = append(specs,
		&pngSpec{name: "palette_gray", width: 4, height: 2, depth: 2, colorType: pngPalette, plte: grayPLTE,
			rows: packRows(4, 2, 1, 2, idx), want: palGray},
		&pngSpec{name: "palette_rgb", width: 4, height: 2, depth: 8, colorType: pngPalette, plte: colorPLTE,
			rows: packRows(4, 2, 1, 8, idx), want: palRGB},
		&pngSpec{name: "palette_index_out_of_range", width: 4, height: 2, depth: 8, colorType: pngPalette, plte: colorPLTE[:9],
			rows: packRows(4, 2, 1, 8, idx), wantErr: "pixel index 3 is past the 3-entry palette"},
		&pngSpec{name: "palette_trns_used", width: 4, height: 2, depth: 8, colorType: pngPalette, plte: colorPLTE, trns: []byte{255, 128},
			rows: packRows(4, 2, 1, 8, idx), wantErr: "pixel (1,0) is not opaque"},
	)

	// Headers that must fail before anything large is allocated.
	specs = append(specs,
		&pngSpec{name: "zero_by_zero", width: 0, height: 0, depth: 8, colorType: pngGray, rows: nil, wantErr: "malformed PNG"},
		&pngSpec{name: "huge_header_no_pixels", width: 65535, height: 65535, depth: 8, colorType: pngGray, rows: nil,
			wantErr: "unsupported image size 65535×65535"},
		&pngSpec{name: "large_header_tiny_body", width: 8000, height: 8000, depth: 8, colorType: pngGray, rows: nil,
			wantErr: "8000×8000 pixels need 64000000 bytes, more than a"},
	)
	trunc := &pngSpec{name: "truncated", width: 4, height: 3, depth: 8, colorType: pngRGB, rows: packRows(4, 3, 3, 8, rgbVals),
		wantErr: "malformed PNG"}
	trunc.truncateAt = len(trunc.bytes()) - 20
	specs = append(specs, trunc)
	return specs
}

// fuzzSeed is the file format `go test -fuzz` keeps its corpus in.
func fuzzSeed(data []byte) []byte {
	return fmt.Appendf(nil, "go test fuzz v1\n[]byte(%q)\n", data)
}
