package uplink

import (
	"bytes"
	"crypto/ecdh"
	"crypto/ed25519"
	"crypto/hpke"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"edge/internal/fsutil"
)

// PEM block types of the four key files. Each names its owner and its half so
// that a key given in the wrong place is reported as what it is.
const (
	HubPrivateBlock    = "EDGE HUB PRIVATE KEY"
	HubPublicBlock     = "EDGE HUB PUBLIC KEY"
	DevicePrivateBlock = "EDGE DEVICE PRIVATE KEY"
	DevicePublicBlock  = "EDGE DEVICE PUBLIC KEY"
)

// File names WriteKeys uses inside its folder.
const (
	HubKeyFile    = "hub.key"
	HubPubFile    = "hub.pub"
	DeviceKeyFile = "device.key"
	DevicePubFile = "device.pub"
)

// keyFileLimit bounds what is read of a key file: a PEM block of 32 bytes is
// under 100 bytes, so anything near this is not a key file.
const keyFileLimit = 4096

// ErrKeysExist is returned by WriteKeys when a key file is already there and
// overwriting was not asked for: replacing a hub key makes every envelope
// sealed to the old one unreadable.
var ErrKeysExist = errors.New("uplink: key file already exists")

var blockNames = map[string]string{
	HubPrivateBlock:    "the hub's private key",
	HubPublicBlock:     "the hub's public key",
	DevicePrivateBlock: "a device's private key",
	DevicePublicBlock:  "a device's public key",
}

// KeyID is the short name of a public key: the hex of the first 8 bytes of its
// SHA-256. 64 bits keep accidental collisions out of reach for any fleet of
// devices while staying short enough to read aloud.
func KeyID(pub []byte) string {
	sum := sha256.Sum256(pub)
	return hex.EncodeToString(sum[:8])
}

// DeviceID is the id a device's envelopes carry in their header.
func DeviceID(pub ed25519.PublicKey) string { return KeyID(pub) }

// HubPrivateKey is the hub's X25519 key that opens envelopes.
type HubPrivateKey struct {
	ecdh *ecdh.PrivateKey
	kem  hpke.PrivateKey
}

// HubPublicKey is what devices seal envelopes to.
type HubPublicKey struct {
	ecdh *ecdh.PublicKey
	kem  hpke.PublicKey
}

// DeviceKey is a device's Ed25519 signing key.
type DeviceKey struct {
	priv ed25519.PrivateKey
}

// GenerateHubKey makes a hub key pair from 32 bytes of rand (crypto/rand when
// nil). Reading the scalar ourselves, rather than calling
// ecdh.Curve.GenerateKey, keeps the result a function of rand, so tests can
// use fixed keys.
func GenerateHubKey(rand io.Reader) (HubPrivateKey, error) {
	var seed [32]byte
	if err := readRand(rand, seed[:]); err != nil {
		return HubPrivateKey{}, fmt.Errorf("uplink: generate hub key: %w", err)
	}
	defer clear(seed[:])
	return NewHubPrivateKey(seed[:])
}

// NewHubPrivateKey makes a hub key from its 32-byte X25519 scalar.
func NewHubPrivateKey(scalar []byte) (HubPrivateKey, error) {
	k, err := ecdh.X25519().NewPrivateKey(scalar)
	if err != nil {
		return HubPrivateKey{}, fmt.Errorf("uplink: hub private key: %w", err)
	}
	kem, err := hpke.NewDHKEMPrivateKey(k)
	if err != nil {
		return HubPrivateKey{}, fmt.Errorf("uplink: hub private key: %w", err)
	}
	return HubPrivateKey{ecdh: k, kem: kem}, nil
}

// NewHubPublicKey makes a hub public key from its 32 bytes.
func NewHubPublicKey(b []byte) (HubPublicKey, error) {
	k, err := ecdh.X25519().NewPublicKey(b)
	if err != nil {
		return HubPublicKey{}, fmt.Errorf("uplink: hub public key: %w", err)
	}
	kem, err := hpke.NewDHKEMPublicKey(k)
	if err != nil {
		return HubPublicKey{}, fmt.Errorf("uplink: hub public key: %w", err)
	}
	return HubPublicKey{ecdh: k, kem: kem}, nil
}

