package huffman

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"edge/internal/medimg"
)

// magic opens every stream; version is this format's revision.
var magic = [4]byte{'E', 'H', 'U', 'F'}

// Format versions: 1 codes the samples against the range bits stored allows,
// one plane after another with one set of tables; 2 maps the samples to the
// range or the palette the data use and codes independent stripes; 3 is
// version 2's layout with table classes from neighbouring errors and a
// choice of colour transform; 4 adds the chroma palette. Encoder writes 4
// where a stripe takes the palette and 3 otherwise. Zero-order streams are
// still written as version 1.
const (
	version1 = 1
	version2 = 2
	version3 = 3
	version4 = 4
)

// Stream kinds.
const (
	kindPredictive = 1
	kindZeroOrder  = 2
)

// photometric codes; 0 means the name follows as text.
var photometrics = []medimg.Photometric{
	1: medimg.Monochrome1,
	2: medimg.Monochrome2,
	3: medimg.RGB,
	4: medimg.PaletteColor,
}

// maxPhotometricLen is the DICOM CS value limit.
const maxPhotometricLen = 16

// CorruptInputError reports a stream that is not one this package wrote:
// truncated, damaged or crafted. Offset is the byte where the damage showed.
type CorruptInputError struct {
	Offset int64
	Reason string
	Err    error // the underlying cause, such as io.ErrUnexpectedEOF, if any
}

func (e *CorruptInputError) Error() string {
	return fmt.Sprintf("huffman: corrupt input at byte %d: %s", e.Offset, e.Reason)
}

func (e *CorruptInputError) Unwrap() error { return e.Err }

// ErrTooLarge is wrapped by the decoder's error for a well-formed stream that
// declares more than its Limits allow.
var ErrTooLarge = errors.New("huffman: stream exceeds decoder limits")

// Limits bound what a decoder accepts. The zero value is the default.
type Limits struct {
	// MaxSamples bounds Frames·Height·Width·Channels; 0 means medimg.MaxSamples.
	MaxSamples int
	// MaxBytes bounds the declared size of the coded payload; 0 means what the
	// largest legitimate stream for the declared geometry can need.
	MaxBytes int64
}

func (l Limits) maxSamples() int {
	if l.MaxSamples <= 0 || l.MaxSamples > medimg.MaxSamples {
		return medimg.MaxSamples
	}
	return l.MaxSamples
}

// maxPayload is more than the bytes a stream this package writes for n
// samples can take. Huffman codes average under log2(symbols)+1 bits, so a
// sample costs under 30 bits even with a run token, an interruption and 13
// extra bits; a plane's spread adds at most 33 bits, shared by its samples
// (a one-sample plane's spread is 0, one bit); the tables take well under a
// mebibyte.
func maxPayload(n int) int64 { return int64(n)*8 + 1<<20 }

// header is the self-description at the start of a stream.
type header struct {
	version byte
	kind    byte
	geom    medimg.Image // everything but Pix
	nbody   int64        // payload bytes that follow the header
}

func appendHeader(b []byte, h *header) []byte {
	b = append(b, magic[:]...)
	b = append(b, h.version, h.kind)
	b = binary.AppendUvarint(b, uint64(h.geom.Width))
	b = binary.AppendUvarint(b, uint64(h.geom.Height))
	b = binary.AppendUvarint(b, uint64(h.geom.Frames))
	var flags byte
	if h.geom.Signed {
		flags |= 1
	}
	b = append(b, byte(h.geom.Channels), byte(h.geom.BitsAllocated), byte(h.geom.BitsStored), flags)
	code := 0
	for i, p := range photometrics {
		if i != 0 && p == h.geom.Photometric {
			code = i
		}
	}
	b = append(b, byte(code))
	if code == 0 {
		b = append(b, byte(len(h.geom.Photometric)))
		b = append(b, h.geom.Photometric...)
	}
	return binary.AppendUvarint(b, uint64(h.nbody))
}

// checkPhotometric refuses a name the header cannot carry or that is not printable.
func checkPhotometric(p medimg.Photometric) error {
	if len(p) > maxPhotometricLen {
		return fmt.Errorf("huffman: photometric interpretation %q longer than %d bytes", p, maxPhotometricLen)
	}
	for i := 0; i < len(p); i++ {
		if p[i] < 0x20 || p[i] > 0x7e {
			return fmt.Errorf("huffman: photometric interpretation %q has a non-printable byte", p)
		}
	}
	return nil
}

// byteReader reads a header one byte at a time, so the decoder never takes
// a byte from r beyond the end of its stream.
type byteReader struct {
	r   io.Reader
	off int64
	one [1]byte
}

func (br *byteReader) corrupt(reason string, err error) error {
	return &CorruptInputError{Offset: br.off, Reason: reason, Err: err}
}

