package biometric

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
)

// MaxPrints bounds the enrollment prints kept in one template.
const MaxPrints = 16

// Template is what a clinician's enrollment leaves: the feature vectors of
// the enrollment prints. They are kept raw, not averaged, so that a new
// calibration of the store applies to clinicians enrolled before it.
type Template struct {
	// Model is the SHA-256 of the model that made the vectors; vectors from
	// different models are not comparable.
	Model   [32]byte
	Vectors [][]float32
	// Secret keys the clinician's protected template; zero in a template
	// decoded from the first format, which had none.
	Secret Secret
	// Generation counts the clinician's enrollments: a re-enrollment (a
	// revocation) draws a new Secret and bumps it, so the hub can tell the
	// registration that replaces an old one.
	Generation uint32
}

const (
	plainMagicV1  = "EBT1"
	plainHeaderV1 = 4 + 2 + 1 + 1 + 32
	plainMagic    = "EBT2"
	plainHeader   = plainHeaderV1 + SecretSize + 4
	sealMagic     = "EBTS"
	sealVersion   = 1
	sealHeader    = 4 + 1
	nonceSize     = 12
	tagSize       = 16
	// maxPlain is the largest plaintext a valid header can declare.
	maxPlain = plainHeader + 4*MaxDim*MaxPrints
	// MaxTemplateFile bounds what is read of a template file.
	MaxTemplateFile = sealHeader + nonceSize + maxPlain + tagSize
	aadPrefix       = "edge biometric template\x00"
)

// ErrOpen is returned when a template does not decrypt: a wrong store key, a
// template renamed from another id, or a file changed on disk.
var ErrOpen = errors.New("biometric: template does not open with this store key (wrong key, renamed or tampered file)")

// validate checks the invariants that DecodeTemplate guarantees, so that
// Encode never writes what Decode would refuse.
func (t *Template) validate() error {
	if len(t.Vectors) < 1 || len(t.Vectors) > MaxPrints {
		return fmt.Errorf("biometric: template has %d vectors, want 1..%d", len(t.Vectors), MaxPrints)
	}
	dim := len(t.Vectors[0])
	for i, v := range t.Vectors {
		if len(v) != dim {
			return fmt.Errorf("biometric: template vector %d has %d values, vector 0 has %d", i, len(v), dim)
		}
		if err := checkVector(v); err != nil {
			return fmt.Errorf("biometric: template vector %d: %w", i, err)
		}
	}
	return nil
}

// MarshalBinary encodes the template plaintext (see the package comment).
func (t *Template) MarshalBinary() ([]byte, error) {
	if err := t.validate(); err != nil {
		return nil, err
	}
	dim := len(t.Vectors[0])
	b := make([]byte, 0, plainHeader+4*dim*len(t.Vectors))
	b = append(b, plainMagic...)
	b = binary.LittleEndian.AppendUint16(b, uint16(dim))
	b = append(b, byte(len(t.Vectors)), 0)
	b = append(b, t.Model[:]...)
	b = append(b, t.Secret[:]...)
	b = binary.LittleEndian.AppendUint32(b, t.Generation)
	for _, v := range t.Vectors {
		b = appendFloats(b, v)
	}
	return b, nil
}

func appendFloats(b []byte, v []float32) []byte {
	for _, x := range v {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(x))
	}
	return b
}

