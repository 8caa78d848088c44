package hub

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"edge/internal/fsutil"
	"edge/internal/uplink"
)

// ConfigFile is the name Init gives the config in its folder.
const ConfigFile = "hub.json"

// InitOptions are what `edge hub init` takes besides the folder.
type InitOptions struct {
	Listen  string // default DefaultListen
	PACSURL string // Orthanc's REST URL; empty forwards nothing
	// PACSDICOM is a PACS to forward to by C-STORE, as CALLED_AE@HOST:PORT;
	// at most one of it and PACSURL.
	PACSDICOM string
	// AllowUnverifiedModels sets allow_unverified_models (tests, evaluation).
	AllowUnverifiedModels bool
	Now                   func() time.Time
}

// Init makes a working hub folder: hub.json with every key, the hub's HPKE
// key pair, a TLS key with a self-signed certificate, and empty trusted/ and
// store/ folders. It refuses a folder that already has any of these files, so
// a hub key (without which no envelope sealed to it opens) is never replaced.
// It returns the certificate's SPKI pin for the devices' config.
func Init(dir string, opt InitOptions) (pin string, err error) {
	if opt.Now == nil {
		opt.Now = time.Now
	}
	c := DefaultConfig()
	if opt.Listen != "" {
		c.Listen = opt.Listen
	}
	c.PACS.OrthancURL = opt.PACSURL
	if opt.PACSDICOM != "" {
		ae, addr, ok := strings.Cut(opt.PACSDICOM, "@")
		if !ok {
			return "", fmt.Errorf("hub: init: PACS %q is not CALLED_AE@HOST:PORT", opt.PACSDICOM)
		}
		c.PACS.CalledAE, c.PACS.DICOMAddress = ae, addr
	}
	c.AllowUnverifiedModels = opt.AllowUnverifiedModels
	if err := c.check(); err != nil {
		return "", fmt.Errorf("hub: init: %w", err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("hub: init: %w", err)
	}
	files := []string{ConfigFile, c.HubKey, uplink.HubPubFile, c.TLSKey, c.TLSCert}
	for _, f := range files {
		p := filepath.Join(dir, f)
		if _, err := os.Lstat(p); err == nil {
			return "", fmt.Errorf("hub: init: %s exists; refusing to replace a hub's keys", p)
		} else if !errors.Is(err, os.ErrNotExist) {
			return "", fmt.Errorf("hub: init: %w", err)
		}
	}
	for _, d := range []string{c.TrustedDir, c.Store} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o700); err != nil {
			return "", fmt.Errorf("hub: init: %w", err)
		}
	}
	if err := writeHubKey(filepath.Join(dir, c.HubKey), filepath.Join(dir, uplink.HubPubFile)); err != nil {
		return "", err
	}
	pin, err = writeTLS(filepath.Join(dir, c.TLSKey), filepath.Join(dir, c.TLSCert), c.Listen, opt.Now())
	if err != nil {
		return "", err
	}
	b, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return "", fmt.Errorf("hub: init: %w", err)
	}
	if err := fsutil.WriteFile(filepath.Join(dir, ConfigFile), 0o600, func(w io.Writer) error {
		_, err := w.Write(append(b, '\n'))
		return err
	}); err != nil {
		return "", err
	}
	return pin, nil
}

// writeHubKey makes the hub's X25519 pair. The hub key set is made apart
// from any device's, so the hub's private key never sits beside a device key.
func writeHubKey(keyPath, pubPath string) error {
	var scalar [32]byte
	if _, err := rand.Read(scalar[:]); err != nil {
		return fmt.Errorf("hub: init: hub key: %w", err)
	}
	defer clear(scalar[:])
	k, err := uplink.NewHubPrivateKey(scalar[:])
	if err != nil {
		return fmt.Errorf("hub: init: %w", err)
	}
	for _, f := range []struct {
		path, block string
		perm        os.FileMode
		b           []byte
	}{
		{keyPath, uplink.HubPrivateBlock, 0o600, scalar[:]},
		{pubPath, uplink.HubPublicBlock, 0o644, k.Public().Bytes()},
	} {
		if err := fsutil.WriteFile(f.path, f.perm, func(w io.Writer) error {
			return pem.Encode(w, &pem.Block{Type: f.block, Bytes: f.b})
		}); err != nil {
			return fmt.Errorf("hub: init: %w", err)
		}
	}
	back, err := uplink.LoadHubPrivateKey(keyPath)
	if err != nil {
		return fmt.Errorf("hub: init: %w", err)
	}
	if back.Fingerprint() != k.Fingerprint() {
		return fmt.Errorf("hub: init: %s does not read back as written", keyPath)
	}
	return nil
}