func (br *byteReader) readByte(what string) (byte, error) {
	if _, err := io.ReadFull(br.r, br.one[:]); err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return 0, br.corrupt("truncated in "+what, io.ErrUnexpectedEOF)
		}
		return 0, fmt.Errorf("huffman: reading %s at byte %d: %w", what, br.off, err)
	}
	br.off++
	return br.one[0], nil
}

func (br *byteReader) uvarint(what string, limit uint64) (uint64, error) {
	var v uint64
	for shift := uint(0); ; shift += 7 {
		c, err := br.readByte(what)
		if err != nil {
			return 0, err
		}
		if shift == 63 && c > 1 || shift > 63 {
			return 0, br.corrupt(what+" overflows 64 bits", nil)
		}
		v |= uint64(c&0x7f) << shift
		if c < 0x80 {
			if c == 0 && shift > 0 {
				return 0, br.corrupt(what+" has a non-minimal encoding", nil)
			}
			if v > limit {
				return 0, br.corrupt(fmt.Sprintf("%s %d exceeds %d", what, v, limit), nil)
			}
			return v, nil
		}
	}
}

// readHeader reads and checks a header; nothing is allocated on its word.
func readHeader(br *byteReader, lim Limits) (*header, error) {
	var m [6]byte
	for i := range m {
		c, err := br.readByte("magic")
		if err != nil {
			return nil, err
		}
		m[i] = c
	}
	if [4]byte(m[:4]) != magic {
		return nil, br.corrupt(fmt.Sprintf("magic %q, want %q", m[:4], magic[:]), nil)
	}
	h := &header{version: m[4], kind: m[5]}
	switch {
	case h.version < version1 || h.version > version4:
		return nil, br.corrupt(fmt.Sprintf("format version %d, want %d to %d", m[4], version1, version4), nil)
	case h.kind != kindPredictive && h.kind != kindZeroOrder:
		return nil, br.corrupt(fmt.Sprintf("stream kind %d", h.kind), nil)
	case h.version != version1 && h.kind != kindPredictive:
		return nil, br.corrupt(fmt.Sprintf("stream kind %d in format version %d", h.kind, h.version), nil)
	}
	g := &h.geom
	for _, f := range []struct {
		p    *int
		what string
	}{{&g.Width, "width"}, {&g.Height, "height"}, {&g.Frames, "frame count"}} {
		v, err := br.uvarint(f.what, medimg.MaxSamples)
		if err != nil {
			return nil, err
		}
		*f.p = int(v)
	}
	var b [5]byte
	for i := range b {
		c, err := br.readByte("sample format")
		if err != nil {
			return nil, err
		}
		b[i] = c
	}
	g.Channels, g.BitsAllocated, g.BitsStored = int(b[0]), int(b[1]), int(b[2])
	if b[3]&^1 != 0 {
		return nil, br.corrupt(fmt.Sprintf("unknown flags %#x", b[3]), nil)
	}
	g.Signed = b[3]&1 != 0
	switch code := int(b[4]); {
	case code == 0:
		n, err := br.readByte("photometric length")
		if err != nil {
			return nil, err
		}
		if n > maxPhotometricLen {
			return nil, br.corrupt(fmt.Sprintf("photometric name of %d bytes", n), nil)
		}
		name := make([]byte, n)
		for i := range name {
			if name[i], err = br.readByte("photometric name"); err != nil {
				return nil, err
			}
		}
		g.Photometric = medimg.Photometric(name)
		if err := checkPhotometric(g.Photometric); err != nil {
			return nil, br.corrupt(err.Error(), nil)
		}
	case code < len(photometrics):
		g.Photometric = photometrics[code]
	default:
		return nil, br.corrupt(fmt.Sprintf("photometric code %d", code), nil)
	}
	if err := g.CheckGeometry(); err != nil {
		return nil, br.corrupt(err.Error(), nil)
	}
	if n := g.Samples(); n > lim.maxSamples() {
		return nil, fmt.Errorf("%w: %d×%d×%d frames×%d channels is %d samples, limit %d",
			ErrTooLarge, g.Width, g.Height, g.Frames, g.Channels, n, lim.maxSamples())
	}
	limit := maxPayload(g.Samples())
	if h.version != version1 {
		limit = maxPayload2(g)
	}
	nb, err := br.uvarint("payload size", uint64(limit))
	if err != nil {
		return nil, err
	}
	if lim.MaxBytes > 0 && int64(nb) > lim.MaxBytes {
		return nil, fmt.Errorf("%w: payload of %d bytes, limit %d", ErrTooLarge, nb, lim.MaxBytes)
	}
	h.nbody = int64(nb)
	return h, nil
}
