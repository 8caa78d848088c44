package uplink

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// writeBoth makes a hub set in dir/hub and a device set in dir/device.
func writeBoth(t *testing.T, dir string) (HubPrivateKey, DeviceKey) {
	t.Helper()
	hub, err := WriteHubKeys(filepath.Join(dir, "hub"), nil, false)
	if err != nil {
		t.Fatal(err)
	}
	pub := hub.Public()
	dev, err := WriteDeviceKeys(filepath.Join(dir, "device"), nil, &pub, false)
	if err != nil {
		t.Fatal(err)
	}
	return hub, dev
}

func TestWriteKeysAndLoad(t *testing.T) {
	root := filepath.Join(t.TempDir(), "keys")
	hub, dev := writeBoth(t, root)
	hubDir, devDir := filepath.Join(root, "hub"), filepath.Join(root, "device")
	for _, dir := range []string{hubDir, devDir} {
		st, err := os.Stat(dir)
		if err != nil {
			t.Fatal(err)
		}
		if m := st.Mode().Perm(); m != 0o700 {
			t.Errorf("key folder mode %04o, want 0700", m)
		}
	}
	for path, want := range map[string]os.FileMode{
		filepath.Join(hubDir, HubKeyFile): 0o600, filepath.Join(hubDir, HubPubFile): 0o644,
		filepath.Join(devDir, DeviceKeyFile): 0o600, filepath.Join(devDir, DevicePubFile): 0o644, filepath.Join(devDir, HubPubFile): 0o644,
	} {
		st, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if m := st.Mode().Perm(); m != want {
			t.Errorf("%s mode %04o, want %04o", path, m, want)
		}
	}
	if _, err := os.Stat(filepath.Join(devDir, HubKeyFile)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the device set holds hub.key: %v", err)
	}
	h, err := LoadHubPrivateKey(filepath.Join(hubDir, HubKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	hp, err := LoadHubPublicKey(filepath.Join(devDir, HubPubFile))
	if err != nil {
		t.Fatal(err)
	}
	d, err := LoadDeviceKey(filepath.Join(devDir, DeviceKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	dp, err := LoadDevicePublicKey(filepath.Join(devDir, DevicePubFile))
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
	pem, err := os.ReadFile(filepath.Join(hubDir, HubPubFile))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(pem, []byte("-----BEGIN EDGE HUB PUBLIC KEY-----\n")) {
		t.Errorf("hub.pub starts %q", pem[:min(len(pem), 40)])
	}
}

func TestKeySetsStayApart(t *testing.T) {
	dir := t.TempDir()
	if _, err := WriteHubKeys(dir, nil, false); err != nil {
		t.Fatal(err)
	}
	if _, err := WriteDeviceKeys(dir, nil, nil, false); !errors.Is(err, ErrMixedKeySet) {
		t.Errorf("device set beside hub.key: %v, want ErrMixedKeySet", err)
	}
	if _, err := WriteDeviceKeys(dir, nil, nil, true); !errors.Is(err, ErrMixedKeySet) {
		t.Errorf("device set beside hub.key with overwrite: %v, want ErrMixedKeySet", err)
	}
	dir2 := t.TempDir()
	if _, err := WriteDeviceKeys(dir2, nil, nil, false); err != nil {
		t.Fatal(err)
	}
	if _, err := WriteHubKeys(dir2, nil, false); !errors.Is(err, ErrMixedKeySet) {
		t.Errorf("hub set beside device.key: %v, want ErrMixedKeySet", err)
	}
}

func TestWriteKeysRefusesOverwrite(t *testing.T) {
	dir := t.TempDir()
	hub, err := WriteHubKeys(dir, nil, false)
	if err != nil {
		t.Fatal(err)
	}
	before := mustRead(t, filepath.Join(dir, HubKeyFile))
	if _, err := WriteHubKeys(dir, nil, false); !errors.Is(err, ErrKeysExist) || !strings.Contains(err.Error(), HubKeyFile) {
		t.Fatalf("second WriteHubKeys: %v, want ErrKeysExist naming %s", err, HubKeyFile)
	}
	if !bytes.Equal(before, mustRead(t, filepath.Join(dir, HubKeyFile))) {
		t.Fatal("refused WriteHubKeys changed hub.key")
	}
	// One file of the set is enough to refuse.
	dir2 := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir2, DevicePubFile), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := WriteDeviceKeys(dir2, nil, nil, false); !errors.Is(err, ErrKeysExist) {
		t.Fatalf("WriteDeviceKeys over device.pub alone: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir2, DeviceKeyFile)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("refused WriteDeviceKeys wrote device.key: %v", err)
	}
	hub2, err := WriteHubKeys(dir, nil, true)
	if err != nil {
		t.Fatal(err)
	}
	if hub2.Fingerprint() == hub.Fingerprint() {
		t.Fatal("overwrite kept the old hub key")
	}
}

// TestWriteKeysRace: of writers racing to make one hub set, exactly one
// wins, and the set on disk is the winner's, whole.
func TestWriteKeysRace(t *testing.T) {
	for round := range 10 {
		dir := filepath.Join(t.TempDir(), fmt.Sprint(round))
		var wg sync.WaitGroup
		keys := make([]HubPrivateKey, 4)
		errs := make([]error, 4)
		for k := range 4 {
			wg.Go(func() { keys[k], errs[k] = WriteHubKeys(dir, nil, false) })
		}
		wg.Wait()
		won := -1
		for k, err := range errs {
			switch {
			case err == nil:
				if won >= 0 {
					t.Fatalf("round %d: writers %d and %d both won", round, won, k)
				}
				won = k
			case !errors.Is(err, ErrKeysExist):
				t.Fatalf("round %d: %v", round, err)
			}
		}
		if won < 0 {
			t.Fatalf("round %d: nobody won", round)
		}
		h, err := LoadHubPrivateKey(filepath.Join(dir, HubKeyFile))
		if err != nil || h.Fingerprint() != keys[won].Fingerprint() {
			t.Fatalf("round %d: hub.key on disk is not the winner's: %v", round, err)
		}
	}
}

func TestDevicesAddRefusesCollision(t *testing.T) {
	a, _ := GenerateDeviceKey(bytes.NewReader(bytes.Repeat([]byte{1}, 32)))
	b, _ := GenerateDeviceKey(bytes.NewReader(bytes.Repeat([]byte{2}, 32)))
	d := Devices{}
	id, err := d.Add(a.Public())
	if err != nil || id != a.ID() {
		t.Fatal(id, err)
	}
	if _, err := d.Add(a.Public()); err != nil {
		t.Errorf("adding the same key again: %v", err)
	}
	// A 64-bit collision cannot be made on purpose here; put b's key under
	// a's id, as a colliding key would land.
	d2 := Devices{a.ID(): b.Public()}
	if _, err := d2.Add(a.Public()); !errors.Is(err, ErrDeviceIDCollision) {
		t.Errorf("colliding id: %v, want ErrDeviceIDCollision", err)
	}
	if k, _ := d2.DeviceKey(a.ID()); !k.Equal(b.Public()) {
		t.Error("the colliding key replaced the trusted one")
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
	writeBoth(t, dir)
	p := func(n string) string {
		switch n {
		case HubKeyFile, HubPubFile:
			return filepath.Join(dir, "hub", n)
		case DeviceKeyFile, DevicePubFile:
			return filepath.Join(dir, "device", n)
		}
		return filepath.Join(dir, n)
	}
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
