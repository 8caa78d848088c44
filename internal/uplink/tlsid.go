package uplink

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"time"
)

// A device proves who it is to the hub with a TLS client certificate made
// from its envelope signing key, so the hub's trusted list is the one list of
// device keys for both: an unknown key cannot finish the handshake, let alone
// start an upload. The certificate is self-signed and carries nothing the hub
// trusts but its public key; its subject and dates are for people reading logs.

// TLSCertificate makes a self-signed client certificate for the device key,
// valid from a day before now for 20 years (boards without a clock boot in
// 1970, and the hub trusts the key, not the dates).
func (k DeviceKey) TLSCertificate(now time.Time) (tls.Certificate, error) {
	if k.priv == nil {
		return tls.Certificate{}, errors.New("uplink: tls certificate: no device key")
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "edge device " + k.ID()},
		NotBefore:    now.Add(-24 * time.Hour),
		NotAfter:     now.AddDate(20, 0, 0),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, k.Public(), k.priv)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("uplink: tls certificate for device %s: %w", k.ID(), err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("uplink: tls certificate for device %s: %w", k.ID(), err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: k.priv, Leaf: leaf}, nil
}

// SPKIPin is the hex SHA-256 of a certificate's SubjectPublicKeyInfo: what a
// device pins of its hub, unchanged when the certificate is renewed with the
// same key.
func SPKIPin(cert *x509.Certificate) string {
	sum := sha256.Sum256(cert.RawSubjectPublicKeyInfo)
	return hex.EncodeToString(sum[:])
}

// CheckPin parses a pin given in a config or on a command line.
func CheckPin(pin string) (string, error) {
	p := strings.ToLower(strings.TrimSpace(pin))
	if b, err := hex.DecodeString(p); err != nil || len(b) != sha256.Size {
		return "", fmt.Errorf("uplink: certificate pin %q is not 64 hex digits (SHA-256 of the SubjectPublicKeyInfo)", pin)
	}
	return p, nil
}

// PeerDevice returns the device id and key of a client certificate, checked
// against trusted: the key must be Ed25519 and its id trusted with that very
// key. It is the whole of the hub's client authentication.
func PeerDevice(cert *x509.Certificate, trusted Trust) (string, ed25519.PublicKey, error) {
	pub, ok := cert.PublicKey.(ed25519.PublicKey)
	if !ok {
		return "", nil, fmt.Errorf("uplink: client certificate key is %T, want an Ed25519 device key", cert.PublicKey)
	}
	id := DeviceID(pub)
	want, ok := trusted.DeviceKey(id)
	if !ok || !want.Equal(pub) {
		return "", nil, fmt.Errorf("%w %q (client certificate)", ErrUnknownDevice, id)
	}
	if err := cert.CheckSignature(cert.SignatureAlgorithm, cert.RawTBSCertificate, cert.Signature); err != nil {
		return "", nil, fmt.Errorf("uplink: client certificate of device %q is not signed by its key: %w", id, err)
	}
	return id, pub, nil
}
