package hub

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"edge/internal/uplink"
)

// Config is hub.json. doc.go documents every key; paths are relative to the
// folder holding the file.
type Config struct {
	Listen         string `json:"listen"`
	TLSCert        string `json:"tls_cert"`
	TLSKey         string `json:"tls_key"`
	HubKey         string `json:"hub_key"`
	TrustedDir     string `json:"trusted_dir"`
	Store          string `json:"store"`
	ClinicianStore string `json:"clinician_store"`
	// AcceptedModels are the hex SHA-256 of the feature models whose
	// envelopes are restored; AllowUnverifiedModels also accepts a zero or
	// unknown model hash (features read from a file: tests and evaluation).
	AcceptedModels        []string     `json:"accepted_models"`
	AllowUnverifiedModels bool         `json:"allow_unverified_models"`
	PACS                  PACSConfig   `json:"pacs"`
	Limits                LimitsConfig `json:"limits"`

	// dir is where the file was read from; paths resolve against it.
	dir string
}

// PACSConfig says where restored DICOM goes: Orthanc's REST API
// (OrthancURL) or DICOM C-STORE to any PACS (DICOMAddress), at most one of
// them; neither forwards nothing.
type PACSConfig struct {
	OrthancURL        string `json:"orthanc_url"`
	Username          string `json:"username"`
	Password          string `json:"password"`
	DICOMAddress      string `json:"dicom_address"`
	CalledAE          string `json:"called_ae"`
	CallingAE         string `json:"calling_ae"`
	ConnectTimeoutSec int    `json:"connect_timeout_seconds"`
	RetryMaxSeconds   int    `json:"retry_max_seconds"`
	RequestTimeoutSec int    `json:"request_timeout_seconds"`
}

// LimitsConfig bounds what a trusted device can make the hub allocate.
type LimitsConfig struct {
	MaxEnvelopeBytes int `json:"max_envelope_bytes"`
	MaxBodyBytes     int `json:"max_body_bytes"`
	MaxDICOMBytes    int `json:"max_dicom_bytes"`
	MaxSamples       int `json:"max_samples"`
	// AbandonedUploadHours is how long an incomplete upload nobody writes
	// to stays on disk; 0 (or absent, in a config from before) is
	// DefaultAbandonedUploadHours.
	AbandonedUploadHours int `json:"abandoned_upload_hours"`
}

// AbandonedUploads is how long an incomplete, untouched upload is kept.
func (l LimitsConfig) AbandonedUploads() time.Duration {
	h := l.AbandonedUploadHours
	if h == 0 {
		h = DefaultAbandonedUploadHours
	}
	return time.Duration(h) * time.Hour
}

// Defaults written by Init. 64 Mi samples hold a 4096×4096 image of four
// frames or a 2048×2048 RGB series of five, far below the 2³⁰ the envelope
// format allows, and keep a hostile but trusted device to about 128 MiB of
// 16-bit samples per envelope in flight.
const (
	DefaultListen           = "127.0.0.1:8443"
	DefaultMaxEnvelopeBytes = 64 << 20
	DefaultMaxDICOMBytes    = 16 << 20
	DefaultMaxSamples       = 64 << 20
	// A week: a device off the network that long resumes by sending the
	// envelope again (see Hub.SweepAbandoned).
	DefaultAbandonedUploadHours = 168
	DefaultRetryMaxSeconds      = 300
	DefaultRequestTimeout       = 60
	DefaultConnectTimeout       = 10
	DefaultCallingAE            = "EDGE_HUB"
	maxConfigBytes              = 1 << 20
)

// DefaultConfig is what Init writes, with every key present.
func DefaultConfig() Config {
	return Config{
		Listen:         DefaultListen,
		TLSCert:        "tls.crt",
		TLSKey:         "tls.key",
		HubKey:         uplink.HubKeyFile,
		TrustedDir:     "trusted",
		AcceptedModels: []string{},
		Store:          "store",
		PACS: PACSConfig{CallingAE: DefaultCallingAE, ConnectTimeoutSec: DefaultConnectTimeout,
			RetryMaxSeconds: DefaultRetryMaxSeconds, RequestTimeoutSec: DefaultRequestTimeout},
		Limits: LimitsConfig{
			MaxEnvelopeBytes: DefaultMaxEnvelopeBytes,
			MaxBodyBytes:     DefaultMaxEnvelopeBytes,
			MaxDICOMBytes:    DefaultMaxDICOMBytes,
			MaxSamples:       DefaultMaxSamples,

			AbandonedUploadHours: DefaultAbandonedUploadHours,
		},
	}
}

