package biometric

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"math/bits"
	"slices"
)

// ProtectedBits is the length of a protected template, one bit per random
// projection; ProtectedBytes its size.
const (
	ProtectedBits  = 2048
	ProtectedBytes = ProtectedBits / 8
)

// CodeBytes is the size of the raw binarised feature code of a
// 2048-feature vector, the key material of K_bio.
const CodeBytes = 2048 / 8

// SecretSize is the size of a clinician's template secret.
const SecretSize = 32

// Secret keys a clinician's protected template. It is drawn at enrollment,
// kept only inside the clinician's sealed template in the device's store,
// and replaced when the template is revoked.
type Secret [SecretSize]byte

// NewSecret draws a secret from random (crypto/rand when nil).
func NewSecret(random io.Reader) (Secret, error) {
	var s Secret
	if random == nil {
		random = rand.Reader
	}
	if _, err := io.ReadFull(random, s[:]); err != nil {
		return Secret{}, fmt.Errorf("biometric: draw template secret: %w", err)
	}
	return s, nil
}

// Protected is a protected, cancellable template: ProtectedBits signs of
// keyed random projections of a standardised feature vector (BioHashing;
// see the package comment). It is what an image carries and the hub keeps;
// it is still template material and is never written where others can read
// it.
type Protected []byte

const (
	infoProjection = "edge biohash projection v1"
	infoClinician  = "edge K_bio clinician v1"
)

// bioHash projects z onto ProtectedBits keyed ±1 directions and keeps the
// sign of each projection. The directions are the bits of AES-256-CTR under
// a key derived from the secret, one row of len(z) bits per output bit, so
// the matrix is a pure function of the secret. Only additions of float64
// values (and doublings, which are exact) happen, in a fixed order: no
// multiply that a fused multiply-add could round differently, hence the same
// bits on every architecture.
func bioHash(secret *Secret, z []float32) (Protected, error) {
	if len(z) == 0 || len(z) > MaxDim {
		return nil, fmt.Errorf("biometric: protected template of %d features, want 1..%d", len(z), MaxDim)
	}
	key, err := hkdf.Key(sha256.New, secret[:], nil, infoProjection, 32)
	if err != nil {
		return nil, fmt.Errorf("biometric: projection key: %w", err)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("biometric: projection key: %w", err)
	}
	stream := cipher.NewCTR(block, make([]byte, aes.BlockSize))
	rowBytes := (len(z) + 7) / 8
	row := make([]byte, rowBytes)
	// A row's byte picks the signs of 8 features at once: sums[g][b] is
	// the signed sum of features 8g..8g+7 under byte b (bit 7 the first
	// feature), so a projection is rowBytes look-ups instead of len(z)
	// branches on random bits.
	sums := make([][256]float64, rowBytes)
	for g := range sums {
		t := &sums[g]
		feats := z[8*g : min(8*g+8, len(z))]
		for _, x := range feats {
			t[0] -= float64(x)
		}
		for b := 1; b < 256; b++ {
			low := bits.TrailingZeros8(uint8(b))
			v := t[b&(b-1)]
			if j := 7 - low; j < len(feats) {
				v += 2 * float64(feats[j])
			}
			t[b] = v
		}
	}
	out := make(Protected, ProtectedBytes)
	for i := range ProtectedBits {
		clear(row)
		stream.XORKeyStream(row, row)
		var y float64
		for g, b := range row {
			y += sums[g][b]
		}
		if y > 0 {
			out[i>>3] |= 0x80 >> (i & 7)
		}
	}
	return out, nil
}

// Protect is the protected template of feature vector v under secret:
// v made unit length and standardised by the calibration, then BioHashed.
func (c *Calibration) Protect(secret *Secret, v []float32) (Protected, error) {
	z, err := c.apply(v)
	if err != nil {
		return nil, err
	}
	return bioHash(secret, z)
}

// Protected is the template's protected template under its own secret: the
// BioHash of its centre, the reference every login score is taken against,
// so that the Hamming distance to a probe's protected template tracks the
// login score (see the package comment).
func (t *Template) Protected(cal *Calibration) (Protected, error) {
	if t.Secret == (Secret{}) {
		return nil, ErrNoSecret
	}
	c, err := t.centre(cal)
	if err != nil {
		return nil, err
	}
	return bioHash(&t.Secret, c)
}