// Public returns the public half.
func (k HubPrivateKey) Public() HubPublicKey {
	if k.ecdh == nil {
		return HubPublicKey{}
	}
	return HubPublicKey{ecdh: k.ecdh.PublicKey(), kem: k.kem.PublicKey()}
}

// Fingerprint is the KeyID of the public half.
func (k HubPrivateKey) Fingerprint() string { return k.Public().Fingerprint() }

// Bytes returns the 32-byte public key.
func (k HubPublicKey) Bytes() []byte {
	if k.ecdh == nil {
		return nil
	}
	return k.ecdh.Bytes()
}

// Fingerprint is the KeyID of the key; envelopes name the hub key they were
// sealed to with it. It is empty for the zero HubPublicKey.
func (k HubPublicKey) Fingerprint() string {
	if k.ecdh == nil {
		return ""
	}
	return KeyID(k.ecdh.Bytes())
}

// Equal reports whether both are the same key.
func (k HubPublicKey) Equal(o HubPublicKey) bool {
	return k.ecdh != nil && o.ecdh != nil && k.ecdh.Equal(o.ecdh)
}

// GenerateDeviceKey makes a device key from 32 bytes of rand (crypto/rand when nil).
func GenerateDeviceKey(rand io.Reader) (DeviceKey, error) {
	var seed [ed25519.SeedSize]byte
	if err := readRand(rand, seed[:]); err != nil {
		return DeviceKey{}, fmt.Errorf("uplink: generate device key: %w", err)
	}
	defer clear(seed[:])
	return NewDeviceKey(seed[:])
}

// NewDeviceKey makes a device key from its 32-byte Ed25519 seed.
func NewDeviceKey(seed []byte) (DeviceKey, error) {
	if len(seed) != ed25519.SeedSize {
		return DeviceKey{}, fmt.Errorf("uplink: device key seed is %d bytes, want %d", len(seed), ed25519.SeedSize)
	}
	return DeviceKey{priv: ed25519.NewKeyFromSeed(seed)}, nil
}

// Public returns the device's public key.
func (k DeviceKey) Public() ed25519.PublicKey {
	if k.priv == nil {
		return nil
	}
	return k.priv.Public().(ed25519.PublicKey)
}

// ID is the device id, DeviceID of the public key; empty for the zero DeviceKey.
func (k DeviceKey) ID() string {
	if k.priv == nil {
		return ""
	}
	return DeviceID(k.Public())
}

func readRand(r io.Reader, b []byte) error {
	if r == nil {
		r = rand.Reader
	}
	if _, err := io.ReadFull(r, b); err != nil {
		return fmt.Errorf("read %d random bytes: %w", len(b), err)
	}
	return nil
}

// LoadHubPrivateKey reads a hub private key file, which must have mode 0600.
func LoadHubPrivateKey(path string) (HubPrivateKey, error) {
	b, err := loadPrivate(path, HubPrivateBlock)
	if err != nil {
		return HubPrivateKey{}, err
	}
	defer clear(b)
	k, err := NewHubPrivateKey(b)
	if err != nil {
		return HubPrivateKey{}, fmt.Errorf("uplink: %s: %w", path, err)
	}
	return k, nil
}

// LoadHubPublicKey reads a hub public key file.
func LoadHubPublicKey(path string) (HubPublicKey, error) {
	b, err := loadPublic(path, HubPublicBlock)
	if err != nil {
		return HubPublicKey{}, err
	}
	k, err := NewHubPublicKey(b)
	if err != nil {
		return HubPublicKey{}, fmt.Errorf("uplink: %s: %w", path, err)
	}
	return k, nil
}

// LoadDeviceKey reads a device private key file, which must have mode 0600.
func LoadDeviceKey(path string) (DeviceKey, error) {
	b, err := loadPrivate(path, DevicePrivateBlock)
	if err != nil {
		return DeviceKey{}, err
	}
	defer clear(b)
	k, err := NewDeviceKey(b)
	if err != nil {
		return DeviceKey{}, fmt.Errorf("uplink: %s: %w", path, err)
	}
	return k, nil
}

