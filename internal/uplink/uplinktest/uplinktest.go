// Package uplinktest makes small, real envelopes for the tests of the
// packages that move them (outbox, tus client, hub), so none of them needs
// the imaging pipeline to have something to send.
package uplinktest

import (
	"crypto/sha256"
	"io"
	"testing"

	"edge/internal/uplink"
)

// Fixed keys: tests that share them can open each other's envelopes.
func key(name string) [32]byte {
	return sha256.Sum256([]byte("edge uplinktest " + name))
}

// HubKey is a fixed hub key; other names give other keys.
func HubKey(t testing.TB, name string) uplink.HubPrivateKey {
	t.Helper()
	k, err := HubKeyErr(name)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// HubKeyErr is HubKey for a test's child process, which has no testing.TB.
func HubKeyErr(name string) (uplink.HubPrivateKey, error) {
	s := key("hub " + name)
	return uplink.NewHubPrivateKey(s[:])
}

// DeviceKey is a fixed device key; other names give other keys.
func DeviceKey(t testing.TB, name string) uplink.DeviceKey {
	t.Helper()
	k, err := DeviceKeyErr(name)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// DeviceKeyErr is DeviceKey for a test's child process.
func DeviceKeyErr(name string) (uplink.DeviceKey, error) {
	s := key("device " + name)
	return uplink.NewDeviceKey(s[:])
}

// Seal makes a valid envelope of a 1×1 8-bit image whose body is bodySize
// bytes from rand (crypto/rand when nil). It opens with uplink.Open but is
// not an image the pipeline can restore.
func Seal(t testing.TB, hub uplink.HubPublicKey, dev uplink.DeviceKey, bodySize int, rand io.Reader) []byte {
	t.Helper()
	env, err := SealErr(hub, dev, bodySize, rand)
	if err != nil {
		t.Fatal(err)
	}
	return env
}

// SealErr is Seal for callers without a testing.TB (a child process).
func SealErr(hub uplink.HubPublicKey, dev uplink.DeviceKey, bodySize int, rnd io.Reader) ([]byte, error) {
	if bodySize < 1 {
		bodySize = 1
	}
	body := make([]byte, bodySize)
	salt := make([]byte, uplink.MinSaltSize)
	kbio := make([]byte, uplink.KBioSize)
	for _, b := range [][]byte{body, salt, kbio} {
		if err := fill(rnd, b); err != nil {
			return nil, err
		}
	}
	c := &uplink.Contents{
		KBio: kbio, Salt: salt, ClinicianID: "test", PayloadBits: 8, PayloadRef: []byte{0x5a},
		Width: 1, Height: 1, Frames: 1, Channels: 1, BitsAllocated: 8, BitsStored: 8,
		Photometric: "MONOCHROME2", ContainerFormat: uplink.ContainerPNG, Body: body,
	}
	h := uplink.Header{Created: 1_700_000_000_000_000_000, Scheme: uplink.SchemeV1}
	return uplink.Seal(h, c, hub, dev, rnd)
}

func fill(r io.Reader, b []byte) error {
	if r == nil {
		return nil // Seal draws the id itself; zero bytes are a valid body and salt.
	}
	_, err := io.ReadFull(r, b)
	return err
}
