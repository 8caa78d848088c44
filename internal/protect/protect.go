package protect

import (
	"bytes"
	"context"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"time"

	"edge/internal/biometric"
	"edge/internal/chaos"
	"edge/internal/embed"
	"edge/internal/huffman"
	"edge/internal/medimg"
	"edge/internal/uplink"
)

// Schemes, as the envelope header names them.
const (
	SchemeV1    = uplink.SchemeV1
	SchemePaper = uplink.SchemePaper
)

// SaltSize is the per-image salt of K_bio. A fresh salt per image means two
// images from the same clinician never share a key.
const SaltSize = 32

const (
	infoKBio  = "edge K_bio v1"
	infoEmbed = "edge embed v1"
	infoChaos = "edge chaos v1"
)

// DeriveKBio derives the biometric key from its input keying material and
// a per-image salt. The keying material is the Identity's: the raw feature
// code (features → key, as in the paper) followed by a key derived from the
// clinician's template secret.
func DeriveKBio(code, salt []byte) ([]byte, error) {
	k, err := hkdf.Key(sha256.New, code, salt, infoKBio, uplink.KBioSize)
	if err != nil {
		return nil, fmt.Errorf("protect: derive K_bio: %w", err)
	}
	return k, nil
}

// subkeys splits K_bio into independent keys for the embedding positions and
// the cipher, so that neither stage's output tells anything about the other's key.
func subkeys(kbio []byte) (embedKey, chaosKey []byte, err error) {
	if len(kbio) != uplink.KBioSize {
		return nil, nil, fmt.Errorf("protect: K_bio is %d bytes, want %d", len(kbio), uplink.KBioSize)
	}
	if embedKey, err = hkdf.Expand(sha256.New, kbio, infoEmbed, 32); err != nil {
		return nil, nil, fmt.Errorf("protect: derive embedding key: %w", err)
	}
	if chaosKey, err = hkdf.Expand(sha256.New, kbio, infoChaos, chaos.KeySize); err != nil {
		return nil, nil, fmt.Errorf("protect: derive cipher key: %w", err)
	}
	return embedKey, chaosKey, nil
}

// CheckScheme reports an unknown scheme name.
func CheckScheme(s string) error {
	if s != SchemeV1 && s != SchemePaper {
		return fmt.Errorf("protect: unknown scheme %q (want %s or %s)", s, SchemeV1, SchemePaper)
	}
	return nil
}

// Mark hides payload in im under K_bio's embedding key and returns the marked
// copy, with the restore record the seal must carry when the mark is not
// self-contained (see embed.EmbedBest).
func Mark(im *medimg.Image, payload, kbio []byte) (*embed.Mark, error) {
	ek, _, err := subkeys(kbio)
	if err != nil {
		return nil, err
	}
	m, err := embed.EmbedBest(im, payload, ek, embed.Options{})
	if err != nil {
		return nil, fmt.Errorf("protect: hide payload: %w", err)
	}
	return m, nil
}

// Unmark extracts the payload and the original image from a marked image and
// its restore record (nil for a self-contained mark).
func Unmark(marked *medimg.Image, kbio, restore []byte) (payload []byte, original *medimg.Image, err error) {
	return unmark(marked, kbio, restore, nil)
}

// unmark is Unmark, with meanwhile run as embed.ExtractBestMeanwhile runs it.
func unmark(marked *medimg.Image, kbio, restore []byte, meanwhile func(*medimg.Image)) (payload []byte, original *medimg.Image, err error) {
	ek, _, err := subkeys(kbio)
	if err != nil {
		return nil, nil, err
	}
	payload, original, err = embed.ExtractBestMeanwhile(marked, ek, restore, meanwhile)
	if err != nil {
		return nil, nil, integrity(ErrMarkInvalid, fmt.Errorf("protect: extract payload: %w", err))
	}
	return payload, original, nil
}

// Encipher compresses and encrypts a marked image into the envelope body.
func Encipher(scheme string, marked *medimg.Image, kbio []byte) ([]byte, error) {
	var sc sealScratch
	return sc.encipher(scheme, marked, kbio)
}

// sealScratch is what a Sealer reuses from one image to the next.
type sealScratch struct {
	enc *huffman.Encoder
	buf bytes.Buffer
}