// LoadDevicePublicKey reads a device public key file.
func LoadDevicePublicKey(path string) (ed25519.PublicKey, error) {
	b, err := loadPublic(path, DevicePublicBlock)
	if err != nil {
		return nil, err
	}
	return ed25519.PublicKey(b), nil
}

func loadPrivate(path, want string) ([]byte, error) {
	raw, err := fsutil.ReadPrivate(path, keyFileLimit)
	if err != nil {
		return nil, fmt.Errorf("uplink: load %s: %w", blockNames[want], err)
	}
	defer clear(raw)
	return decodeKeyPEM(path, raw, want)
}

func loadPublic(path, want string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("uplink: load %s: %w", blockNames[want], err)
	}
	defer f.Close()
	raw, err := io.ReadAll(io.LimitReader(f, keyFileLimit+1))
	if err != nil {
		return nil, fmt.Errorf("uplink: read %s: %w", path, err)
	}
	if len(raw) > keyFileLimit {
		return nil, fmt.Errorf("uplink: %s is more than %d bytes, not a key file", path, keyFileLimit)
	}
	return decodeKeyPEM(path, raw, want)
}

// decodeKeyPEM returns the 32 key bytes of the one PEM block of type want in
// raw, and names what it found otherwise.
func decodeKeyPEM(path string, raw []byte, want string) ([]byte, error) {
	blk, rest := pem.Decode(raw)
	if blk == nil {
		return nil, fmt.Errorf("uplink: %s is not a PEM key file (want %s)", path, blockNames[want])
	}
	defer clear(blk.Bytes)
	if blk.Type != want {
		found, ok := blockNames[blk.Type]
		if !ok {
			found = fmt.Sprintf("a %q PEM block", blk.Type)
		}
		return nil, fmt.Errorf("uplink: %s holds %s, want %s", path, found, blockNames[want])
	}
	if len(blk.Headers) != 0 {
		return nil, fmt.Errorf("uplink: %s: unexpected PEM headers in %s block", path, want)
	}
	if len(bytes.TrimSpace(rest)) != 0 {
		return nil, fmt.Errorf("uplink: %s: %d bytes after the %s block", path, len(rest), want)
	}
	if len(blk.Bytes) != 32 {
		return nil, fmt.Errorf("uplink: %s: %s is %d bytes, want 32", path, blockNames[want], len(blk.Bytes))
	}
	return append([]byte(nil), blk.Bytes...), nil
}

// keyFile is one file of a key set.
type keyFile struct {
	path  string
	perm  os.FileMode
	block string
	key   []byte
}

// writeKeySet writes files into dir (made 0700), refusing, before writing
// anything, when a file of the other party's set is there (forbidden) or
// when one of its own exists and overwrite is not set. Without overwrite
// each file is created with link semantics, so two writers racing for one
// set cannot both win: the loser gets ErrKeysExist.
func writeKeySet(dir string, files []keyFile, forbidden []string, overwrite bool) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("uplink: create key folder: %w", err)
	}
	// The lock makes the checks, the removal of stale temporary files and
	// the writes one step for any number of writers.
	l, err := fsutil.LockFile(filepath.Join(dir, ".lock"))
	if err != nil {
		return fmt.Errorf("uplink: %w", err)
	}
	defer l.Unlock()
	for _, n := range forbidden {
		p := filepath.Join(dir, n)
		if _, err := os.Lstat(p); err == nil {
			return fmt.Errorf("%w: %s is there; hub and device key sets are kept in separate folders", ErrMixedKeySet, p)
		}
	}
	if !overwrite {
		for _, f := range files {
			if _, err := os.Lstat(f.path); err == nil {
				return fmt.Errorf("%w: %s", ErrKeysExist, f.path)
			} else if !errors.Is(err, os.ErrNotExist) {
				return fmt.Errorf("uplink: check %s: %w", f.path, err)
			}
		}
	}
	if _, err := fsutil.RemoveStale(dir); err != nil {
		return fmt.Errorf("uplink: %w", err)
	}
	for _, f := range files {
		fill := func(w io.Writer) error { return pem.Encode(w, &pem.Block{Type: f.block, Bytes: f.key}) }
		var err error
		if overwrite {
			err = fsutil.WriteFile(f.path, f.perm, fill)
		} else {
			err = fsutil.WriteNew(f.path, f.perm, fill)
		}
		if errors.Is(err, fsutil.ErrExists) {
			return fmt.Errorf("%w: %s (made by another writer meanwhile)", ErrKeysExist, f.path)
		}
		if err != nil {
			return fmt.Errorf("uplink: write %s: %w", f.path, err)
		}
	}
	return nil
}

