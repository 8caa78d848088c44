package hub_test

import (
	"io"
	"os"
	"path/filepath"

	"edge/internal/biometric"
	"edge/internal/uplink"
)

// identity is a clinician identity from a feature file's features, as the
// evaluation makes: its envelopes carry a zero model hash, which these
// tests' hubs are configured to accept.
func identity(seed uint64, id string) *biometric.Identity {
	ident, err := biometric.FileIdentity(id, &biometric.Secret{byte(seed), 0x5e}, nil, features(seed))
	if err != nil {
		panic(err)
	}
	return ident
}

// writeKeysTogether makes a device key set in dir and puts the hub's
// private key beside it: a test needs both sides, a real install never has
// them in one folder.
func writeKeysTogether(dir string, r io.Reader, overwrite bool) (uplink.HubPrivateKey, uplink.DeviceKey, error) {
	hubDir := filepath.Join(dir, "hub-set")
	if err := os.MkdirAll(hubDir, 0o700); err != nil {
		return uplink.HubPrivateKey{}, uplink.DeviceKey{}, err
	}
	hk, err := uplink.WriteHubKeys(hubDir, r, overwrite)
	if err != nil {
		return uplink.HubPrivateKey{}, uplink.DeviceKey{}, err
	}
	pub := hk.Public()
	dev, err := uplink.WriteDeviceKeys(dir, r, &pub, overwrite)
	if err != nil {
		return uplink.HubPrivateKey{}, uplink.DeviceKey{}, err
	}
	b, err := os.ReadFile(filepath.Join(hubDir, uplink.HubKeyFile))
	if err != nil {
		return uplink.HubPrivateKey{}, uplink.DeviceKey{}, err
	}
	return hk, dev, os.WriteFile(filepath.Join(dir, uplink.HubKeyFile), b, 0o600)
}
