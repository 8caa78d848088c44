package appliance

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"edge/internal/protect"
	"edge/internal/sensor"
	"edge/internal/uplink"
)

// Config is edge.json; doc.go lists every key. Relative paths are relative
// to the folder holding the file.
type Config struct {
	Board     string   `json:"board"`
	StateDir  string   `json:"state_dir"`
	Keys      string   `json:"keys"`
	DeviceKey string   `json:"device_key"`
	HubPub    string   `json:"hub_pub"`
	Store     string   `json:"store"`
	StoreKey  string   `json:"store_key"`
	Model     string   `json:"model"`
	ORTLib    string   `json:"ort_lib"`
	Providers []string `json:"providers"`
	Scheme    string   `json:"scheme"`

	Sensor   SensorConfig   `json:"sensor"`
	Session  SessionConfig  `json:"session"`
	Modality ModalityConfig `json:"modality"`
	Watch    WatchConfig    `json:"watch"`
	Uplink   UplinkConfig   `json:"uplink"`
	Outbox   OutboxConfig   `json:"outbox"`
	Status   StatusConfig   `json:"status"`
	Clock    ClockConfig    `json:"clock"`
	Log      LogConfig      `json:"log"`

	dir string
}

// SensorConfig is the fingerprint module's line; empty fields take the
// board profile's, then the driver's defaults.
type SensorConfig struct {
	Port     string `json:"port"`
	Baud     int    `json:"baud"`
	MaxBaud  int    `json:"max_baud"`
	Address  string `json:"address"`
	Password string `json:"password"`
}

// SessionConfig bounds a clinician's session.
type SessionConfig struct {
	IdleTimeoutSeconds int   `json:"idle_timeout_seconds"`
	TouchLogout        *bool `json:"touch_logout"`
}

// ModalityConfig is the DICOM C-STORE provider.
type ModalityConfig struct {
	Listen          string   `json:"listen"`
	AETitle         string   `json:"ae_title"`
	AllowCallingAE  []string `json:"allow_calling_ae"`
	AllowSources    []string `json:"allow_sources"`
	MaxAssociations int      `json:"max_associations"`
	MaxObjectBytes  int64    `json:"max_object_bytes"`
}

// WatchConfig is the watch folder.
type WatchConfig struct {
	In            string  `json:"in"`
	SettleSeconds float64 `json:"settle_seconds"`
}

// UplinkConfig is the hub the outbox drains to.
type UplinkConfig struct {
	Hub      string `json:"hub"`
	Pin      string `json:"pin"`
	RateBits int64  `json:"rate_bits"`
	Parallel int    `json:"parallel"`
}

// OutboxConfig is the outbox's quota.
type OutboxConfig struct {
	MaxBytes int64 `json:"max_bytes"`
	MaxCount int   `json:"max_count"`
}

// StatusConfig is the bedside status page.
type StatusConfig struct {
	Listen   string `json:"listen"`
	Password string `json:"password"`
}

// ClockConfig says what a sane clock is.
type ClockConfig struct {
	NotBefore string `json:"not_before"`
}

// LogConfig sets the log's level and form.
type LogConfig struct {
	Level  string `json:"level"`
	Format string `json:"format"`
}

// Defaults for keys left out.
const (
	DefaultIdleTimeout  = 10 * time.Minute
	DefaultStatusListen = "127.0.0.1:8080"
	DefaultAETitle      = "EDGE"
	DefaultNotBefore    = "2026-01-01"
	DefaultModality     = ":11112"
	maxConfigBytes      = 1 << 20
)

