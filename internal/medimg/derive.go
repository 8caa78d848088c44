package medimg

import (
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"io"
	"math/big"
	"strings"
)

// Tags Derive rewrites.
const (
	tagMetaGroupLength   = 0x00020000
	tagMediaSOPInstance  = 0x00020003
	tagImageType         = 0x00080008
	tagSOPInstanceUID    = 0x00080018
	tagDerivationDescr   = 0x00082111
	defaultUIDRoot       = "2.25"
	maxUIDLen            = 64
	derivationText       = "Reversibly watermarked copy: carries a hidden clinician mark; not the acquired pixels"
	derivedValue         = "DERIVED"
	derivedDefaultSecond = "SECONDARY"
)

// Derive returns the container of a changed copy of a DICOM image (the
// marked image): its head with a new SOP Instance UID (and the file meta's
// Media Storage SOP Instance UID) made under uidRoot ("" for 2.25, the root
// of UUID-derived UIDs), DERIVED as the first value of Image Type, and a
// Derivation Description, so that a PACS can tell the copy from the
// original it would otherwise share a UID with. Only top-level elements of
// the head change; the file meta group length is recomputed. It returns
// the new UID. A PNG container is returned as it is.
func Derive(c *Container, uidRoot string, random io.Reader) (*Container, string, error) {
	if c == nil || c.Format != FormatDICOM {
		return c, "", nil
	}
	if uidRoot == "" {
		uidRoot = defaultUIDRoot
	}
	newUID, err := NewUID(uidRoot, random)
	if err != nil {
		return nil, "", err
	}
	head, err := deriveHead(c.Head, newUID)
	if err != nil {
		return nil, "", err
	}
	return &Container{Format: FormatDICOM, Head: head, Tail: c.Tail}, newUID, nil
}

// NewUID makes a UID under root from random (crypto/rand when nil): root,
// a dot and a random decimal number as long as the 64 characters allow (at
// most 38 digits, about 126 bits).
func NewUID(root string, random io.Reader) (string, error) {
	if err := checkUID(root); err != nil {
		return "", fmt.Errorf("medimg: UID root: %w", err)
	}
	room := min(maxUIDLen-len(root)-1, 38)
	if room < 10 {
		return "", fmt.Errorf("medimg: UID root %q leaves %d digits, want at least 10", root, room)
	}
	if random == nil {
		random = rand.Reader
	}
	var b [16]byte
	if _, err := io.ReadFull(random, b[:]); err != nil {
		return "", fmt.Errorf("medimg: draw UID: %w", err)
	}
	n := new(big.Int).SetBytes(b[:])
	n.SetBit(n, 126, 1) // a fixed top bit keeps the number long and its first digit non-zero
	d := n.String()
	if len(d) > room {
		d = d[len(d)-room:]
		d = strings.TrimLeft(d, "0")
	}
	if d == "" {
		d = "1"
	}
	u := root + "." + d
	return u, checkUID(u)
}

// checkUID checks PS3.5 9.1: digits and dots, no empty or zero-led
// component, at most 64 characters.
func checkUID(u string) error {
	if u == "" || len(u) > maxUIDLen {
		return fmt.Errorf("UID %q: want 1..%d characters", u, maxUIDLen)
	}
	for _, comp := range strings.Split(u, ".") {
		if comp == "" || len(comp) > 1 && comp[0] == '0' {
			return fmt.Errorf("UID %q: component %q is empty or starts with 0", u, comp)
		}
		for i := 0; i < len(comp); i++ {
			if comp[i] < '0' || comp[i] > '9' {
				return fmt.Errorf("UID %q: %q is not a digit", u, comp[i])
			}
		}
	}
	return nil
}

// span is one top-level element of a head: [off, end).
type span struct {
	tag      uint32
	off, end int
	h        elemHeader
}

// element encodes one short-VR element in syntax s.
func element(s syntax, tag uint32, vr string, value []byte) ([]byte, error) {
	if len(value) > 0xFFFF {
		return nil, fmt.Errorf("medimg: %s value of %d bytes", tagString(tag), len(value))
	}
	var b []byte
	if s.implicit {
		b = make([]byte, 8, 8+len(value))
		s.order.PutUint32(b[4:], uint32(len(value)))
	} else {
		b = make([]byte, 8, 8+len(value))
		copy(b[4:], vr)
		s.order.PutUint16(b[6:], uint16(len(value)))
	}
	s.order.PutUint16(b, uint16(tag>>16))
	s.order.PutUint16(b[2:], uint16(tag))
	return append(b, value...), nil
}

// padded is a DICOM string value padded to even length (UIDs with NUL,
// other strings with a space).
func padded(v, vr string) []byte {
	b := []byte(v)
	if len(b)%2 == 1 {
		if vr == "UI" {
			b = append(b, 0)
		} else {
			b = append(b, ' ')
		}
	}
	return b
}

