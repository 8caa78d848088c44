package medimg

import (
	"encoding/binary"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/suyashkumar/dicom/pkg/uid"
)

const (
	preambleLen = 128

	tsImplicitLE = "1.2.840.10008.1.2"
	tsExplicitLE = "1.2.840.10008.1.2.1"
	tsExplicitBE = "1.2.840.10008.1.2.2"

	undefinedLength = 0xFFFFFFFF

	// maxNesting bounds sequences within items within sequences, so that a
	// hostile file cannot exhaust the stack; real files nest a few levels.
	maxNesting = 32
)

// Tags, as group<<16 | element.
const (
	tagTransferSyntax  = 0x00020010
	tagSamplesPerPixel = 0x00280002
	tagPhotometric     = 0x00280004
	tagPlanarConfig    = 0x00280006
	tagNumberOfFrames  = 0x00280008
	tagRows            = 0x00280010
	tagColumns         = 0x00280011
	tagBitsAllocated   = 0x00280100
	tagBitsStored      = 0x00280101
	tagHighBit         = 0x00280102
	tagPixelRep        = 0x00280103
	tagPixelData       = 0x7FE00010
	tagItem            = 0xFFFEE000
	tagItemDelim       = 0xFFFEE00D
	tagSequenceDelim   = 0xFFFEE0DD
)

var tagNames = map[uint32]string{
	tagTransferSyntax:  "Transfer Syntax UID",
	tagSamplesPerPixel: "Samples per Pixel",
	tagPhotometric:     "Photometric Interpretation",
	tagPlanarConfig:    "Planar Configuration",
	tagNumberOfFrames:  "Number of Frames",
	tagRows:            "Rows",
	tagColumns:         "Columns",
	tagBitsAllocated:   "Bits Allocated",
	tagBitsStored:      "Bits Stored",
	tagHighBit:         "High Bit",
	tagPixelRep:        "Pixel Representation",
	tagPixelData:       "Pixel Data",
}

func tagString(t uint32) string {
	s := fmt.Sprintf("(%04X,%04X)", t>>16, t&0xFFFF)
	if n, ok := tagNames[t]; ok {
		s += " " + n
	}
	return s
}

// syntax is how a data set is encoded.
type syntax struct {
	uid      string // empty for a stream without file meta
	implicit bool
	order    binary.ByteOrder
}

// elemHeader is one element's tag, VR and length as read from the stream.
type elemHeader struct {
	tag    uint32
	vr     string // empty in implicit VR and for item tags
	length uint32
	off    int // where the header starts
	value  int // where the value starts
}

// walker reads element headers from a byte slice, checking every length
// against what is left. It allocates nothing.
type walker struct {
	b          []byte
	maxSamples uint64
}

func (w *walker) u16(p int, o binary.ByteOrder) uint16 { return o.Uint16(w.b[p:]) }
func (w *walker) u32(p int, o binary.ByteOrder) uint32 { return o.Uint32(w.b[p:]) }

// The explicit VRs (PS3.5 table 7.1-1): the long ones have two reserved
// bytes and a 32-bit length, the short ones a 16-bit length.
var (
	longVRs  = []string{"OB", "OD", "OF", "OL", "OV", "OW", "SQ", "UC", "UN", "UR", "UT", "SV", "UV"}
	shortVRs = []string{"AE", "AS", "AT", "CS", "DA", "DS", "DT", "FL", "FD", "IS", "LO", "LT", "PN",
		"SH", "SL", "SS", "ST", "TM", "UI", "UL", "US"}
)

// lookupVR returns the VR spelled by b as one of the tables' strings, so that
// reading a header allocates nothing.
func lookupVR(b []byte) (vr string, long, ok bool) {
	for _, v := range longVRs {
		if string(b) == v {
			return v, true, true
		}
	}
	for _, v := range shortVRs {
		if string(b) == v {
			return v, false, true
		}
	}
	return "", false, false
}

func longVR(vr string) bool {
	_, long, ok := lookupVR([]byte(vr))
	return ok && long
}

// header reads the element header at p and checks that its value fits in
// what is left.
func (w *walker) header(p int, s syntax) (elemHeader, error) {
	h, err := w.rawHeader(p, s)
	if err != nil {
		return h, err
	}
	return h, w.fits(h)
}

