package uplink

import (
	"bytes"
	"crypto/ed25519"
	"crypto/hpke"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"unicode/utf8"

	"github.com/tinylib/msgp/msgp"
)

// Envelope layout constants; doc.go draws the layout.
const (
	Magic   = "EDGE"
	Version = 1

	// MaxHeaderSize bounds the encoded Header. A real one is about 200 bytes;
	// the bound keeps the one part decoded before the signature is checked small.
	MaxHeaderSize = 1024

	prefixSize = len(Magic) + 1 + 4 // magic, version, header length
	lenSize    = 4
	encSize    = 32 // X25519 encapsulated key
	tagSize    = 16 // ChaCha20-Poly1305 tag
	sigSize    = ed25519.SignatureSize
	// minSealed is the smallest sealed part: an enc and a tag around nothing.
	minSealed = encSize + tagSize
)

// Schemes and containers.
const (
	SchemeV1    = "v1"
	SchemePaper = "paper"

	ContainerPNG   = "png"
	ContainerDICOM = "dicom"
)

// hpkeInfo binds the HPKE context to this format, so a seal made for another
// purpose with the same hub key never opens as an envelope.
const hpkeInfo = "edge envelope v1"

// Bounds on Contents fields that do not depend on Limits.
const (
	KBioSize        = 32
	MinSaltSize     = 16
	MaxSaltSize     = 64
	MaxClinicianID  = 256
	MaxPayloadBytes = 1 << 16
	// MaxRestore bounds the restore record: one bit per carrier of the
	// largest payload, its framing and a header.
	MaxRestore = MaxPayloadBytes + 1024
	// MaxSamples matches medimg.MaxSamples; repeated here so that the hub can
	// check an envelope without the image-I/O package.
	MaxSamples = 1 << 30
)

// Errors Open and PeekHeader wrap; errors.Is tells the classes apart, the
// message says what exactly was wrong.
var (
	ErrMalformed     = errors.New("uplink: malformed envelope")
	ErrVersion       = errors.New("uplink: unsupported envelope version")
	ErrTooLarge      = errors.New("uplink: envelope too large")
	ErrUnknownDevice = errors.New("uplink: envelope signed by unknown device")
	ErrSignature     = errors.New("uplink: envelope signature invalid: damaged or forged")
	ErrNotForThisHub = errors.New("uplink: envelope not sealed to this hub's key, or damaged")
	ErrContents      = errors.New("uplink: envelope contents invalid")
)

// Limits bounds what Open accepts. The zero value means the defaults.
type Limits struct {
	// MaxEnvelope bounds the whole envelope (default 256 MiB).
	MaxEnvelope int
	// MaxBody bounds Contents.Body (default MaxEnvelope).
	MaxBody int
	// MaxDICOM bounds DICOMHead and DICOMTail together (default 16 MiB).
	MaxDICOM int
	// MaxSamples bounds the image geometry a seal may declare (default
	// MaxSamples). The hub decodes the body into that many samples, so a
	// hub that only ever sees CT slices can keep its memory to what they need.
	MaxSamples int
}

// Default limits: a 256 MiB envelope holds a long multi-frame 16-bit series
// compressed; the DICOM data set without its pixels is rarely above a few
// hundred KiB, and 16 MiB leaves room for overlays and icons.
const (
	DefaultMaxEnvelope = 256 << 20
	DefaultMaxDICOM    = 16 << 20
)

func (l Limits) withDefaults() Limits {
	if l.MaxEnvelope <= 0 {
		l.MaxEnvelope = DefaultMaxEnvelope
	}
	if l.MaxBody <= 0 || l.MaxBody > l.MaxEnvelope {
		l.MaxBody = l.MaxEnvelope
	}
	if l.MaxDICOM <= 0 {
		l.MaxDICOM = DefaultMaxDICOM
	}
	if l.MaxSamples <= 0 || l.MaxSamples > MaxSamples {
		l.MaxSamples = MaxSamples
	}
	return l
}