// LoadConfig reads and checks hub.json. An unknown key is an error naming it.
func LoadConfig(path string) (*Config, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("hub: config: %w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxConfigBytes+1))
	if err != nil {
		return nil, fmt.Errorf("hub: config %s: %w", path, err)
	}
	if len(b) > maxConfigBytes {
		return nil, fmt.Errorf("hub: config %s is more than %d bytes", path, maxConfigBytes)
	}
	c, err := ParseConfig(b)
	if err != nil {
		return nil, fmt.Errorf("hub: config %s: %w", path, err)
	}
	abs, err := filepath.Abs(filepath.Dir(path))
	if err != nil {
		return nil, fmt.Errorf("hub: config %s: %w", path, err)
	}
	c.dir = abs
	return c, nil
}

// ParseConfig decodes and checks the bytes of a hub.json.
func ParseConfig(b []byte) (*Config, error) {
	d := json.NewDecoder(bytes.NewReader(b))
	d.DisallowUnknownFields()
	var c Config
	if err := d.Decode(&c); err != nil {
		// encoding/json says `json: unknown field "x"`; keep the name, drop the package.
		return nil, errors.New(strings.TrimPrefix(err.Error(), "json: "))
	}
	if d.More() {
		return nil, errors.New("data after the config object")
	}
	if err := c.check(); err != nil {
		return nil, err
	}
	return &c, nil
}

func (c *Config) check() error {
	for _, f := range []struct{ key, v string }{
		{"listen", c.Listen}, {"tls_cert", c.TLSCert}, {"tls_key", c.TLSKey},
		{"hub_key", c.HubKey}, {"trusted_dir", c.TrustedDir}, {"store", c.Store},
	} {
		if f.v == "" {
			return fmt.Errorf("%q is empty", f.key)
		}
	}
	l := c.Limits
	for _, f := range []struct {
		key string
		v   int
	}{
		{"limits.max_envelope_bytes", l.MaxEnvelopeBytes}, {"limits.max_body_bytes", l.MaxBodyBytes},
		{"limits.max_dicom_bytes", l.MaxDICOMBytes}, {"limits.max_samples", l.MaxSamples},
		{"pacs.retry_max_seconds", c.PACS.RetryMaxSeconds}, {"pacs.request_timeout_seconds", c.PACS.RequestTimeoutSec},
	} {
		if f.v <= 0 {
			return fmt.Errorf("%q is %d, want a positive number", f.key, f.v)
		}
	}
	if l.AbandonedUploadHours < 0 {
		return fmt.Errorf(`"limits.abandoned_upload_hours" is %d, want 0 (the default, %d) or more`, l.AbandonedUploadHours, DefaultAbandonedUploadHours)
	}
	if l.MaxEnvelopeBytes > uplink.DefaultMaxEnvelope {
		return fmt.Errorf(`"limits.max_envelope_bytes" is %d, more than the format's %d`, l.MaxEnvelopeBytes, uplink.DefaultMaxEnvelope)
	}
	if l.MaxSamples > uplink.MaxSamples {
		return fmt.Errorf(`"limits.max_samples" is %d, more than the format's %d`, l.MaxSamples, uplink.MaxSamples)
	}
	if _, err := c.Models(); err != nil {
		return err
	}
	if u := c.PACS.OrthancURL; u != "" && !strings.HasPrefix(u, "http://") && !strings.HasPrefix(u, "https://") {
		return fmt.Errorf(`"pacs.orthanc_url" %q is not an http or https URL`, u)
	}
	return c.PACS.checkDICOM()
}

// checkDICOM checks the C-STORE keys. connect_timeout_seconds may be absent
// (0, a hub.json from before the key) and then means the default.
func (p *PACSConfig) checkDICOM() error {
	if p.ConnectTimeoutSec < 0 {
		return fmt.Errorf(`"pacs.connect_timeout_seconds" is %d, want a positive number`, p.ConnectTimeoutSec)
	}
	if p.DICOMAddress == "" {
		return nil
	}
	if p.OrthancURL != "" {
		return errors.New(`both "pacs.orthanc_url" and "pacs.dicom_address" are set; forward through one of them`)
	}
	host, port, err := net.SplitHostPort(p.DICOMAddress)
	if n, perr := strconv.Atoi(port); err != nil || host == "" || perr != nil || n < 1 || n > 65535 {
		return fmt.Errorf(`"pacs.dicom_address" %q is not HOST:PORT`, p.DICOMAddress)
	}
	for _, f := range []struct{ key, v string }{{"pacs.called_ae", p.CalledAE}, {"pacs.calling_ae", p.CallingAE}} {
		if err := checkAE(f.v); err != nil {
			return fmt.Errorf("%q %q: %w", f.key, f.v, err)
		}
	}
	return nil
}

// checkAE checks an AE title: 1 to 16 characters of printable ASCII other
// than backslash, not only spaces (PS3.5 6.2).
func checkAE(ae string) error {
	if strings.TrimSpace(ae) == "" || len(ae) > 16 {
		return errors.New("want an AE title of 1 to 16 characters")
	}
	for i := 0; i < len(ae); i++ {
		if c := ae[i]; c < 0x20 || c > 0x7e || c == '\\' {
			return fmt.Errorf("character %q is not allowed in an AE title", c)
		}
	}
	return nil
}

// Models decodes accepted_models.
func (c *Config) Models() ([][32]byte, error) {
	out := make([][32]byte, 0, len(c.AcceptedModels))
	for i, h := range c.AcceptedModels {
		b, err := hex.DecodeString(h)
		if err != nil || len(b) != 32 {
			return nil, fmt.Errorf(`"accepted_models"[%d] %q is not a hex SHA-256`, i, h)
		}
		out = append(out, [32]byte(b))
	}
	return out, nil
}

// UplinkLimits is the Limits the hub opens envelopes with.
func (c *Config) UplinkLimits() uplink.Limits {
	return uplink.Limits{
		MaxEnvelope: c.Limits.MaxEnvelopeBytes,
		MaxBody:     c.Limits.MaxBodyBytes,
		MaxDICOM:    c.Limits.MaxDICOMBytes,
		MaxSamples:  c.Limits.MaxSamples,
	}
}

// Path resolves a path of the config against its folder.
func (c *Config) Path(p string) string {
	if p == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(c.dir, p)
}

// Dir is the folder of the config file.
func (c *Config) Dir() string { return c.dir }