func (w *walker) fits(h elemHeader) error {
	if h.length != undefinedLength && uint64(h.length) > uint64(len(w.b)-h.value) {
		return dicomError(h.off, "%s value of %d bytes runs past the end (%d bytes left)", tagString(h.tag), h.length, len(w.b)-h.value)
	}
	return nil
}

// rawHeader reads the element header at p.
func (w *walker) rawHeader(p int, s syntax) (elemHeader, error) {
	if len(w.b)-p < 8 {
		return elemHeader{}, dicomError(p, "element header cut short: %d bytes left, need 8", len(w.b)-p)
	}
	h := elemHeader{off: p, tag: uint32(w.u16(p, s.order))<<16 | uint32(w.u16(p+2, s.order))}
	if h.tag>>16 == 0xFFFE || s.implicit {
		// Item and delimiter tags carry no VR in any syntax.
		h.length = w.u32(p+4, s.order)
		h.value = p + 8
	} else {
		vr, long, ok := lookupVR(w.b[p+4 : p+6])
		h.vr = vr
		switch {
		case !ok:
			return elemHeader{}, dicomError(p+4, "%s has unknown VR %q", tagString(h.tag), w.b[p+4:p+6])
		case long:
			if len(w.b)-p < 12 {
				return elemHeader{}, dicomError(p, "%s header cut short: %d bytes left, need 12", tagString(h.tag), len(w.b)-p)
			}
			h.length = w.u32(p+8, s.order)
			h.value = p + 12
		default:
			h.length = uint32(w.u16(p+6, s.order))
			h.value = p + 8
		}
	}
	return h, nil
}

// skipUndefined steps over the value of an element of undefined length that
// starts at h.value: a sequence of items ended by a Sequence Delimitation
// Item. It returns the position after the delimiter.
func (w *walker) skipUndefined(h elemHeader, s syntax, depth int) (int, error) {
	switch {
	case s.implicit, h.vr == "SQ", h.tag == tagPixelData:
	case h.vr == "UN":
		// An unknown-VR sequence of undefined length is encoded in implicit VR
		// little endian (PS3.5 6.2.2).
		s = syntax{uid: s.uid, implicit: true, order: binary.LittleEndian}
	default:
		return 0, dicomError(h.off, "%s with VR %s has undefined length", tagString(h.tag), h.vr)
	}
	if depth >= maxNesting {
		return 0, dicomError(h.off, "sequences nested more than %d deep", maxNesting)
	}
	p := h.value
	for {
		it, err := w.header(p, syntax{implicit: true, order: s.order})
		if err != nil {
			return 0, err
		}
		switch it.tag {
		case tagSequenceDelim:
			return it.value, nil
		case tagItem:
			if it.length != undefinedLength {
				p = it.value + int(it.length)
				continue
			}
			if p, err = w.skipItem(it.value, s, depth+1); err != nil {
				return 0, err
			}
		default:
			return 0, dicomError(p, "want an item or sequence delimiter in %s, found %s", tagString(h.tag), tagString(it.tag))
		}
	}
}

// skipItem steps over the elements of an item of undefined length starting at
// p and returns the position after its Item Delimitation Item.
func (w *walker) skipItem(p int, s syntax, depth int) (int, error) {
	for {
		if len(w.b)-p >= 4 && uint32(w.u16(p, s.order))<<16|uint32(w.u16(p+2, s.order)) == tagItemDelim {
			h, err := w.header(p, syntax{implicit: true, order: s.order})
			if err != nil {
				return 0, err
			}
			return h.value, nil
		}
		h, err := w.header(p, s)
		if err != nil {
			return 0, err
		}
		if h.tag>>16 == 0xFFFE {
			return 0, dicomError(p, "unexpected %s inside an item", tagString(h.tag))
		}
		if p, err = w.next(h, s, depth); err != nil {
			return 0, err
		}
	}
}

// next returns the position after the element whose header is h.
func (w *walker) next(h elemHeader, s syntax, depth int) (int, error) {
	if h.length == undefinedLength {
		return w.skipUndefined(h, s, depth)
	}
	return h.value + int(h.length), nil
}