// topLevel lists the elements of head from p to the Pixel Data tag, and
// the position of the Pixel Data element's header.
func topLevel(w *walker, p int, s syntax) ([]span, int, error) {
	var out []span
	for {
		if p >= len(w.b) {
			return nil, 0, dicomError(p, "no %s element", tagString(tagPixelData))
		}
		h, err := w.rawHeader(p, s)
		if err != nil {
			return nil, 0, err
		}
		if h.tag == tagPixelData {
			return out, p, nil
		}
		if err := w.fits(h); err != nil {
			return nil, 0, err
		}
		end, err := w.next(h, s, 0)
		if err != nil {
			return nil, 0, err
		}
		out = append(out, span{tag: h.tag, off: p, end: end, h: h})
		p = end
	}
}

// rewrite copies the elements, replacing those in repl (by tag) and
// inserting the ones not present in tag order.
func rewrite(b []byte, elems []span, repl map[uint32][]byte) []byte {
	var out []byte
	done := map[uint32]bool{}
	insertBefore := func(tag uint32) {
		for _, t := range sortedTags(repl) {
			if t < tag && !done[t] {
				out = append(out, repl[t]...)
				done[t] = true
			}
		}
	}
	for _, e := range elems {
		insertBefore(e.tag)
		if r, ok := repl[e.tag]; ok {
			out = append(out, r...)
			done[e.tag] = true
			continue
		}
		out = append(out, b[e.off:e.end]...)
	}
	insertBefore(0xFFFFFFFF)
	return out
}

func sortedTags(m map[uint32][]byte) []uint32 {
	var ts []uint32
	for t := range m {
		ts = append(ts, t)
	}
	for i := 1; i < len(ts); i++ {
		for j := i; j > 0 && ts[j] < ts[j-1]; j-- {
			ts[j], ts[j-1] = ts[j-1], ts[j]
		}
	}
	return ts
}

func deriveHead(head []byte, newUID string) ([]byte, error) {
	l, err := parseDICOM(head, MaxSamples)
	if err != nil {
		return nil, fmt.Errorf("%w (in the DICOM header kept with the image)", err)
	}
	w := &walker{b: head}
	p := 0
	var out []byte
	if len(head) >= preambleLen+4 && string(head[preambleLen:preambleLen+4]) == "DICM" {
		p = preambleLen + 4
		out = append(out, head[:p]...)
	}
	meta := syntax{order: binary.LittleEndian}
	var metaElems []span
	for len(head)-p >= 8 && binary.LittleEndian.Uint16(head[p:]) == 0x0002 {
		h, err := w.header(p, meta)
		if err != nil {
			return nil, err
		}
		end, err := w.next(h, meta, 0)
		if err != nil {
			return nil, err
		}
		metaElems = append(metaElems, span{tag: h.tag, off: p, end: end, h: h})
		p = end
	}
	if len(metaElems) > 0 {
		uidEl, err := element(meta, tagMediaSOPInstance, "UI", padded(newUID, "UI"))
		if err != nil {
			return nil, err
		}
		var rest []span
		hasGroupLength := false
		for _, e := range metaElems {
			if e.tag == tagMetaGroupLength {
				hasGroupLength = true
				continue
			}
			rest = append(rest, e)
		}
		body := rewrite(head, rest, map[uint32][]byte{tagMediaSOPInstance: uidEl})
		if hasGroupLength {
			gl, _ := element(meta, tagMetaGroupLength, "UL", binary.LittleEndian.AppendUint32(nil, uint32(len(body))))
			out = append(out, gl...)
		}
		out = append(out, body...)
	}
	s := l.syntax
	elems, pixelAt, err := topLevel(w, p, s)
	if err != nil {
		return nil, err
	}
	imageType := derivedValue + `\` + derivedDefaultSecond
	for _, e := range elems {
		if e.tag != tagImageType || e.h.length == undefinedLength {
			continue
		}
		vals := strings.Split(strings.TrimRight(string(head[e.h.value:e.h.value+int(e.h.length)]), " \x00"), `\`)
		vals[0] = derivedValue
		if len(vals) == 1 {
			vals = append(vals, derivedDefaultSecond)
		}
		imageType = strings.Join(vals, `\`)
	}
	repl := map[uint32][]byte{}
	for _, r := range []struct {
		tag   uint32
		vr, v string
	}{
		{tagImageType, "CS", imageType},
		{tagSOPInstanceUID, "UI", newUID},
		{tagDerivationDescr, "ST", derivationText},
	} {
		el, err := element(s, r.tag, r.vr, padded(r.v, r.vr))
		if err != nil {
			return nil, err
		}
		repl[r.tag] = el
	}
	out = append(out, rewrite(head, elems, repl)...)
	out = append(out, head[pixelAt:]...)
	nl, err := parseDICOM(out, MaxSamples)
	if err != nil {
		return nil, fmt.Errorf("medimg: derived DICOM header does not parse: %w", err)
	}
	if nl.valueOff != len(out) || nl.need() != l.need() || nl.valueLen != l.valueLen {
		return nil, fmt.Errorf("medimg: derived DICOM header describes other pixels than the original")
	}
	return out, nil
}
