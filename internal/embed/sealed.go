package embed

import (
	"crypto/hmac"
	"encoding/binary"
	"fmt"

	"edge/internal/medimg"
	"edge/internal/quality"
)

// Sealed marks. Prediction-error expansion restores the original from the
// marked image alone, but on small, evenly noisy 8-bit images it must move
// about eight samples per hidden bit, and no reversible scheme can do much
// better there: the noise leaves nothing to compress. In this product the
// marked image never travels without its envelope, so for those images the
// mark is made by keyed LSB replacement instead (half a sample moved per bit,
// by one level) and the carriers' original low bits — one bit per carrier,
// about 300 bytes — go into the sealed envelope as the restore record. The
// payload still comes out of the marked image alone; exact restore needs the
// record, and the tag binds both to the original image.

const sealedVersion = 1

// sealedOverhead is the stream around the payload: 16-bit length and the tag.
const sealedOverhead = 16 + 8*tagBytes

// Mark is a marked image and what restoring it needs besides the key.
type Mark struct {
	Image *medimg.Image
	// Restore is nil when the marked image alone restores the original
	// (prediction-error expansion); otherwise the caller must keep it, sealed,
	// beside the image.
	Restore []byte
	// PSNR (dB) and SSIM of Image against the original, as EmbedBest
	// measured them for its quality gate; zero when the mark was made
	// without the gate (Embed, EmbedSealed).
	PSNR, SSIM float64
}

// Quality floors below which EmbedBest leaves prediction-error expansion for
// a sealed mark: the product's promise for every image (54 dB, SSIM 0.999)
// with a margin.
const (
	DefaultMinPSNR = 56
	DefaultMinSSIM = 0.999
)

// Options tune EmbedBest; the zero value means the defaults.
type Options struct {
	MinPSNR, MinSSIM float64
}

// EmbedBest marks im with prediction-error expansion when that keeps the
// marked image above the quality floors, and with a sealed mark otherwise
// (or when expansion cannot carry the payload at all).
func EmbedBest(im *medimg.Image, payload, key []byte, opt Options) (*Mark, error) {
	if opt.MinPSNR == 0 {
		opt.MinPSNR = DefaultMinPSNR
	}
	if opt.MinSSIM == 0 {
		opt.MinSSIM = DefaultMinSSIM
	}
	m, err := Embed(im, payload, key)
	if err == nil {
		p, s := quality.Measure(im, m)
		if p >= opt.MinPSNR && s >= opt.MinSSIM {
			return &Mark{Image: m, PSNR: p, SSIM: s}, nil
		}
	}
	s, serr := EmbedSealed(im, payload, key)
	if serr != nil {
		if err != nil {
			return nil, err
		}
		return nil, serr
	}
	s.PSNR, s.SSIM = quality.Measure(im, s.Image)
	return s, nil
}

// ExtractBest undoes EmbedBest: restore is the mark's Restore record, nil for
// a self-contained mark.
func ExtractBest(marked *medimg.Image, key, restore []byte) (payload []byte, original *medimg.Image, err error) {
	return ExtractBestMeanwhile(marked, key, restore, nil)
}

// ExtractBestMeanwhile is ExtractBest, running meanwhile(original) on
// another goroutine while the original is hashed for the mark's tag: the
// last, serial step of an extraction, so a caller's own hash of the same
// pixels (the hub checks the sealed SHA-256) then costs no time of its own
// on a second core. meanwhile sees the image before the tag is checked, so
// what it finds is to be used only when no error is returned; it must not
// change the image.
func ExtractBestMeanwhile(marked *medimg.Image, key, restore []byte, meanwhile func(original *medimg.Image)) (payload []byte, original *medimg.Image, err error) {
	if restore == nil {
		return extract(marked, key, meanwhile)
	}
	return extractSealed(marked, key, restore, meanwhile)
}