// pixelLayout is what a DICOM header says about its pixel data.
type pixelLayout struct {
	syntax
	rows, cols, frames int
	spp                int
	bitsAlloc          int
	bitsStored         int
	highBit            int
	signed             bool
	planar             bool
	photometric        Photometric
	pixelVR            string
	valueOff           int // first byte of the Pixel Data value
	valueLen           int
}

// need is the number of bytes the samples take.
func (l *pixelLayout) need() int {
	return l.frames * l.rows * l.cols * l.spp * (l.bitsAlloc / 8)
}

func (l *pixelLayout) image() *Image {
	return &Image{
		Width: l.cols, Height: l.rows, Frames: l.frames, Channels: l.spp,
		BitsAllocated: l.bitsAlloc, BitsStored: l.bitsStored, Signed: l.signed,
		Photometric: l.photometric,
	}
}

// parseDICOM walks a DICOM file (or just its Head) up to the top-level Pixel
// Data element and reads the attributes that describe the pixels.
func parseDICOM(b []byte, maxSamples uint64) (*pixelLayout, error) {
	w := &walker{b: b, maxSamples: maxSamples}
	p := 0
	if len(b) >= preambleLen+4 && string(b[preambleLen:preambleLen+4]) == "DICM" {
		p = preambleLen + 4
	}
	meta := syntax{order: binary.LittleEndian}
	var ts string
	haveMeta := false
	for len(b)-p >= 8 && binary.LittleEndian.Uint16(b[p:]) == 0x0002 {
		haveMeta = true
		h, err := w.header(p, meta)
		if err != nil {
			return nil, err
		}
		if h.tag == tagTransferSyntax {
			if h.length == undefinedLength || h.length > 64 {
				return nil, dicomError(h.off, "%s is %d bytes long", tagString(h.tag), h.length)
			}
			ts = strings.TrimRight(string(b[h.value:h.value+int(h.length)]), " \x00")
		}
		if p, err = w.next(h, meta, 0); err != nil {
			return nil, err
		}
	}
	var s syntax
	switch {
	case !haveMeta:
		if p != 0 {
			return nil, dicomError(p, "no file meta information after the DICM prefix")
		}
		// A bare data set: explicit VR shows as two capital letters after the tag.
		s = syntax{implicit: true, order: binary.LittleEndian}
		if _, _, ok := lookupVR(b[min(4, len(b)):min(6, len(b))]); ok {
			s.implicit = false
		}
	case ts == "":
		return nil, dicomError(p, "file meta information has no %s", tagString(tagTransferSyntax))
	case ts == tsImplicitLE:
		s = syntax{uid: ts, implicit: true, order: binary.LittleEndian}
	case ts == tsExplicitLE:
		s = syntax{uid: ts, order: binary.LittleEndian}
	case ts == tsExplicitBE:
		s = syntax{uid: ts, order: binary.BigEndian}
	default:
		name := "not a known transfer syntax"
		if info, err := uid.Lookup(ts); err == nil {
			name = info.Name
		}
		return nil, unsupported("transfer syntax %s (%s)", ts, name)
	}

	attrs := map[uint32]elemHeader{}
	for {
		if p == len(b) {
			return nil, dicomError(p, "no %s element", tagString(tagPixelData))
		}
		// The pixel data value is not checked here: parsing a Head alone
		// stops right before it. decodeDICOM checks it against the file.
		h, err := w.rawHeader(p, s)
		if err != nil {
			return nil, err
		}
		if h.tag == tagPixelData {
			return layoutFrom(w, s, attrs, h)
		}
		if err := w.fits(h); err != nil {
			return nil, err
		}
		if h.tag>>16 == 0xFFFE {
			return nil, dicomError(p, "%s outside a sequence", tagString(h.tag))
		}
		if _, want := tagNames[h.tag]; want && h.tag>>16 == 0x0028 {
			if _, dup := attrs[h.tag]; dup {
				return nil, dicomError(p, "%s appears twice", tagString(h.tag))
			}
			attrs[h.tag] = h
		}
		if p, err = w.next(h, s, 0); err != nil {
			return nil, err
		}
	}
}