// Trust says which device keys a hub accepts envelopes from.
type Trust interface {
	DeviceKey(id string) (ed25519.PublicKey, bool)
}

// Devices is a Trust holding the accepted keys by device id.
type Devices map[string]ed25519.PublicKey

// TrustDevices returns a Devices holding pubs. Of keys whose ids collide
// only the first is trusted; a hub that loads keys one by one uses Add,
// which says so.
func TrustDevices(pubs ...ed25519.PublicKey) Devices {
	d := make(Devices, len(pubs))
	for _, p := range pubs {
		_, _ = d.Add(p)
	}
	return d
}

// ErrDeviceIDCollision is wrapped by Add for a key whose device id is
// already another key's.
var ErrDeviceIDCollision = errors.New("uplink: device id already belongs to another key")

// Add trusts pub and returns its device id. Adding a key that is already
// trusted is a no-op; a different key with the same 64-bit id is an error,
// never a silent replacement (which would hand the first device's envelopes
// to the second's key).
func (d Devices) Add(pub ed25519.PublicKey) (string, error) {
	id := DeviceID(pub)
	if old, ok := d[id]; ok {
		if old.Equal(pub) {
			return id, nil
		}
		return id, fmt.Errorf("%w: %s", ErrDeviceIDCollision, id)
	}
	d[id] = append(ed25519.PublicKey(nil), pub...)
	return id, nil
}

// DeviceKey implements Trust.
func (d Devices) DeviceKey(id string) (ed25519.PublicKey, bool) {
	k, ok := d[id]
	return k, ok
}

var _ Trust = Devices(nil)

// NewID draws a random envelope id from rand (crypto/rand when nil).
func NewID(rand io.Reader) ([16]byte, error) {
	var id [16]byte
	if err := readRand(rand, id[:]); err != nil {
		return id, fmt.Errorf("uplink: envelope id: %w", err)
	}
	return id, nil
}

// Seal signs and seals an envelope. It sets h's FormatVersion, DeviceID and
// HubKeyID from the keys, and draws h.ID from rand (crypto/rand when nil) when
// it is zero; the caller sets Created, Scheme and ModelHash. Contents are
// checked against the default Limits, so a device never sends what a hub with
// the defaults refuses. The HPKE ephemeral key always comes from the system's
// secure source: crypto/hpke takes no random reader.
func Seal(h Header, c *Contents, hub HubPublicKey, dev DeviceKey, rand io.Reader) ([]byte, error) {
	if hub.kem == nil {
		return nil, errors.New("uplink: seal: no hub public key")
	}
	if dev.priv == nil {
		return nil, errors.New("uplink: seal: no device key")
	}
	if c == nil {
		return nil, errors.New("uplink: seal: no contents")
	}
	h.FormatVersion = Version
	h.DeviceID = dev.ID()
	h.HubKeyID = hub.Fingerprint()
	if h.ID == ([16]byte{}) {
		id, err := NewID(rand)
		if err != nil {
			return nil, err
		}
		h.ID = id
	}
	if err := checkHeader(&h); err != nil {
		return nil, fmt.Errorf("uplink: seal: %w", err)
	}
	lim := Limits{}.withDefaults()
	if err := checkContents(c, lim); err != nil {
		return nil, fmt.Errorf("uplink: seal: %w", err)
	}

	hdr, err := h.MarshalMsg(make([]byte, 0, h.Msgsize()))
	if err != nil {
		return nil, fmt.Errorf("uplink: seal: encode header: %w", err)
	}
	if len(hdr) > MaxHeaderSize {
		return nil, fmt.Errorf("uplink: seal: header is %d bytes, more than %d", len(hdr), MaxHeaderSize)
	}
	plain, err := c.MarshalMsg(make([]byte, 0, c.Msgsize()))
	if err != nil {
		return nil, fmt.Errorf("uplink: seal: encode contents: %w", err)
	}
	// The plaintext holds K_bio; it must not outlive the seal.
	defer clear(plain)

	total := prefixSize + len(hdr) + lenSize + encSize + len(plain) + tagSize + sigSize
	if total > lim.MaxEnvelope {
		return nil, fmt.Errorf("%w: %d bytes, limit %d", ErrTooLarge, total, lim.MaxEnvelope)
	}
	out := make([]byte, 0, total)
	out = append(out, Magic...)
	out = append(out, Version)
	out = binary.BigEndian.AppendUint32(out, uint32(len(hdr)))
	out = append(out, hdr...)
	aad := out[:len(out):len(out)]

	enc, s, err := hpke.NewSender(hub.kem, hpke.HKDFSHA256(), hpke.ChaCha20Poly1305(), []byte(hpkeInfo))
	if err != nil {
		return nil, fmt.Errorf("uplink: seal: hpke sender for hub key %s: %w", hub.Fingerprint(), err)
	}
	ct, err := s.Seal(aad, plain)
	if err != nil {
		return nil, fmt.Errorf("uplink: seal: hpke: %w", err)
	}
	if len(enc) != encSize || len(ct) != len(plain)+tagSize {
		return nil, fmt.Errorf("uplink: seal: hpke gave %d-byte enc and %d-byte ciphertext for %d bytes", len(enc), len(ct), len(plain))
	}
	out = binary.BigEndian.AppendUint32(out, uint32(len(enc)+len(ct)))
	out = append(out, enc...)
	out = append(out, ct...)
	out = append(out, ed25519.Sign(dev.priv, out)...)
	return out, nil
}

