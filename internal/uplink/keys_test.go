package uplink

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestWriteKeysAndLoad(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "keys")
	hub, dev, err := WriteKeys(dir, nil, false)
	if err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	if m := st.Mode().Perm(); m != 0o700 {
		t.Errorf("key folder mode %04o, want 0700", m)
	}
	for name, want := range map[string]os.FileMode{HubKeyFile: 0o600, DeviceKeyFile: 0o600, HubPubFile: 0o644, DevicePubFile: 0o644} {
		st, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if m := st.Mode().Perm(); m != want {
			t.Errorf("%s mode %04o, want %04o", name, m, want)
		}
	}
	h, err := LoadHubPrivateKey(filepath.Join(dir, HubKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	hp, err := LoadHubPublicKey(filepath.Join(dir, HubPubFile))
	if err != nil {
		t.Fatal(err)
	}
	d, err := LoadDeviceKey(filepath.Join(dir, DeviceKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	dp, err := LoadDevicePublicKey(filepath.Join(dir, DevicePubFile))
	if err != nil {
		t.Fatal(err)
	}
	if h.Fingerprint() != hub.Fingerprint() || !hp.Equal(hub.Public()) || d.ID() != dev.ID() || DeviceID(dp) != dev.ID() {
		t.Fatal("loaded keys differ from the written ones")
	}
	// The loaded keys work together.
	env, err := Seal(testHeader(), testContents(10, ContainerPNG), hp, d, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := Open(env, h, TrustDevices(dp), Limits{}); err != nil {
		t.Fatal(err)
	}
	pem, err := os.ReadFile(filepath.Join(dir, HubPubFile))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(pem, []byte("-----BEGIN EDGE HUB PUBLIC KEY-----\n")) {
		t.Errorf("hub.pub starts %q", pem[:min(len(pem), 40)])
	}
}

func TestWriteKeysRefusesOverwrite(t *testing.T) {
	dir := t.TempDir()
	hub, _, err := WriteKeys(dir, nil, false)
	if err != nil {
		t.Fatal(err)
	}
	before, err := os.ReadFile(filepath.Join(dir, HubKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := WriteKeys(dir, nil, false); !errors.Is(err, ErrKeysExist) || !strings.Contains(err.Error(), HubKeyFile) {
		t.Fatalf("second WriteKeys: %v, want ErrKeysExist naming %s", err, HubKeyFile)
	}
	after, err := os.ReadFile(filepath.Join(dir, HubKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(before, after) {
		t.Fatal("refused WriteKeys changed hub.key")
	}
	// One file of the four is enough to refuse.
	dir2 := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir2, DevicePubFile), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, err := WriteKeys(dir2, nil, false); !errors.Is(err, ErrKeysExist) {
		t.Fatalf("WriteKeys over device.pub alone: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir2, HubKeyFile)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("refused WriteKeys wrote hub.key: %v", err)
	}
	hub2, _, err := WriteKeys(dir, nil, true)
	if err != nil {
		t.Fatal(err)
	}
	if hub2.Fingerprint() == hub.Fingerprint() {
		t.Fatal("overwrite kept the old hub key")
	}
}

func TestGenerateKeysDeterministic(t *testing.T) {
	seed := bytes.Repeat([]byte{3}, 32)
	a, err := GenerateHubKey(bytes.NewReader(seed))
	if err != nil {
		t.Fatal(err)
	}
	b, err := NewHubPrivateKey(seed)
	if err != nil {
		t.Fatal(err)
	}
	if a.Fingerprint() != b.Fingerprint() || len(a.Fingerprint()) != 16 {
		t.Fatalf("fingerprints %q and %q", a.Fingerprint(), b.Fingerprint())
	}
	if _, err := GenerateHubKey(bytes.NewReader(seed[:31])); err == nil {
		t.Fatal("hub key from 31 random bytes: no error")
	}
	if _, err := GenerateDeviceKey(bytes.NewReader(seed[:5])); err == nil {
		t.Fatal("device key from 5 random bytes: no error")
	}
}

func TestLoadKeyErrors(t *testing.T) {
	dir := t.TempDir()
	if _, _, err := WriteKeys(dir, nil, false); err != nil {
		t.Fatal(err)
	}
	p := func(n string) string { return filepath.Join(dir, n) }
	write := func(name, content string, perm os.FileMode) string {
		path := p(name)
		if err := os.WriteFile(path, []byte(content), perm); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(path, perm); err != nil {
			t.Fatal(err)
		}
		return path
	}
	// A private key copied with the wrong mode.
	raw, err := os.ReadFile(p(HubKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	loose := write("loose.key", string(raw), 0o644)
	// The public key where the private one belongs, with a private file's mode.
	pubAsPriv := write("pub-as-priv.key", string(mustRead(t, p(HubPubFile))), 0o600)
	garbage := write("garbage.key", "not a key\n", 0o600)
	pkcs8 := write("pkcs8.key", "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n", 0o600)
	short := write("short.pub", "-----BEGIN EDGE HUB PUBLIC KEY-----\nAAAA\n-----END EDGE HUB PUBLIC KEY-----\n", 0o644)
	trailing := write("trailing.pub", string(mustRead(t, p(HubPubFile)))+"extra", 0o644)
	big := write("big.pub", strings.Repeat("A", keyFileLimit+1), 0o644)

	tests := []struct {
		name string
		load func(string) error
		path string
		msg  string
	}{
		{"mode 0644", loadHub, loose, "mode 0644"},
		{"missing", loadHub, p("nope.key"), "no such file"},
		{"hub public as hub private", loadHub, pubAsPriv, "holds the hub's public key, want the hub's private key"},
		{"device private as hub private", loadHub, p(DeviceKeyFile), "holds a device's private key, want the hub's private key"},
		{"hub private as device private", loadDevice, p(HubKeyFile), "holds the hub's private key, want a device's private key"},
		{"device public as hub public", loadHubPub, p(DevicePubFile), "holds a device's public key, want the hub's public key"},
		{"hub public as device public", loadDevicePub, p(HubPubFile), "holds the hub's public key, want a device's public key"},
		{"hub private as hub public", loadHubPub, p(HubKeyFile), "holds the hub's private key, want the hub's public key"},
		{"not PEM", loadHub, garbage, "is not a PEM key file"},
		{"foreign PEM", loadDevice, pkcs8, `holds a "PRIVATE KEY" PEM block`},
		{"short key", loadHubPub, short, "is 3 bytes, want 32"},
		{"trailing data", loadHubPub, trailing, "bytes after the"},
		{"too big", loadHubPub, big, "not a key file"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.load(tc.path)
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.HasPrefix(err.Error(), "uplink: ") || !strings.Contains(err.Error(), tc.msg) || !strings.Contains(err.Error(), filepath.Base(tc.path)) {
				t.Fatalf("error %q: want uplink: …, naming %s and saying %q", err, filepath.Base(tc.path), tc.msg)
			}
		})
	}
}

func loadHub(p string) error       { _, err := LoadHubPrivateKey(p); return err }
func loadHubPub(p string) error    { _, err := LoadHubPublicKey(p); return err }
func loadDevice(p string) error    { _, err := LoadDeviceKey(p); return err }
func loadDevicePub(p string) error { _, err := LoadDevicePublicKey(p); return err }

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