// encipher is Encipher; the body it returns lives in sc's buffer until the
// next call.
func (sc *sealScratch) encipher(scheme string, marked *medimg.Image, kbio []byte) ([]byte, error) {
	_, ck, err := subkeys(kbio)
	if err != nil {
		return nil, err
	}
	sc.buf.Reset()
	if sc.enc == nil {
		sc.enc = huffman.NewEncoder(&sc.buf)
	}
	sc.enc.Reset(&sc.buf)
	switch scheme {
	case SchemeV1:
		if err := sc.enc.Encode(marked); err != nil {
			return nil, fmt.Errorf("protect: compress: %w", err)
		}
		ks, err := chaos.NewStream(ck)
		if err != nil {
			return nil, fmt.Errorf("protect: cipher: %w", err)
		}
		body := sc.buf.Bytes()
		ks.XORKeyStream(body, body)
		return body, nil
	case SchemePaper:
		scrambled, err := Scramble(marked, kbio)
		if err != nil {
			return nil, err
		}
		if err := sc.enc.EncodeZeroOrder(scrambled); err != nil {
			return nil, fmt.Errorf("protect: compress: %w", err)
		}
		return sc.buf.Bytes(), nil
	}
	return nil, CheckScheme(scheme)
}

// Scramble is the paper scheme's cipher: the marked image with its sample
// positions permuted by the chaotic map. The evaluation measures it as "the
// encrypted image".
func Scramble(marked *medimg.Image, kbio []byte) (*medimg.Image, error) {
	_, ck, err := subkeys(kbio)
	if err != nil {
		return nil, err
	}
	p, err := chaos.NewPermutation(ck, len(marked.Pix))
	if err != nil {
		return nil, fmt.Errorf("protect: permutation: %w", err)
	}
	out := *marked
	out.Pix = make([]int32, len(marked.Pix))
	if err := p.Apply(out.Pix, marked.Pix); err != nil {
		return nil, fmt.Errorf("protect: %w", err)
	}
	return &out, nil
}

// Decipher undoes Encipher. want is the geometry the seal promises; a body
// that decodes to anything else is rejected, and the decoder never allocates
// more samples than want has. The v1 body is deciphered in place: body is
// overwritten with the compressed stream.
func Decipher(scheme string, body []byte, kbio []byte, want *medimg.Image) (*medimg.Image, error) {
	var d huffman.Decoder
	return decipher(&d, scheme, body, kbio, want)
}

func decipher(d *huffman.Decoder, scheme string, body []byte, kbio []byte, want *medimg.Image) (*medimg.Image, error) {
	_, ck, err := subkeys(kbio)
	if err != nil {
		return nil, err
	}
	if err := want.CheckGeometry(); err != nil {
		return nil, fmt.Errorf("protect: sealed geometry: %w", err)
	}
	*d = *huffman.NewDecoder(nil, huffman.Limits{MaxSamples: want.Samples()})
	var im *medimg.Image
	switch scheme {
	case SchemeV1:
		ks, err := chaos.NewStream(ck)
		if err != nil {
			return nil, fmt.Errorf("protect: cipher: %w", err)
		}
		ks.XORKeyStream(body, body)
		if im, err = d.DecodeBytes(body); err != nil {
			return nil, integrity(ErrBodyCorrupt, fmt.Errorf("protect: decompress: %w", err))
		}
		if err := sameGeometry(im, want); err != nil {
			return nil, integrity(ErrBodyCorrupt, err)
		}
	case SchemePaper:
		scrambled, err := huffman.DecodeZeroOrder(bytes.NewReader(body), huffman.Limits{MaxSamples: want.Samples()})
		if err != nil {
			return nil, integrity(ErrBodyCorrupt, fmt.Errorf("protect: decompress: %w", err))
		}
		if err := sameGeometry(scrambled, want); err != nil {
			return nil, integrity(ErrBodyCorrupt, err)
		}
		p, err := chaos.NewPermutation(ck, len(scrambled.Pix))
		if err != nil {
			return nil, fmt.Errorf("protect: permutation: %w", err)
		}
		im = scrambled
		src := scrambled.Pix
		im.Pix = make([]int32, len(src))
		if err := p.Invert(im.Pix, src); err != nil {
			return nil, fmt.Errorf("protect: %w", err)
		}
	default:
		return nil, CheckScheme(scheme)
	}
	return im, nil
}

// pixelSHA256 is the SHA-256 of im.RawBytes(), without making them.
func pixelSHA256(im *medimg.Image) (sum [32]byte) {
	h := sha256.New()
	_ = im.WriteRaw(h) // a hash never fails to write
	h.Sum(sum[:0])
	return sum
}

func sameGeometry(got, want *medimg.Image) error {
	if got.Width != want.Width || got.Height != want.Height || got.Frames != want.Frames ||
		got.Channels != want.Channels || got.BitsAllocated != want.BitsAllocated ||
		got.BitsStored != want.BitsStored || got.Signed != want.Signed {
		return fmt.Errorf("protect: body decodes to %s, the seal says %s", describe(got), describe(want))
	}
	return nil
}

func describe(im *medimg.Image) string {
	s := "unsigned"
	if im.Signed {
		s = "signed"
	}
	return fmt.Sprintf("%d×%d×%d frames×%d channels, %d of %d bits %s", im.Width, im.Height, im.Frames, im.Channels, im.BitsStored, im.BitsAllocated, s)
}