func layoutFrom(w *walker, s syntax, attrs map[uint32]elemHeader, pd elemHeader) (*pixelLayout, error) {
	l := &pixelLayout{syntax: s, valueOff: pd.value, pixelVR: pd.vr}
	us := func(t uint32, def int) (int, error) {
		h, ok := attrs[t]
		if !ok {
			if def < 0 {
				return 0, dicomError(pd.off, "no %s before the pixel data", tagString(t))
			}
			return def, nil
		}
		if h.vr != "" && h.vr != "US" {
			return 0, dicomError(h.off, "%s has VR %s, want US", tagString(t), h.vr)
		}
		if h.length != 2 {
			return 0, dicomError(h.off, "%s is %d bytes long, want 2", tagString(t), h.length)
		}
		return int(w.u16(h.value, s.order)), nil
	}
	str := func(t uint32, max int) (string, bool, error) {
		h, ok := attrs[t]
		if !ok {
			return "", false, nil
		}
		if h.length == undefinedLength || int(h.length) > max {
			return "", false, dicomError(h.off, "%s is %d bytes long, want at most %d", tagString(t), h.length, max)
		}
		return strings.Trim(string(w.b[h.value:h.value+int(h.length)]), " \x00"), true, nil
	}
	var err error
	if l.rows, err = us(tagRows, -1); err != nil {
		return nil, err
	}
	if l.cols, err = us(tagColumns, -1); err != nil {
		return nil, err
	}
	if l.bitsAlloc, err = us(tagBitsAllocated, -1); err != nil {
		return nil, err
	}
	if l.bitsStored, err = us(tagBitsStored, l.bitsAlloc); err != nil {
		return nil, err
	}
	if l.highBit, err = us(tagHighBit, l.bitsStored-1); err != nil {
		return nil, err
	}
	rep, err := us(tagPixelRep, 0)
	if err != nil {
		return nil, err
	}
	planar, err := us(tagPlanarConfig, 0)
	if err != nil {
		return nil, err
	}
	phot, ok, err := str(tagPhotometric, 16)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, dicomError(pd.off, "no %s before the pixel data", tagString(tagPhotometric))
	}
	l.photometric = Photometric(phot)
	defSPP := 1
	if l.photometric == RGB {
		defSPP = 3
	}
	if l.spp, err = us(tagSamplesPerPixel, defSPP); err != nil {
		return nil, err
	}
	l.frames = 1
	if nf, ok, err := str(tagNumberOfFrames, 12); err != nil {
		return nil, err
	} else if ok {
		n, perr := strconv.ParseUint(nf, 10, 31)
		if perr != nil || n == 0 {
			return nil, dicomError(attrs[tagNumberOfFrames].off, "%s is %q", tagString(tagNumberOfFrames), nf)
		}
		if n > w.maxSamples {
			return nil, unsupported("image of %d frames (the limit is %d samples)", n, w.maxSamples)
		}
		l.frames = int(n)
	}

	switch l.bitsAlloc {
	case 8, 16:
	default:
		return nil, unsupported("bits allocated %d (want 8 or 16)", l.bitsAlloc)
	}
	if l.bitsStored < 1 || l.bitsStored > l.bitsAlloc {
		return nil, dicomError(attrs[tagBitsStored].off, "%d bits stored with %d allocated", l.bitsStored, l.bitsAlloc)
	}
	if l.highBit >= l.bitsAlloc {
		return nil, dicomError(attrs[tagHighBit].off, "high bit %d with %d bits allocated", l.highBit, l.bitsAlloc)
	}
	if l.highBit != l.bitsStored-1 {
		// The sample is not in the low bits: keep whole words, which always
		// reproduce the file.
		l.bitsStored = l.bitsAlloc
	}
	switch rep {
	case 0:
	case 1:
		l.signed = true
	default:
		return nil, dicomError(attrs[tagPixelRep].off, "%s is %d", tagString(tagPixelRep), rep)
	}
	switch l.photometric {
	case Monochrome1, Monochrome2, PaletteColor:
		if l.spp != 1 {
			return nil, dicomError(attrs[tagSamplesPerPixel].off, "%s with %d samples per pixel", l.photometric, l.spp)
		}
	case RGB:
		if l.spp != 3 {
			return nil, dicomError(attrs[tagSamplesPerPixel].off, "RGB with %d samples per pixel", l.spp)
		}
		switch planar {
		case 0:
		case 1:
			l.planar = true
		default:
			return nil, dicomError(attrs[tagPlanarConfig].off, "%s is %d", tagString(tagPlanarConfig), planar)
		}
	default:
		return nil, unsupported("photometric interpretation %q", phot)
	}
	if l.rows == 0 || l.cols == 0 {
		return nil, dicomError(pd.off, "empty image of %d rows and %d columns", l.rows, l.cols)
	}
	// Each factor is below 2³¹ and the running product stays at most
	// MaxSamples, so the uint64 products cannot overflow.
	samples := uint64(1)
	for _, f := range []int{l.rows, l.cols, l.spp, l.frames} {
		if samples *= uint64(f); samples > w.maxSamples {
			return nil, unsupported("image of %d×%d×%d frames×%d samples (the limit is %d samples)", l.cols, l.rows, l.frames, l.spp, w.maxSamples)
		}
	}

	if pd.length == undefinedLength {
		return nil, dicomError(pd.off, "encapsulated (compressed) pixel data in transfer syntax %s", s.uid)
	}
	l.valueLen = int(pd.length)
	switch {
	case pd.vr == "" || pd.vr == "OW" && (l.bitsAlloc == 16 || s.order == binary.LittleEndian):
	case pd.vr == "OB" && (l.bitsAlloc == 8 || s.order == binary.LittleEndian):
	default:
		return nil, unsupported("pixel data with VR %s and %d bits allocated in transfer syntax %s", pd.vr, l.bitsAlloc, s.uid)
	}
	need := l.need()
	if l.valueLen < need {
		return nil, dicomError(pd.off, "pixel data is %d bytes, the %d×%d×%d-frame×%d-sample %d-bit geometry needs %d",
			l.valueLen, l.cols, l.rows, l.frames, l.spp, l.bitsAlloc, need)
	}
	if l.valueLen > need+need%2 {
		// More bytes than an even-padded value would hold means the
		// geometry does not describe all the pixel data; guessing is unsafe.
		return nil, dicomError(pd.off, "pixel data is %d bytes, more than the %d the geometry needs", l.valueLen, need)
	}
	return l, nil
}

