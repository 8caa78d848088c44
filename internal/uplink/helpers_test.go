package uplink

import (
	"bytes"
	"crypto/ed25519"
	"crypto/hpke"
	"crypto/sha256"
	"encoding/binary"
	"testing"
)

// Fixed test keys: fuzz seeds committed under testdata are sealed to and
// signed by these, so they must never change.
func testHubKey(t testing.TB) HubPrivateKey {
	t.Helper()
	seed := sha256.Sum256([]byte("edge uplink test hub key"))
	k, err := NewHubPrivateKey(seed[:])
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func testDeviceKey(t testing.TB) DeviceKey {
	t.Helper()
	seed := sha256.Sum256([]byte("edge uplink test device key"))
	k, err := NewDeviceKey(seed[:])
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func otherHubKey(t testing.TB) HubPrivateKey {
	t.Helper()
	seed := sha256.Sum256([]byte("edge uplink another hub key"))
	k, err := NewHubPrivateKey(seed[:])
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func otherDeviceKey(t testing.TB) DeviceKey {
	t.Helper()
	seed := sha256.Sum256([]byte("edge uplink another device key"))
	k, err := NewDeviceKey(seed[:])
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func testHeader() Header {
	h := Header{Created: 1_700_000_000_123_456_789, Scheme: SchemeV1}
	for i := range h.ID {
		h.ID[i] = byte(0xa0 + i)
	}
	h.ModelHash = sha256.Sum256([]byte("model"))
	return h
}

// testContents returns valid contents with a body of n bytes.
func testContents(n int, container string) *Contents {
	c := &Contents{
		KBio:          bytes.Repeat([]byte{0x11}, KBioSize),
		Salt:          bytes.Repeat([]byte{0x22}, 16),
		ClinicianID:   "clin-0042",
		PayloadBits:   2048 + 64 + 32,
		Width:         64,
		Height:        32,
		Frames:        1,
		Channels:      1,
		BitsAllocated: 16,
		BitsStored:    12,
		Signed:        true,
		Photometric:   "MONOCHROME2",
		PixelSHA256:   sha256.Sum256([]byte("pixels")),
		Body:          make([]byte, n),
	}
	c.PayloadRef = make([]byte, (c.PayloadBits+7)/8)
	for i := range c.PayloadRef {
		c.PayloadRef[i] = byte(i * 7)
	}
	for i := range c.Body {
		c.Body[i] = byte(i*31 + i>>8)
	}
	c.ContainerFormat = container
	if container == ContainerDICOM {
		c.DICOMHead = append(make([]byte, 128), "DICM"...)
		c.DICOMTail = []byte{0xfe, 0xff, 0xdd, 0xe0}
	}
	return c
}

func mustSeal(t testing.TB, h Header, c *Contents) []byte {
	t.Helper()
	env, err := Seal(h, c, testHubKey(t).Public(), testDeviceKey(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	return env
}

// frame builds an envelope from raw header and contents bytes the way Seal
// does, sealed to hub and signed by dev, so tests can make envelopes Seal
// would refuse to: what a holder of a stolen device key could send.
func frame(t testing.TB, hdr, plain []byte, hub HubPublicKey, dev DeviceKey) []byte {
	t.Helper()
	out := append([]byte(Magic), Version)
	out = binary.BigEndian.AppendUint32(out, uint32(len(hdr)))
	out = append(out, hdr...)
	aad := append([]byte(nil), out...)
	enc, s, err := hpke.NewSender(hub.kem, hpke.HKDFSHA256(), hpke.ChaCha20Poly1305(), []byte(hpkeInfo))
	if err != nil {
		t.Fatal(err)
	}
	ct, err := s.Seal(aad, plain)
	if err != nil {
		t.Fatal(err)
	}
	out = binary.BigEndian.AppendUint32(out, uint32(len(enc)+len(ct)))
	out = append(out, enc...)
	out = append(out, ct...)
	return append(out, ed25519.Sign(dev.priv, out)...)
}

// resign replaces the signature of env after a test has edited it.
func resign(env []byte, dev DeviceKey) []byte {
	body := env[:len(env)-sigSize]
	return append(append([]byte(nil), body...), ed25519.Sign(dev.priv, body)...)
}

func marshalHeader(t testing.TB, h Header) []byte {
	t.Helper()
	b, err := h.MarshalMsg(nil)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func marshalContents(t testing.TB, c *Contents) []byte {
	t.Helper()
	b, err := c.MarshalMsg(nil)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// sealedHeader is the header Seal writes for h with the test keys.
func sealedHeader(t testing.TB, h Header) Header {
	h.FormatVersion = Version
	h.DeviceID = testDeviceKey(t).ID()
	h.HubKeyID = testHubKey(t).Fingerprint()
	return h
}