// ErrMixedKeySet is returned when a key set would be written where the
// other party's private key lies: a hub key on a device lets one stolen
// device open every envelope.
var ErrMixedKeySet = errors.New("uplink: hub and device keys in one folder")

// WriteHubKeys makes the hub's key pair from rand (crypto/rand when nil)
// and writes it into dir: hub.key (0600) and hub.pub (0644). It refuses a
// folder holding a device key, and existing hub files unless overwrite is
// set. The files are read back before it returns.
func WriteHubKeys(dir string, rand io.Reader, overwrite bool) (HubPrivateKey, error) {
	hub, err := GenerateHubKey(rand)
	if err != nil {
		return HubPrivateKey{}, err
	}
	scalar := hub.ecdh.Bytes()
	defer clear(scalar)
	priv, pub := filepath.Join(dir, HubKeyFile), filepath.Join(dir, HubPubFile)
	err = writeKeySet(dir, []keyFile{
		{priv, 0o600, HubPrivateBlock, scalar},
		{pub, 0o644, HubPublicBlock, hub.Public().Bytes()},
	}, []string{DeviceKeyFile}, overwrite)
	if err != nil {
		return HubPrivateKey{}, err
	}
	h, err := LoadHubPrivateKey(priv)
	if err != nil {
		return HubPrivateKey{}, err
	}
	hp, err := LoadHubPublicKey(pub)
	if err != nil {
		return HubPrivateKey{}, err
	}
	if !h.ecdh.Equal(hub.ecdh) || !hp.Equal(hub.Public()) {
		return HubPrivateKey{}, fmt.Errorf("uplink: hub key files in %s do not read back as written", dir)
	}
	return hub, nil
}

// WriteDeviceKeys makes a device key pair from rand (crypto/rand when nil)
// and writes it into dir: device.key (0600) and device.pub (0644), plus,
// when hubPub is a valid key, hub.pub, the one hub key a device holds. It
// refuses a folder holding hub.key, and existing device files unless
// overwrite is set.
func WriteDeviceKeys(dir string, rand io.Reader, hubPub *HubPublicKey, overwrite bool) (DeviceKey, error) {
	dev, err := GenerateDeviceKey(rand)
	if err != nil {
		return DeviceKey{}, err
	}
	seed := dev.priv.Seed()
	defer clear(seed)
	priv, pub := filepath.Join(dir, DeviceKeyFile), filepath.Join(dir, DevicePubFile)
	files := []keyFile{
		{priv, 0o600, DevicePrivateBlock, seed},
		{pub, 0o644, DevicePublicBlock, dev.Public()},
	}
	if hubPub != nil && hubPub.ecdh != nil {
		files = append(files, keyFile{filepath.Join(dir, HubPubFile), 0o644, HubPublicBlock, hubPub.Bytes()})
	}
	if err := writeKeySet(dir, files, []string{HubKeyFile}, overwrite); err != nil {
		return DeviceKey{}, err
	}
	d, err := LoadDeviceKey(priv)
	if err != nil {
		return DeviceKey{}, err
	}
	dp, err := LoadDevicePublicKey(pub)
	if err != nil {
		return DeviceKey{}, err
	}
	if !d.priv.Equal(dev.priv) || !dp.Equal(dev.Public()) {
		return DeviceKey{}, fmt.Errorf("uplink: device key files in %s do not read back as written", dir)
	}
	return dev, nil
}