// decodeDICOM decodes the samples of an uncompressed DICOM file. Words are
// taken whole — as int16 when Pixel Representation is 1 — so writing them back
// gives the same bytes whatever the unused high bits hold; Bits Stored is kept
// only when every sample fits in it.
func decodeDICOM(data []byte, lim Limits) (*Image, *Container, error) {
	l, err := parseDICOM(data, lim.maxSamples())
	if err != nil {
		return nil, nil, err
	}
	if l.valueOff+l.valueLen > len(data) {
		return nil, nil, dicomError(l.valueOff, "pixel data value of %d bytes runs past the end of the file (%d bytes left)", l.valueLen, len(data)-l.valueOff)
	}
	im := l.image()
	n := im.Samples()
	im.Pix = make([]int32, n)
	l.readSamples(im.Pix, data[l.valueOff:l.valueOff+l.need()])
	lo, hi := im.Range()
	for _, v := range im.Pix {
		if v < lo || v > hi {
			im.BitsStored = im.BitsAllocated
			break
		}
	}
	end := l.valueOff + l.need()
	c := &Container{
		Format: FormatDICOM,
		Head:   append([]byte(nil), data[:l.valueOff]...),
		Tail:   append([]byte(nil), data[end:]...),
	}
	return im, c, nil
}

// pixIndex maps the index of a sample in the file to its index in Pix:
// the identity, except for planar RGB (RRR…GGG…BBB per frame).
func (l *pixelLayout) pixIndex(i int) int {
	if !l.planar {
		return i
	}
	plane := l.rows * l.cols
	f, r := i/(3*plane), i%(3*plane)
	return f*3*plane + (r%plane)*3 + r/plane
}