// parts are the pieces of a structurally valid envelope, views into it.
type parts struct {
	header Header
	aad    []byte // magic, version, header length, header
	enc    []byte
	ct     []byte
	signed []byte // everything before the signature
	sig    []byte
}

// split checks the framing and decodes the header. It reads only bounded
// lengths, and decodes nothing before checking that the lengths it read add up
// to the envelope's size.
func split(env []byte) (parts, error) {
	var p parts
	if len(env) < prefixSize {
		return p, fmt.Errorf("%w: %d bytes, shorter than the %d-byte prefix", ErrMalformed, len(env), prefixSize)
	}
	if string(env[:len(Magic)]) != Magic {
		return p, fmt.Errorf("%w: starts with %q, want %q", ErrMalformed, env[:len(Magic)], Magic)
	}
	if v := env[len(Magic)]; v != Version {
		return p, fmt.Errorf("%w: version %d, this build reads %d", ErrVersion, v, Version)
	}
	hlen := binary.BigEndian.Uint32(env[len(Magic)+1:])
	if hlen == 0 || hlen > MaxHeaderSize {
		return p, fmt.Errorf("%w: header length %d, want 1..%d", ErrMalformed, hlen, MaxHeaderSize)
	}
	hend := prefixSize + int(hlen)
	if len(env) < hend+lenSize {
		return p, fmt.Errorf("%w: truncated: %d bytes, header alone needs %d", ErrMalformed, len(env), hend+lenSize)
	}
	slen := binary.BigEndian.Uint32(env[hend:])
	// uint64 so that the sum cannot wrap on 32-bit boards.
	want := uint64(hend) + lenSize + uint64(slen) + sigSize
	if slen < minSealed {
		return p, fmt.Errorf("%w: sealed length %d, less than the %d-byte minimum", ErrMalformed, slen, minSealed)
	}
	if uint64(len(env)) != want {
		what := "truncated"
		if uint64(len(env)) > want {
			what = "trailing data"
		}
		return p, fmt.Errorf("%w: %s: %d bytes, lengths in it say %d", ErrMalformed, what, len(env), want)
	}
	hdr := env[prefixSize:hend]
	if err := decodeHeader(hdr, &p.header); err != nil {
		return p, err
	}
	sealed := env[hend+lenSize : len(env)-sigSize]
	p.aad = env[:hend]
	p.enc = sealed[:encSize]
	p.ct = sealed[encSize:]
	p.signed = env[:len(env)-sigSize]
	p.sig = env[len(env)-sigSize:]
	return p, nil
}