// EmbedSealed hides payload by replacing the lowest bit of keyed samples and
// returns the original bits as the restore record. Replacing the lowest bit
// moves a sample by one level at most and never out of range, since every
// range starts on an even value and ends on an odd one.
func EmbedSealed(im *medimg.Image, payload, key []byte) (*Mark, error) {
	k, err := deriveKeys(key)
	if err != nil {
		return nil, err
	}
	if err := im.Validate(); err != nil {
		return nil, err
	}
	if len(payload) > MaxPayload {
		return nil, fmt.Errorf("%w: %d payload bytes, at most %d", ErrCapacity, len(payload), MaxPayload)
	}
	n := sealedOverhead + 8*len(payload)
	if n > len(im.Pix) {
		return nil, fmt.Errorf("%w: a sealed mark needs %d samples, the image has %d", ErrCapacity, n, len(im.Pix))
	}
	var s bitWriter
	s.uint(uint64(len(payload)), 16)
	s.bytes(payload)
	s.bytes(markTag(&k, payload, digest(im)))
	whiten(s.b, &k)
	pos, _ := reserved(k.pos, len(im.Pix), n)
	out := im.Clone()
	rec := make([]byte, 5+(n+7)/8)
	rec[0] = sealedVersion
	binary.BigEndian.PutUint32(rec[1:], uint32(n))
	var orig bitWriter
	r := bitReader{b: s.b, n: s.n}
	for _, p := range pos {
		v := out.Pix[p]
		orig.bit(uint32(v & 1))
		out.Pix[p] = v&^1 | int32(r.bit())
	}
	copy(rec[5:], orig.b)
	return &Mark{Image: out, Restore: rec}, nil
}

// ExtractSealed reads a sealed mark's payload and restores the original with
// its record. A wrong key, a wrong record or a changed image gives an error.
func ExtractSealed(marked *medimg.Image, key, restore []byte) (payload []byte, original *medimg.Image, err error) {
	return extractSealed(marked, key, restore, nil)
}

func extractSealed(marked *medimg.Image, key, restore []byte, meanwhile func(*medimg.Image)) (payload []byte, original *medimg.Image, err error) {
	k, err := deriveKeys(key)
	if err != nil {
		return nil, nil, err
	}
	if err := marked.Validate(); err != nil {
		return nil, nil, err
	}
	if len(restore) < 5 || restore[0] != sealedVersion {
		return nil, nil, fmt.Errorf("embed: restore record of %d bytes is not a version %d record", len(restore), sealedVersion)
	}
	n := int(binary.BigEndian.Uint32(restore[1:]))
	if n < sealedOverhead || n > len(marked.Pix) || n > sealedOverhead+8*MaxPayload || len(restore) != 5+(n+7)/8 {
		return nil, nil, fmt.Errorf("embed: restore record for %d carriers does not fit a %d-sample image or its own %d bytes", n, len(marked.Pix), len(restore))
	}
	pos, _ := reserved(k.pos, len(marked.Pix), n)
	var s bitWriter
	for _, p := range pos {
		s.bit(uint32(marked.Pix[p] & 1))
	}
	whiten(s.b, &k)
	r := bitReader{b: s.b, n: s.n}
	size := int(r.uint(16))
	if sealedOverhead+8*size != n {
		return nil, nil, fmt.Errorf("%w: sealed mark says %d payload bytes, its record has %d carriers", errCorrupt, size, n)
	}
	payload = make([]byte, size)
	for i := range payload {
		payload[i] = byte(r.uint(8))
	}
	tag := make([]byte, tagBytes)
	for i := range tag {
		tag[i] = byte(r.uint(8))
	}
	out := marked.Clone()
	orig := bitReader{b: restore[5:], n: n}
	for _, p := range pos {
		out.Pix[p] = out.Pix[p]&^1 | int32(orig.bit())
	}
	if !hmac.Equal(tag, markTag(&k, payload, digestWhile(out, meanwhile))) {
		return nil, nil, errCorrupt
	}
	return payload, out, nil
}