// DecodeTemplate parses a template plaintext. It checks the length the
// header declares against len(b) before allocating.
func DecodeTemplate(b []byte) (*Template, error) {
	if len(b) < plainHeaderV1 {
		return nil, fmt.Errorf("biometric: template is %d bytes, shorter than its %d-byte header", len(b), plainHeaderV1)
	}
	header := plainHeader
	switch string(b[:4]) {
	case plainMagic:
		if len(b) < plainHeader {
			return nil, fmt.Errorf("biometric: template is %d bytes, shorter than its %d-byte header", len(b), plainHeader)
		}
	case plainMagicV1:
		header = plainHeaderV1
	default:
		return nil, fmt.Errorf("biometric: template magic %q, want %q", b[:4], plainMagic)
	}
	dim := int(binary.LittleEndian.Uint16(b[4:]))
	count := int(b[6])
	switch {
	case dim < 1 || dim > MaxDim:
		return nil, fmt.Errorf("biometric: template dimension %d, want 1..%d", dim, MaxDim)
	case count < 1 || count > MaxPrints:
		return nil, fmt.Errorf("biometric: template holds %d vectors, want 1..%d", count, MaxPrints)
	case b[7] != 0:
		return nil, fmt.Errorf("biometric: template reserved byte is %#x, want 0", b[7])
	}
	if want := header + 4*dim*count; len(b) != want {
		return nil, fmt.Errorf("biometric: template of %d×%d values is %d bytes, want %d", count, dim, len(b), want)
	}
	t := &Template{}
	copy(t.Model[:], b[8:40])
	if header == plainHeader {
		copy(t.Secret[:], b[40:40+SecretSize])
		t.Generation = binary.LittleEndian.Uint32(b[40+SecretSize:])
	}
	p := b[header:]
	read := func(what string) ([]float32, error) {
		v := make([]float32, dim)
		for i := range v {
			v[i] = math.Float32frombits(binary.LittleEndian.Uint32(p[4*i:]))
		}
		p = p[4*dim:]
		if err := checkVector(v); err != nil {
			return nil, fmt.Errorf("biometric: template %s: %w", what, err)
		}
		return v, nil
	}
	var err error
	t.Vectors = make([][]float32, count)
	for i := range t.Vectors {
		if t.Vectors[i], err = read(fmt.Sprintf("vector %d", i)); err != nil {
			return nil, err
		}
	}
	return t, nil
}

func newAEAD(key []byte) (cipher.AEAD, error) {
	if len(key) != 32 {
		return nil, fmt.Errorf("biometric: store key is %d bytes, want 32", len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("biometric: store key: %w", err)
	}
	return cipher.NewGCM(block)
}

func templateAAD(id string, header []byte) []byte {
	return append(append([]byte(aadPrefix), id...), header...)
}

// Seal encrypts the template for clinician id under key with a fresh nonce
// from random (crypto/rand.Reader when nil).
func Seal(key []byte, id string, t *Template, random io.Reader) ([]byte, error) {
	if err := ValidateID(id); err != nil {
		return nil, err
	}
	plain, err := t.MarshalBinary()
	if err != nil {
		return nil, err
	}
	aead, err := newAEAD(key)
	if err != nil {
		return nil, err
	}
	if random == nil {
		random = rand.Reader
	}
	out := make([]byte, sealHeader+nonceSize, sealHeader+nonceSize+len(plain)+tagSize)
	copy(out, sealMagic)
	out[4] = sealVersion
	if _, err := io.ReadFull(random, out[sealHeader:]); err != nil {
		return nil, fmt.Errorf("biometric: template nonce: %w", err)
	}
	return aead.Seal(out, out[sealHeader:], plain, templateAAD(id, out[:sealHeader])), nil
}

// Open decrypts and decodes a sealed template of clinician id.
func Open(key []byte, id string, sealed []byte) (*Template, error) {
	if err := ValidateID(id); err != nil {
		return nil, err
	}
	if len(sealed) > MaxTemplateFile {
		return nil, fmt.Errorf("biometric: template of %q is %d bytes, more than %d", id, len(sealed), MaxTemplateFile)
	}
	if len(sealed) < sealHeader+nonceSize+tagSize {
		return nil, fmt.Errorf("biometric: template of %q is %d bytes, too short to be sealed", id, len(sealed))
	}
	if string(sealed[:4]) != sealMagic {
		return nil, fmt.Errorf("biometric: template of %q has magic %q, want %q", id, sealed[:4], sealMagic)
	}
	if sealed[4] != sealVersion {
		return nil, fmt.Errorf("biometric: template of %q has version %d, want %d", id, sealed[4], sealVersion)
	}
	aead, err := newAEAD(key)
	if err != nil {
		return nil, err
	}
	nonce := sealed[sealHeader : sealHeader+nonceSize]
	plain, err := aead.Open(nil, nonce, sealed[sealHeader+nonceSize:], templateAAD(id, sealed[:sealHeader]))
	if err != nil {
		return nil, fmt.Errorf("%w: clinician %q", ErrOpen, id)
	}
	t, err := DecodeTemplate(plain)
	if err != nil {
		return nil, fmt.Errorf("biometric: template of %q: %w", id, err)
	}
	return t, nil
}