// decodeHeader decodes and checks hdr. It insists on the one encoding Seal
// writes (same fields, same order, smallest integer forms), so that the
// header a router peeks at can carry nothing Seal would not have put there.
func decodeHeader(hdr []byte, h *Header) error {
	if err := checkMsgp(hdr, 1); err != nil {
		return fmt.Errorf("%w: header: %v", ErrMalformed, err)
	}
	rest, err := h.UnmarshalMsg(hdr)
	if err != nil {
		return fmt.Errorf("%w: header: %v", ErrMalformed, err)
	}
	if len(rest) != 0 {
		return fmt.Errorf("%w: %d bytes after the header", ErrMalformed, len(rest))
	}
	var buf [MaxHeaderSize]byte
	again, err := h.MarshalMsg(buf[:0])
	if err != nil || !bytes.Equal(again, hdr) {
		return fmt.Errorf("%w: header is not in canonical form", ErrMalformed)
	}
	if err := checkHeader(h); err != nil {
		return fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	return nil
}

// PeekHeader returns an envelope's header without checking its signature or
// opening it, for routing before the keys are at hand. Nothing in it is
// authenticated until Open succeeds.
func PeekHeader(env []byte) (Header, error) {
	p, err := split(env)
	if err != nil {
		return Header{}, err
	}
	return p.header, nil
}

// Open checks an envelope and returns its header and contents. The checks run
// cheapest and least trusting first: size limits, framing and version, header
// decode, device trusted, signature, hub key, HPKE open, contents decode and
// bounds. Any change to any byte fails one of them.
//
// Contents.Body is a view into the opened plaintext, not into env.
func Open(env []byte, hub HubPrivateKey, trusted Trust, lim Limits) (Header, *Contents, error) {
	lim = lim.withDefaults()
	if hub.kem == nil {
		return Header{}, nil, errors.New("uplink: open: no hub private key")
	}
	if trusted == nil {
		return Header{}, nil, errors.New("uplink: open: no trusted devices")
	}
	if len(env) > lim.MaxEnvelope {
		return Header{}, nil, fmt.Errorf("%w: %d bytes, limit %d", ErrTooLarge, len(env), lim.MaxEnvelope)
	}
	p, err := split(env)
	if err != nil {
		return Header{}, nil, err
	}
	h := p.header
	pub, ok := trusted.DeviceKey(h.DeviceID)
	if !ok {
		return Header{}, nil, fmt.Errorf("%w %q", ErrUnknownDevice, h.DeviceID)
	}
	if len(pub) != ed25519.PublicKeySize {
		return Header{}, nil, fmt.Errorf("uplink: trusted key for device %q is %d bytes, want %d", h.DeviceID, len(pub), ed25519.PublicKeySize)
	}
	if got := DeviceID(pub); got != h.DeviceID {
		return Header{}, nil, fmt.Errorf("uplink: trusted key for device %q has id %q", h.DeviceID, got)
	}
	if !ed25519.Verify(pub, p.signed, p.sig) {
		return Header{}, nil, fmt.Errorf("%w (device %q)", ErrSignature, h.DeviceID)
	}
	if fp := hub.Fingerprint(); h.HubKeyID != fp {
		return Header{}, nil, fmt.Errorf("%w: sealed to hub key %q, this hub's key is %q", ErrNotForThisHub, h.HubKeyID, fp)
	}
	r, err := hpke.NewRecipient(p.enc, hub.kem, hpke.HKDFSHA256(), hpke.ChaCha20Poly1305(), []byte(hpkeInfo))
	if err != nil {
		return Header{}, nil, fmt.Errorf("%w: %v", ErrNotForThisHub, err)
	}
	plain, err := r.Open(p.aad, p.ct)
	if err != nil {
		return Header{}, nil, ErrNotForThisHub
	}
	c := new(Contents)
	if err := decodeContents(plain, c, lim); err != nil {
		clear(plain)
		return Header{}, nil, err
	}
	// Body, the last field, is a view of the plaintext's tail and keeps the
	// whole buffer alive; the copy of K_bio and the rest in front of it is
	// not needed any more.
	clear(plain[:len(plain)-len(c.Body)])
	return h, c, nil
}

// contentsKeys are the keys of the Contents map in the order Seal writes
// them. Open wants exactly these: the generated decoder skips unknown keys and
// lets a repeated key win over an earlier one, and either would mean reading
// something Seal did not write.
var contentsKeys = [...]string{
	"k_bio", "salt", "clinician_id", "payload_bits", "payload_ref",
	"width", "height", "frames", "channels", "bits_allocated", "bits_stored", "signed", "photometric",
	"container_format", "dicom_head", "dicom_tail", "restore", "pixel_sha256", "body",
}

func decodeContents(plain []byte, c *Contents, lim Limits) error {
	if err := checkMsgp(plain, 1); err != nil {
		return fmt.Errorf("%w: %v", ErrContents, err)
	}
	if err := checkKeys(plain, contentsKeys[:]); err != nil {
		return fmt.Errorf("%w: %v", ErrContents, err)
	}
	rest, err := c.UnmarshalMsg(plain)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrContents, err)
	}
	if len(rest) != 0 {
		return fmt.Errorf("%w: %d bytes after the contents", ErrContents, len(rest))
	}
	if err := checkContents(c, lim); err != nil {
		return fmt.Errorf("%w: %v", ErrContents, err)
	}
	return nil
}

