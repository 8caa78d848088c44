package protect

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"math/bits"

	"edge/internal/biometric"
)

// FeatureCount is the length of the feature vector the model produces.
const FeatureCount = 2048

// CodeBytes is the size of the binarised feature code: one bit per feature.
const CodeBytes = biometric.CodeBytes

// TemplateBytes is the size of the protected template a payload carries.
const TemplateBytes = biometric.ProtectedBytes

// MaxClinicianID bounds the clinician id so the payload always fits the images
// the embedder was sized for.
const MaxClinicianID = 64

// payloadVersion 2 carries a protected template; version 1 carried the
// raw feature code and is refused.
const payloadVersion = 2

// payloadOverhead is version + id length + CRC-32C.
const payloadOverhead = 1 + 1 + 4

// MaxPayload is the largest payload this package makes or accepts.
const MaxPayload = payloadOverhead + TemplateBytes + MaxClinicianID

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Binarise is the raw binarised feature code (biometric.Code), the key
// material K_bio is derived from. It never leaves the device: images carry
// the protected template instead.
func Binarise(f []float32) ([]byte, error) {
	c, err := biometric.Code(f)
	if err != nil {
		return nil, fmt.Errorf("protect: %w", err)
	}
	return c, nil
}

// Payload is what the marked image carries: the clinician's protected
// template and id.
type Payload struct {
	Template    []byte // TemplateBytes
	ClinicianID string
}

// Marshal lays the payload out as
//
//	version(1, = 2) | protected template(256) | len(id)(1) | id | CRC-32C of everything before (4, big endian)
func (p *Payload) Marshal() ([]byte, error) {
	if len(p.Template) != TemplateBytes {
		return nil, fmt.Errorf("protect: protected template is %d bytes, want %d", len(p.Template), TemplateBytes)
	}
	if err := checkClinicianID(p.ClinicianID); err != nil {
		return nil, err
	}
	b := make([]byte, 0, payloadOverhead+TemplateBytes+len(p.ClinicianID))
	b = append(b, payloadVersion)
	b = append(b, p.Template...)
	b = append(b, byte(len(p.ClinicianID)))
	b = append(b, p.ClinicianID...)
	return binary.BigEndian.AppendUint32(b, crc32.Checksum(b, castagnoli)), nil
}

// ErrPayloadCRC reports an extracted payload whose checksum does not match.
var ErrPayloadCRC = errors.New("protect: payload checksum mismatch")

// ParsePayload checks and splits a payload made by Marshal.
func ParsePayload(b []byte) (*Payload, error) {
	if len(b) < payloadOverhead+TemplateBytes || len(b) > MaxPayload {
		return nil, fmt.Errorf("protect: payload is %d bytes, want %d to %d", len(b), payloadOverhead+TemplateBytes, MaxPayload)
	}
	body, sum := b[:len(b)-4], binary.BigEndian.Uint32(b[len(b)-4:])
	if crc32.Checksum(body, castagnoli) != sum {
		return nil, ErrPayloadCRC
	}
	if body[0] != payloadVersion {
		return nil, fmt.Errorf("protect: payload version %d, want %d", body[0], payloadVersion)
	}
	n := int(body[1+TemplateBytes])
	if 2+TemplateBytes+n != len(body) {
		return nil, fmt.Errorf("protect: payload id length %d does not match its size %d", n, len(b))
	}
	id := string(body[2+TemplateBytes:])
	if err := checkClinicianID(id); err != nil {
		return nil, err
	}
	return &Payload{Template: append([]byte(nil), body[1:1+TemplateBytes]...), ClinicianID: id}, nil
}

func checkClinicianID(id string) error {
	if len(id) > MaxClinicianID {
		return fmt.Errorf("protect: clinician id is %d bytes, at most %d", len(id), MaxClinicianID)
	}
	for i := 0; i < len(id); i++ {
		if c := id[i]; c < 0x20 || c > 0x7e {
			return fmt.Errorf("protect: clinician id %q has a byte 0x%02x outside printable ASCII", id, c)
		}
	}
	return nil
}

// BitErrorRate is the fraction of differing bits between the embedded and
// the extracted payload; a length difference counts every missing bit as wrong.
func BitErrorRate(want, got []byte) float64 {
	n := max(len(want), len(got))
	if n == 0 {
		return 0
	}
	m := min(len(want), len(got))
	diff := 8 * (n - m)
	for i := range m {
		diff += bits.OnesCount8(want[i] ^ got[i])
	}
	return float64(diff) / float64(8*n)
}

// NormalizedCorrelation is the watermarking literature's NC between two bit
// strings taken as ±1 sequences: 1 for identical strings, 0 for unrelated ones,
// −1 for complements.
func NormalizedCorrelation(want, got []byte) float64 {
	if len(want) == 0 || len(want) != len(got) {
		return 0
	}
	agree := 0
	for i := range want {
		agree += 8 - bits.OnesCount8(want[i]^got[i])
	}
	n := 8 * len(want)
	return float64(2*agree-n) / float64(n)
}