// Request is one image to protect.
type Request struct {
	Image *medimg.Image
	// Container says how to give the image back (DICOM head and tail); nil means PNG.
	Container *medimg.Container
	// Identity is the clinician who took the image, made once at their
	// login (biometric.Store.Login) or, for tests and evaluation, from a
	// feature file (biometric.FileIdentity). Its protected template is
	// hidden and sealed; its model hash goes in the header.
	Identity *biometric.Identity
	// Scheme is SchemeV1 or SchemePaper; empty means SchemeV1.
	Scheme string
}

// Sealer protects images for one hub on behalf of one device. It keeps its
// coder's buffers from one image to the next, so a long-lived Sealer makes
// few image-sized allocations; it is therefore not safe for concurrent use:
// give each goroutine its own Sealer (they may share the keys).
type Sealer struct {
	Hub    uplink.HubPublicKey
	Device uplink.DeviceKey
	// Rand supplies salts, envelope ids and HPKE randomness; nil means crypto/rand.
	Rand io.Reader
	// Now stamps the header; nil means time.Now.
	Now func() time.Time
	// RequireVerified refuses an Identity that no fingerprint login on
	// this device made (a feature file's): what the appliance sets.
	RequireVerified bool

	scratch sealScratch
}

// Protected is what Protect made, with what the reports need.
type Protected struct {
	Envelope []byte
	Header   uplink.Header
	Marked   *medimg.Image
	Payload  []byte
	// BodyBytes is the size of the compressed, encrypted pixels alone.
	BodyBytes int
	// RestoreBytes is the size of the sealed restore record, 0 when the mark
	// restores from the image alone.
	RestoreBytes int
	// PSNR (dB) and SSIM of Marked against the original, as the embedder's
	// quality gate measured them.
	PSNR, SSIM float64
}

// Protect marks, compresses, encrypts and seals one image.
func (s *Sealer) Protect(ctx context.Context, req *Request) (*Protected, error) {
	scheme := req.Scheme
	if scheme == "" {
		scheme = SchemeV1
	}
	if err := CheckScheme(scheme); err != nil {
		return nil, err
	}
	im := req.Image
	if im == nil {
		return nil, errors.New("protect: no image")
	}
	if err := im.Validate(); err != nil {
		return nil, fmt.Errorf("protect: %w", err)
	}
	payload, ikm, err := identityParts(req.Identity, s.RequireVerified)
	if err != nil {
		return nil, err
	}
	rnd := s.Rand
	if rnd == nil {
		rnd = rand.Reader
	}
	salt := make([]byte, SaltSize)
	if _, err := io.ReadFull(rnd, salt); err != nil {
		return nil, fmt.Errorf("protect: draw salt: %w", err)
	}
	kbio, err := DeriveKBio(ikm, salt)
	if err != nil {
		return nil, err
	}
	// The original's hash needs nothing but the original: it is taken on
	// another core while the mark is made.
	pixSum := make(chan [32]byte, 1)
	go func() { pixSum <- pixelSHA256(im) }()
	mark, err := Mark(im, payload, kbio)
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	body, err := s.scratch.encipher(scheme, mark.Image, kbio)
	if err != nil {
		return nil, err
	}
	id, err := uplink.NewID(rnd)
	if err != nil {
		return nil, err
	}
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	h := uplink.Header{
		FormatVersion: uplink.Version,
		ID:            id,
		DeviceID:      s.Device.ID(),
		HubKeyID:      s.Hub.Fingerprint(),
		Created:       now().UnixNano(),
		Scheme:        scheme,
		ModelHash:     req.Identity.Model(),
	}
	c := &uplink.Contents{
		KBio:          kbio,
		Salt:          salt,
		ClinicianID:   req.Identity.ClinicianID(),
		PayloadBits:   8 * len(payload),
		PayloadRef:    payload,
		Width:         im.Width,
		Height:        im.Height,
		Frames:        im.Frames,
		Channels:      im.Channels,
		BitsAllocated: im.BitsAllocated,
		BitsStored:    im.BitsStored,
		Signed:        im.Signed,
		Photometric:   string(im.Photometric),
		Restore:       mark.Restore,
		PixelSHA256:   <-pixSum,
		Body:          body,
	}
	c.ContainerFormat = uplink.ContainerPNG
	if req.Container != nil && req.Container.Format == medimg.FormatDICOM {
		c.ContainerFormat = uplink.ContainerDICOM
		c.DICOMHead, c.DICOMTail = req.Container.Head, req.Container.Tail
	}
	env, err := uplink.Seal(h, c, s.Hub, s.Device, rnd)
	if err != nil {
		return nil, err
	}
	return &Protected{Envelope: env, Header: h, Marked: mark.Image, Payload: payload, BodyBytes: len(body), RestoreBytes: len(mark.Restore),
		PSNR: mark.PSNR, SSIM: mark.SSIM}, nil
}