// checkKeys walks the MessagePack map in b, which checkMsgp has passed,
// skipping the values without copying them, and checks that its keys are
// keys, in order.
func checkKeys(b []byte, keys []string) error {
	n, b, err := msgp.ReadMapHeaderBytes(b)
	if err != nil {
		return err
	}
	if int64(n) != int64(len(keys)) {
		return fmt.Errorf("%d fields, want %d", n, len(keys))
	}
	for i, want := range keys {
		var k []byte
		k, b, err = msgp.ReadMapKeyZC(b)
		if err != nil {
			return fmt.Errorf("field %d: %v", i, err)
		}
		if string(k) != want {
			return fmt.Errorf("field %d is %q, want %q", i, k, want)
		}
		if b, err = msgp.Skip(b); err != nil {
			return fmt.Errorf("field %q: %v", want, err)
		}
	}
	return nil
}

func checkHeader(h *Header) error {
	switch {
	case h.FormatVersion != Version:
		return fmt.Errorf("header format version %d, want %d", h.FormatVersion, Version)
	case h.ID == [16]byte{}:
		return errors.New("envelope id is zero")
	case !isKeyID(h.DeviceID):
		return fmt.Errorf("device id %q is not 16 lowercase hex digits", h.DeviceID)
	case !isKeyID(h.HubKeyID):
		return fmt.Errorf("hub key id %q is not 16 lowercase hex digits", h.HubKeyID)
	case h.Created < 0:
		return fmt.Errorf("creation time %d is before 1970", h.Created)
	case h.Scheme != SchemeV1 && h.Scheme != SchemePaper:
		return fmt.Errorf("scheme %q, want %q or %q", h.Scheme, SchemeV1, SchemePaper)
	}
	return nil
}