// LoadConfig reads and checks edge.json.
func LoadConfig(path string) (*Config, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("appliance: config: %w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxConfigBytes+1))
	if err != nil {
		return nil, fmt.Errorf("appliance: config %s: %w", path, err)
	}
	if len(b) > maxConfigBytes {
		return nil, fmt.Errorf("appliance: config %s is larger than %d bytes", path, maxConfigBytes)
	}
	c, err := ParseConfig(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	abs, err := filepath.Abs(filepath.Dir(path))
	if err != nil {
		return nil, fmt.Errorf("appliance: config %s: %w", path, err)
	}
	c.dir = abs
	return c, nil
}

// ParseConfig decodes and checks a config; an unknown key is an error
// naming it.
func ParseConfig(b []byte) (*Config, error) {
	c := &Config{}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(c); err != nil {
		if k, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
			return nil, fmt.Errorf("appliance: config: unknown key %s (doc.go of internal/appliance lists the keys)", k)
		}
		return nil, fmt.Errorf("appliance: config: %w", err)
	}
	if dec.More() {
		return nil, errors.New("appliance: config: more than one JSON value")
	}
	c.defaults()
	if err := c.check(); err != nil {
		return nil, err
	}
	return c, nil
}

func (c *Config) defaults() {
	if c.StateDir == "" {
		// systemd's StateDirectory= sets this.
		c.StateDir = os.Getenv("STATE_DIRECTORY")
	}
	if c.Keys != "" {
		if c.DeviceKey == "" {
			c.DeviceKey = filepath.Join(c.Keys, uplink.DeviceKeyFile)
		}
		if c.HubPub == "" {
			c.HubPub = filepath.Join(c.Keys, uplink.HubPubFile)
		}
	}
	if c.Modality.Listen == "" && c.Watch.In == "" {
		c.Modality.Listen = DefaultModality
	}
	if c.Scheme == "" {
		c.Scheme = protect.SchemeV1
	}
	if c.Session.TouchLogout == nil {
		on := true
		c.Session.TouchLogout = &on
	}
	if c.Session.IdleTimeoutSeconds == 0 {
		c.Session.IdleTimeoutSeconds = int(DefaultIdleTimeout / time.Second)
	}
	if c.Modality.AETitle == "" {
		c.Modality.AETitle = DefaultAETitle
	}
	if c.Status.Listen == "" {
		c.Status.Listen = DefaultStatusListen
	}
	if c.Clock.NotBefore == "" {
		c.Clock.NotBefore = DefaultNotBefore
	}
	if c.Log.Level == "" {
		c.Log.Level = "info"
	}
	if c.Log.Format == "" {
		c.Log.Format = "text"
	}
}

func (c *Config) check() error {
	for _, r := range []struct{ key, v string }{
		{"state_dir (or STATE_DIRECTORY)", c.StateDir}, {"device_key (or keys)", c.DeviceKey}, {"hub_pub (or keys)", c.HubPub}, {"store", c.Store},
	} {
		if r.v == "" {
			return fmt.Errorf("appliance: config: %s is required", r.key)
		}
	}
	if err := protect.CheckScheme(c.Scheme); err != nil {
		return fmt.Errorf("appliance: config: scheme: %w", err)
	}
	if c.Session.IdleTimeoutSeconds < 0 {
		return fmt.Errorf("appliance: config: session.idle_timeout_seconds %d, want > 0", c.Session.IdleTimeoutSeconds)
	}
	for _, s := range c.Modality.AllowSources {
		if _, err := parsePrefix(s); err != nil {
			return fmt.Errorf("appliance: config: modality.allow_sources: %w", err)
		}
	}
	if c.Modality.MaxAssociations < 0 || c.Modality.MaxObjectBytes < 0 || c.Watch.SettleSeconds < 0 {
		return errors.New("appliance: config: modality and watch limits must not be negative")
	}
	if c.Uplink.RateBits < 0 || c.Uplink.Parallel < 0 || c.Outbox.MaxBytes < 0 || c.Outbox.MaxCount < 0 {
		return errors.New("appliance: config: uplink and outbox numbers must not be negative")
	}
	if c.Uplink.Hub != "" && !strings.HasPrefix(c.Uplink.Hub, "https://") {
		return fmt.Errorf("appliance: config: uplink.hub %q is not https://host:port", c.Uplink.Hub)
	}
	if (c.Uplink.Hub == "") != (c.Uplink.Pin == "") {
		return errors.New("appliance: config: uplink.hub and uplink.pin go together")
	}
	if c.Sensor.MaxBaud != 0 {
		if err := sensor.CheckAdapterBaud(c.Sensor.MaxBaud); err != nil {
			return fmt.Errorf("appliance: config: sensor.max_baud: %w", err)
		}
	}
	for _, u := range []struct{ key, v string }{{"sensor.address", c.Sensor.Address}, {"sensor.password", c.Sensor.Password}} {
		if u.v == "" {
			continue
		}
		if _, err := strconv.ParseUint(u.v, 0, 32); err != nil {
			return fmt.Errorf("appliance: config: %s %q: want a 32-bit number (0x… for hex)", u.key, u.v)
		}
	}
	host, _, err := net.SplitHostPort(c.Status.Listen)
	if err != nil {
		return fmt.Errorf("appliance: config: status.listen %q: %w", c.Status.Listen, err)
	}
	if !loopback(host) && c.Status.Password == "" {
		return fmt.Errorf("appliance: config: status.listen %q is not loopback: set status.password, which logging out then asks for", c.Status.Listen)
	}
	if _, err := c.notBefore(); err != nil {
		return err
	}
	switch c.Log.Level {
	case "debug", "info", "warn", "error":
	default:
		return fmt.Errorf("appliance: config: log.level %q, want debug, info, warn or error", c.Log.Level)
	}
	switch c.Log.Format {
	case "text", "json":
	default:
		return fmt.Errorf("appliance: config: log.format %q, want text or json", c.Log.Format)
	}
	return nil
}

func (c *Config) notBefore() (time.Time, error) {
	t, err := time.Parse("2006-01-02", c.Clock.NotBefore)
	if err != nil {
		return t, fmt.Errorf("appliance: config: clock.not_before %q: want YYYY-MM-DD", c.Clock.NotBefore)
	}
	return t, nil
}

func parsePrefix(s string) (netip.Prefix, error) {
	if p, err := netip.ParsePrefix(s); err == nil {
		return p, nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("%q is not an address or CIDR prefix", s)
	}
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// loopback reports whether a listen host reaches only this machine.
func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	a, err := netip.ParseAddr(host)
	return err == nil && a.IsLoopback()
}

// Path resolves a path from the config against its folder.
func (c *Config) Path(p string) string {
	if p == "" || filepath.IsAbs(p) || c.dir == "" {
		return p
	}
	return filepath.Join(c.dir, p)
}

// IdleTimeout is the session's idle timeout.
func (c *Config) IdleTimeout() time.Duration {
	return time.Duration(c.Session.IdleTimeoutSeconds) * time.Second
}