// Opener recovers envelopes at the hub. Like a Sealer it keeps its
// decoder's buffers between envelopes and is not safe for concurrent use:
// one Opener per goroutine.
type Opener struct {
	Hub    uplink.HubPrivateKey
	Trust  uplink.Trust
	Limits uplink.Limits
	// Models lists the SHA-256 of the feature models whose envelopes the
	// hub accepts; an envelope from any other model, or with a zero hash
	// (features read from a file), is refused unless AllowUnverified.
	Models [][32]byte
	// AllowUnverified accepts envelopes from unknown models and from
	// feature files: for tests and the evaluation, never in service.
	AllowUnverified bool
	// Clinicians, when set, verifies each image's protected template
	// against the clinician's registration (a *biometric.Registry).
	Clinicians ClinicianVerifier

	dec huffman.Decoder
}

// Recovered is an opened, verified and restored envelope.
type Recovered struct {
	Header    uplink.Header
	Image     *medimg.Image
	Container *medimg.Container
	Marked    *medimg.Image
	// Payload is what the marked image carried; PayloadRef what the device embedded.
	Payload, PayloadRef []byte
	ClinicianID         string
	// Template is the clinician's protected template, from the mark.
	Template []byte
	// Clinician is the registry's decision on Template; nil when the
	// Opener has no registry.
	Clinician *biometric.HubDecision
	BER, NC   float64
	// Exact is true when the restored pixels hash to the sealed SHA-256;
	// Recover returns an error otherwise, so a caller holding a Recovered
	// holds the original.
	Exact     bool
	BodyBytes int
}

// Recover opens, verifies and restores one envelope.
func (o *Opener) Recover(ctx context.Context, env []byte) (*Recovered, error) {
	h, c, err := uplink.Open(env, o.Hub, o.Trust, o.Limits)
	if err != nil {
		return nil, err
	}
	if err := o.checkModel(h.ModelHash); err != nil {
		return nil, err
	}
	want := &medimg.Image{
		Width: c.Width, Height: c.Height, Frames: c.Frames, Channels: c.Channels,
		BitsAllocated: c.BitsAllocated, BitsStored: c.BitsStored, Signed: c.Signed,
		Photometric: medimg.Photometric(c.Photometric),
	}
	bodyBytes := len(c.Body)
	var restore []byte
	if len(c.Restore) > 0 {
		restore = c.Restore
	}
	marked, err := decipher(&o.dec, h.Scheme, c.Body, c.KBio, want)
	if err != nil {
		return nil, err
	}
	// The body is decoded: let the plaintext it is a view of go before
	// the restore makes its image-sized buffers.
	c.Body = nil
	marked.Photometric = want.Photometric
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	// The pixel SHA-256 is taken while the mark's tag hashes the same
	// original, and compared below, after the payload's checks, as before.
	var sum [32]byte
	payload, orig, err := unmark(marked, c.KBio, restore, func(im *medimg.Image) { sum = pixelSHA256(im) })
	if err != nil {
		return nil, err
	}
	r := &Recovered{
		Header: h, Image: orig, Marked: marked,
		Payload: payload, PayloadRef: c.PayloadRef, ClinicianID: c.ClinicianID,
		BER: BitErrorRate(c.PayloadRef, payload), NC: NormalizedCorrelation(c.PayloadRef, payload),
		BodyBytes: bodyBytes,
	}
	p, err := ParsePayload(payload)
	if err != nil {
		return nil, integrity(ErrPayloadCRC, fmt.Errorf("protect: extracted payload: %w", err))
	}
	if p.ClinicianID != c.ClinicianID {
		return nil, integrity(ErrPayloadMismatch, fmt.Errorf("image marked for clinician %q, sealed for %q", p.ClinicianID, c.ClinicianID))
	}
	if subtle.ConstantTimeCompare(payload, c.PayloadRef) != 1 {
		return nil, integrity(ErrPayloadMismatch, nil)
	}
	r.Template = p.Template
	if err := o.checkClinician(r); err != nil {
		return nil, err
	}
	r.Exact = subtle.ConstantTimeCompare(sum[:], c.PixelSHA256[:]) == 1
	if !r.Exact {
		return nil, integrity(ErrPixelSHA256, nil)
	}
	switch c.ContainerFormat {
	case uplink.ContainerDICOM:
		r.Container = &medimg.Container{Format: medimg.FormatDICOM, Head: c.DICOMHead, Tail: c.DICOMTail}
	default:
		r.Container = &medimg.Container{Format: medimg.FormatPNG}
	}
	return r, nil
}