// writeTLS makes an ECDSA P-256 key and a self-signed certificate for the
// loopback names and the host in listen. Devices pin the key, not a CA, so
// the names are for other clients (a browser on /healthz).
func writeTLS(keyPath, certPath, listen string, now time.Time) (string, error) {
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return "", fmt.Errorf("hub: init: tls key: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return "", fmt.Errorf("hub: init: tls serial: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: "edge hub"},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.AddDate(10, 0, 0),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames:     []string{"localhost"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
	}
	if h, _, err := net.SplitHostPort(listen); err == nil && h != "" {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else if !strings.EqualFold(h, "localhost") {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	if hn, err := os.Hostname(); err == nil && hn != "" && !strings.EqualFold(hn, "localhost") {
		tmpl.DNSNames = append(tmpl.DNSNames, hn)
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &priv.PublicKey, priv)
	if err != nil {
		return "", fmt.Errorf("hub: init: tls certificate: %w", err)
	}
	pk, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return "", fmt.Errorf("hub: init: tls key: %w", err)
	}
	defer clear(pk)
	if err := fsutil.WriteFile(keyPath, 0o600, func(w io.Writer) error {
		return pem.Encode(w, &pem.Block{Type: "PRIVATE KEY", Bytes: pk})
	}); err != nil {
		return "", fmt.Errorf("hub: init: %w", err)
	}
	if err := fsutil.WriteFile(certPath, 0o644, func(w io.Writer) error {
		return pem.Encode(w, &pem.Block{Type: "CERTIFICATE", Bytes: der})
	}); err != nil {
		return "", fmt.Errorf("hub: init: %w", err)
	}
	cert, err := loadTLS(certPath, keyPath)
	if err != nil {
		return "", err
	}
	return uplink.SPKIPin(cert.Leaf), nil
}

// loadTLS loads the hub's TLS pair, refusing a key others can read.
func loadTLS(certPath, keyPath string) (tls.Certificate, error) {
	key, err := fsutil.ReadPrivate(keyPath, 1<<16)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("hub: tls key: %w", err)
	}
	defer clear(key)
	crt, err := os.ReadFile(certPath)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("hub: tls certificate: %w", err)
	}
	c, err := tls.X509KeyPair(crt, key)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("hub: tls pair %s, %s: %w", certPath, keyPath, err)
	}
	return c, nil
}

// Pin returns the SPKI pin of the certificate a hub's config names.
func Pin(c *Config) (string, error) {
	cert, err := loadTLS(c.Path(c.TLSCert), c.Path(c.TLSKey))
	if err != nil {
		return "", err
	}
	return uplink.SPKIPin(cert.Leaf), nil
}

// Trust adds device public keys to the hub's trusted folder, each as
// DEVICEID.pub, and returns their device ids. A running hub picks them up on
// the next connection.
func Trust(c *Config, pubPaths ...string) ([]string, error) {
	dir := c.Path(c.TrustedDir)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("hub: trust: %w", err)
	}
	var ids []string
	for _, p := range pubPaths {
		pub, err := uplink.LoadDevicePublicKey(p)
		if err != nil {
			return ids, fmt.Errorf("hub: trust: %w", err)
		}
		id := uplink.DeviceID(pub)
		if err := fsutil.WriteFile(filepath.Join(dir, id+".pub"), 0o644, func(w io.Writer) error {
			return pem.Encode(w, &pem.Block{Type: uplink.DevicePublicBlock, Bytes: pub})
		}); err != nil {
			return ids, fmt.Errorf("hub: trust: %w", err)
		}
		ids = append(ids, id)
	}
	return ids, nil
}