func isKeyID(s string) bool {
	if len(s) != 16 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// checkContents bounds every field, so that what Open returns can be handed
// to the decoders without them having to trust its sizes.
func checkContents(c *Contents, lim Limits) error {
	switch {
	case len(c.KBio) != KBioSize:
		return fmt.Errorf("k_bio is %d bytes, want %d", len(c.KBio), KBioSize)
	case len(c.Salt) < MinSaltSize || len(c.Salt) > MaxSaltSize:
		return fmt.Errorf("salt is %d bytes, want %d..%d", len(c.Salt), MinSaltSize, MaxSaltSize)
	case len(c.ClinicianID) > MaxClinicianID:
		return fmt.Errorf("clinician id is %d bytes, more than %d", len(c.ClinicianID), MaxClinicianID)
	case !utf8.ValidString(c.ClinicianID):
		return fmt.Errorf("clinician id %q is not UTF-8", c.ClinicianID)
	case len(c.PayloadRef) == 0 || len(c.PayloadRef) > MaxPayloadBytes:
		return fmt.Errorf("payload is %d bytes, want 1..%d", len(c.PayloadRef), MaxPayloadBytes)
	case c.PayloadBits <= 8*(len(c.PayloadRef)-1) || c.PayloadBits > 8*len(c.PayloadRef):
		return fmt.Errorf("payload of %d bits in %d bytes", c.PayloadBits, len(c.PayloadRef))
	case len(c.Restore) > MaxRestore:
		return fmt.Errorf("restore record is %d bytes, more than %d", len(c.Restore), MaxRestore)
	case len(c.Body) == 0 || len(c.Body) > lim.MaxBody:
		return fmt.Errorf("body is %d bytes, want 1..%d", len(c.Body), lim.MaxBody)
	}
	if err := checkGeometry(c, lim.MaxSamples); err != nil {
		return err
	}
	switch c.ContainerFormat {
	case ContainerPNG:
		if len(c.DICOMHead) != 0 || len(c.DICOMTail) != 0 {
			return fmt.Errorf("png image with %d+%d bytes of DICOM data set", len(c.DICOMHead), len(c.DICOMTail))
		}
	case ContainerDICOM:
		if len(c.DICOMHead) == 0 {
			return errors.New("dicom image without its data set")
		}
		if n := len(c.DICOMHead) + len(c.DICOMTail); n > lim.MaxDICOM {
			return fmt.Errorf("dicom data set is %d bytes, more than %d", n, lim.MaxDICOM)
		}
	default:
		return fmt.Errorf("container format %q, want %q or %q", c.ContainerFormat, ContainerPNG, ContainerDICOM)
	}
	return nil
}

// checkGeometry applies the rules of medimg.Image.CheckGeometry and its
// photometric interpretations.
func checkGeometry(c *Contents, maxSamples int) error {
	switch {
	case c.Width <= 0 || c.Height <= 0 || c.Frames <= 0:
		return fmt.Errorf("geometry %d×%d with %d frames", c.Width, c.Height, c.Frames)
	case c.Channels != 1 && c.Channels != 3:
		return fmt.Errorf("%d channels, want 1 or 3", c.Channels)
	case c.BitsAllocated != 8 && c.BitsAllocated != 16:
		return fmt.Errorf("%d bits allocated, want 8 or 16", c.BitsAllocated)
	case c.BitsStored < 1 || c.BitsStored > c.BitsAllocated:
		return fmt.Errorf("%d bits stored with %d allocated", c.BitsStored, c.BitsAllocated)
	}
	// Each factor is at most maxSamples once the others are ≥ 1, so checking
	// the running product against the bound before each multiplication keeps
	// it from overflowing even in a 32-bit int.
	n := 1
	for _, f := range []int{c.Width, c.Height, c.Frames, c.Channels} {
		if f > maxSamples/n {
			return fmt.Errorf("%d×%d×%d frames×%d channels exceeds %d samples", c.Width, c.Height, c.Frames, c.Channels, maxSamples)
		}
		n *= f
	}
	switch c.Photometric {
	case "MONOCHROME1", "MONOCHROME2", "PALETTE COLOR":
		if c.Channels != 1 {
			return fmt.Errorf("photometric %q with %d channels", c.Photometric, c.Channels)
		}
	case "RGB":
		if c.Channels != 3 {
			return fmt.Errorf("photometric %q with %d channels", c.Photometric, c.Channels)
		}
	default:
		return fmt.Errorf("photometric %q, want MONOCHROME1, MONOCHROME2, PALETTE COLOR or RGB", c.Photometric)
	}
	return nil
}