// ErrNoSecret is returned for a template enrolled before templates carried
// a secret: it cannot make a protected template; enroll again.
var ErrNoSecret = errors.New("biometric: the template has no secret (enrolled before protected templates): enroll the clinician again with --replace")

// Code is the raw binarised feature code: one bit per feature, set when the
// feature lies above the vector's median. The median, rather than zero or
// the mean, keeps the code balanced whatever the network's activation range.
// It is key material only: it never leaves the device.
func Code(f []float32) ([]byte, error) {
	if len(f) != 8*CodeBytes {
		return nil, fmt.Errorf("biometric: %d features, want %d", len(f), 8*CodeBytes)
	}
	if err := checkVector(f); err != nil {
		return nil, err
	}
	return codeOf(f), nil
}

// Hamming is the fraction of differing bits of two bit strings of the same
// length, in [0, 1]; 1 when the lengths differ or both are empty.
func Hamming(a, b []byte) float64 {
	if len(a) != len(b) || len(a) == 0 {
		return 1
	}
	d := 0
	for i := range a {
		d += bits.OnesCount8(a[i] ^ b[i])
	}
	return float64(d) / float64(8*len(a))
}

// Identity is a clinician as the protection of images needs them: made once
// when they log in, used for every image they take in that session. It holds
// the clinician's protected template (what images carry and the hub
// verifies) and the key material K_bio is derived from, the raw feature code
// bound to the clinician's secret; neither is exported, so a caller can hand
// an Identity on without handing template material out.
type Identity struct {
	id         string
	model      [32]byte
	verified   bool
	generation uint32
	protected  Protected
	keyMat     []byte
}

// ClinicianID is who logged in.
func (d *Identity) ClinicianID() string { return d.id }

// Model is the SHA-256 of the model the login features came from; zero for
// features read from a file.
func (d *Identity) Model() [32]byte { return d.model }

// Verified reports whether the identity came from a match against the
// clinician's enrolled template on this device.
func (d *Identity) Verified() bool { return d.verified }

// Generation is the enrollment generation of the clinician's template
// (bumped by every re-enrollment, which is how a template is revoked).
func (d *Identity) Generation() uint32 { return d.generation }

// ProtectedTemplate returns a copy of the protected template.
func (d *Identity) ProtectedTemplate() Protected { return slices.Clone(d.protected) }

// KeyMaterial returns a copy of the input keying material of K_bio: the raw
// feature code followed by a key derived from the clinician's secret. The
// secret's part means that someone who holds a K_bio and its salt (the hub)
// cannot test a candidate feature code against it.
func (d *Identity) KeyMaterial() []byte { return slices.Clone(d.keyMat) }

func newIdentity(id string, model [32]byte, verified bool, generation uint32, secret *Secret, cal *Calibration, probe []float32) (*Identity, error) {
	p, err := cal.Protect(secret, probe)
	if err != nil {
		return nil, fmt.Errorf("biometric: protected template of %q: %w", id, err)
	}
	code, err := Code(probe)
	if err != nil {
		return nil, err
	}
	ck, err := hkdf.Key(sha256.New, secret[:], nil, infoClinician, 32)
	if err != nil {
		return nil, fmt.Errorf("biometric: clinician key: %w", err)
	}
	return &Identity{id: id, model: model, verified: verified, generation: generation, protected: p, keyMat: append(code, ck...)}, nil
}

// FileIdentity makes an identity from features read from a file, which no
// login produced: its model hash is zero and Verified is false, and a hub
// refuses its images unless configured to accept unverified features (tests
// and the evaluation). cal may be nil (unit-length features, unstandardised).
func FileIdentity(id string, secret *Secret, cal *Calibration, features []float32) (*Identity, error) {
	if err := ValidateID(id); err != nil {
		return nil, err
	}
	if err := checkVector(features); err != nil {
		return nil, err
	}
	return newIdentity(id, [32]byte{}, false, 0, secret, cal, features)
}