// readSamples fills dst from the pixel bytes src, with loops for the common
// layouts that the compiler can keep free of calls.
func (l *pixelLayout) readSamples(dst []int32, src []byte) {
	le := l.order == binary.LittleEndian
	switch {
	case l.planar:
		for i := range dst {
			dst[l.pixIndex(i)] = sampleAt(src, i, l.bitsAlloc/8, l.signed, l.order)
		}
	case l.bitsAlloc == 8 && l.signed:
		for i := range dst {
			dst[i] = int32(int8(src[i]))
		}
	case l.bitsAlloc == 8:
		for i := range dst {
			dst[i] = int32(src[i])
		}
	case le && l.signed:
		for i := range dst {
			dst[i] = int32(int16(uint16(src[2*i]) | uint16(src[2*i+1])<<8))
		}
	case le:
		for i := range dst {
			dst[i] = int32(uint16(src[2*i]) | uint16(src[2*i+1])<<8)
		}
	default:
		for i := range dst {
			dst[i] = sampleAt(src, i, 2, l.signed, l.order)
		}
	}
}

// writeSamples is the inverse of readSamples.
func (l *pixelLayout) writeSamples(dst []byte, src []int32) {
	switch {
	case l.planar:
		bps := l.bitsAlloc / 8
		for i := 0; i < len(dst)/bps; i++ {
			v := src[l.pixIndex(i)]
			if bps == 1 {
				dst[i] = byte(v)
			} else {
				l.order.PutUint16(dst[2*i:], uint16(v))
			}
		}
	case l.bitsAlloc == 8:
		for i, v := range src {
			dst[i] = byte(v)
		}
	case l.order == binary.LittleEndian:
		for i, v := range src {
			dst[2*i], dst[2*i+1] = byte(v), byte(v>>8)
		}
	default:
		for i, v := range src {
			l.order.PutUint16(dst[2*i:], uint16(v))
		}
	}
}

func sampleAt(b []byte, i, bps int, signed bool, o binary.ByteOrder) int32 {
	if bps == 1 {
		if signed {
			return int32(int8(b[i]))
		}
		return int32(b[i])
	}
	w := o.Uint16(b[2*i:])
	if signed {
		return int32(int16(w))
	}
	return int32(w)
}

func encodeDICOM(w io.Writer, im *Image, c *Container) error {
	l, err := parseDICOM(c.Head, MaxSamples)
	if err != nil {
		return fmt.Errorf("%w (in the DICOM header kept with the image)", err)
	}
	if l.valueOff != len(c.Head) {
		return fmt.Errorf("medimg: DICOM header of %d bytes ends %d bytes past the pixel data tag", len(c.Head), len(c.Head)-l.valueOff)
	}
	want := l.image()
	if im.Width != want.Width || im.Height != want.Height || im.Frames != want.Frames || im.Channels != want.Channels ||
		im.BitsAllocated != want.BitsAllocated || im.Signed != want.Signed || im.Photometric != want.Photometric {
		return fmt.Errorf("medimg: image is %s, the DICOM header describes %s", describe(im), describe(want))
	}
	if err := im.Validate(); err != nil {
		return err
	}
	need := l.need()
	if pad := l.valueLen - need; pad > len(c.Tail) {
		return fmt.Errorf("medimg: pixel data is %d bytes with %d of padding, the kept tail has only %d", l.valueLen, pad, len(c.Tail))
	}
	if _, err := w.Write(c.Head); err != nil {
		return fmt.Errorf("medimg: write DICOM header: %w", err)
	}
	buf := make([]byte, need)
	l.writeSamples(buf, im.Pix)
	if _, err := w.Write(buf); err != nil {
		return fmt.Errorf("medimg: write DICOM pixel data: %w", err)
	}
	if _, err := w.Write(c.Tail); err != nil {
		return fmt.Errorf("medimg: write DICOM tail: %w", err)
	}
	return nil
}

func describe(im *Image) string {
	sign := "unsigned"
	if im.Signed {
		sign = "signed"
	}
	return fmt.Sprintf("%d×%d, %d frame(s), %d channel(s), %d-bit %s %s", im.Width, im.Height, im.Frames, im.Channels, im.BitsAllocated, sign, im.Photometric)
}
