// Package board describes the boards the appliance runs on: the CPU the
// binary is built for, where the ONNX Runtime library lives, which execution
// providers to try in order, how the fingerprint sensor is wired, how large an
// image the board's memory allows, where a release installs and which systemd
// unit runs it. One JSON profile per board is compiled in; a field technician
// can point the binary at a profile file instead when a board is wired
// differently.
//
// Nothing below cmd/edge imports this package: the drivers take their own
// options, and internal/boardcfg maps a profile onto them.
package board

import (
	"bytes"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"sort"
	"strings"
)

//go:embed profiles/*.json *.service
var files embed.FS

// Profile is one board's settings. Empty strings mean "not present on this
// board": software that needs the thing degrades or says plainly that the
// board cannot do it.
type Profile struct {
	Name        string `json:"name"`
	Description string `json:"description"`
	GOARCH      string `json:"goarch"`
	GOARM       string `json:"goarm,omitempty"`
	// MemoryMiB is the RAM of the smallest variant of the board the profile
	// is for; Images is sized from it.
	MemoryMiB int `json:"memory_mib"`
	// ORTLibrary is the ONNX Runtime shared library on the device; empty when
	// no build of it exists for the architecture.
	ORTLibrary string `json:"ort_library"`
	// ExecutionProviders are tried in order; "cpu" always works and belongs last.
	ExecutionProviders []string    `json:"execution_providers"`
	Serial             Serial      `json:"serial"`
	GPIO               GPIO        `json:"gpio"`
	Images             ImageLimits `json:"image_limits"`
	Install            Install     `json:"install"`
	// SystemdUnit names the unit file, one of those beside this package's
	// profiles (edge.service, …), installed as Install.Unit.
	SystemdUnit string `json:"systemd_unit"`
}

// Serial is how the fingerprint sensor is attached. An empty Port means
// "find it among the USB-serial adapters".
type Serial struct {
	Port     string `json:"port"`
	Baud     int    `json:"baud"`
	Address  uint32 `json:"address"`
	Password uint32 `json:"password"`
}

// GPIO names periph.io pins; empty means the line is not wired.
type GPIO struct {
	Touch  string `json:"touch"`
	LED    string `json:"led"`
	Buzzer string `json:"buzzer"`
}

// ImageLimits bound one image the board takes in: samples (width × height ×
// frames × samples per pixel) and bytes of the file. Zero means the image
// reader's own limit.
type ImageLimits struct {
	MaxSamples int64 `json:"max_samples"`
	MaxBytes   int64 `json:"max_bytes"`
}

// Install is where a release puts its files on the board; all absolute.
type Install struct {
	Binary  string `json:"binary"`
	Model   string `json:"model"`
	Profile string `json:"profile"`
	Config  string `json:"config"`
	State   string `json:"state"`
	Unit    string `json:"unit"`
}

// PeakBytesPerSample is what protecting an image costs in memory per sample
// at the peak: 784 MiB for a 1760×1760 16-bit image, measured with
// `edge protect` on 2026-12-01, is 265 bytes a sample, rounded up.
const PeakBytesPerSample = 272

// ReservedMiB is the memory left for the OS, the binary and, on a board that
// infers, ONNX Runtime with the int8 model; what is left over is what the
// image limits may use.
func (p *Profile) ReservedMiB() int {
	if p.ORTLibrary != "" {
		return 768
	}
	return 256
}

// Limits returns the image limits. A profile that gives none but names its
// memory gets limits sized from it; one that gives neither gets zero, the
// image reader's own limits.
func (p *Profile) Limits() ImageLimits {
	l := p.Images
	free := int64(p.MemoryMiB-p.ReservedMiB()) << 20
	if free <= 0 {
		return l
	}
	if l.MaxSamples == 0 {
		l.MaxSamples = free / PeakBytesPerSample
	}
	if l.MaxBytes == 0 {
		// A 16-bit image at the sample limit, stored uncompressed, fits.
		l.MaxBytes = 2*l.MaxSamples + 1<<20
	}
	return l
}

// Names lists the built-in profiles.
func Names() []string {
	ents, _ := fs.ReadDir(files, "profiles")
	var n []string
	for _, e := range ents {
		n = append(n, strings.TrimSuffix(e.Name(), ".json"))
	}
	sort.Strings(n)
	return n
}

// Raw returns a built-in profile's file as it is compiled in, the bytes a
// release installs as Install.Profile.
func Raw(name string) ([]byte, error) {
	b, err := files.ReadFile("profiles/" + name + ".json")
	if err != nil {
		return nil, fmt.Errorf("board: unknown board %q (known: %s)", name, strings.Join(Names(), ", "))
	}
	return b, nil
}

// Unit returns a systemd unit file by the name a profile gives it.
func Unit(name string) ([]byte, error) {
	if name == "" || strings.ContainsAny(name, "/\\") || !strings.HasSuffix(name, ".service") {
		return nil, fmt.Errorf("board: systemd unit %q: want a file name ending in .service", name)
	}
	b, err := files.ReadFile(name)
	if err != nil {
		return nil, fmt.Errorf("board: no systemd unit %q in the build", name)
	}
	return b, nil
}

// Load returns a built-in profile by name, or reads a profile file when name
// contains a path separator or ends in .json.
func Load(name string) (*Profile, error) {
	if strings.ContainsRune(name, os.PathSeparator) || strings.HasSuffix(name, ".json") {
		b, err := readFile(name)
		if err != nil {
			return nil, err
		}
		p, err := Parse(b)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		return p, nil
	}
	b, err := Raw(name)
	if err != nil {
		return nil, err
	}
	return Parse(b)
}

// maxProfile bounds a profile file; real ones are about a kilobyte.
const maxProfile = 64 << 10

func readFile(name string) ([]byte, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, fmt.Errorf("board: read profile: %w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxProfile+1))
	if err != nil {
		return nil, fmt.Errorf("board: read profile %s: %w", name, err)
	}
	return b, nil
}

// Parse decodes and checks a profile. A key the format does not have is an
// error naming it, so a misspelt setting is never silently ignored.
func Parse(b []byte) (*Profile, error) {
	if len(b) > maxProfile {
		return nil, fmt.Errorf("board: profile is more than %d bytes", maxProfile)
	}
	d := json.NewDecoder(bytes.NewReader(b))
	d.DisallowUnknownFields()
	var p Profile
	if err := d.Decode(&p); err != nil {
		return nil, fmt.Errorf("board: profile: %w", err)
	}
	if _, err := d.Token(); !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("board: profile: more after the JSON object")
	}
	if err := p.check(); err != nil {
		return nil, err
	}
	return &p, nil
}

func (p *Profile) check() error {
	if p.Name == "" {
		return fmt.Errorf("board: profile without a name")
	}
	switch p.GOARCH {
	case "amd64", "arm64":
		if p.GOARM != "" {
			return fmt.Errorf("board %s: goarm %q is only for goarch arm", p.Name, p.GOARM)
		}
	case "arm":
		if p.GOARM != "6" && p.GOARM != "7" {
			return fmt.Errorf("board %s: goarch arm needs goarm 6 or 7, not %q", p.Name, p.GOARM)
		}
	default:
		return fmt.Errorf("board %s: unsupported goarch %q", p.Name, p.GOARCH)
	}
	if p.MemoryMiB < 0 {
		return fmt.Errorf("board %s: memory_mib %d", p.Name, p.MemoryMiB)
	}
	if b := p.Serial.Baud; b != 0 && (b < 9600 || b > 115200 || b%9600 != 0) {
		return fmt.Errorf("board %s: serial baud %d, want a multiple of 9600 from 9600 to 115200", p.Name, b)
	}
	if p.ORTLibrary != "" {
		if !path.IsAbs(p.ORTLibrary) {
			return fmt.Errorf("board %s: ort_library %q is not an absolute path", p.Name, p.ORTLibrary)
		}
		if len(p.ExecutionProviders) == 0 {
			return fmt.Errorf("board %s: an ONNX Runtime library but no execution providers", p.Name)
		}
	} else if len(p.ExecutionProviders) > 0 {
		return fmt.Errorf("board %s: execution providers %v but no ONNX Runtime library", p.Name, p.ExecutionProviders)
	}
	if l := p.Images; l.MaxSamples < 0 || l.MaxBytes < 0 {
		return fmt.Errorf("board %s: negative image limits %+v", p.Name, l)
	}
	for _, f := range []struct{ key, v string }{
		{"binary", p.Install.Binary}, {"model", p.Install.Model}, {"profile", p.Install.Profile},
		{"config", p.Install.Config}, {"state", p.Install.State}, {"unit", p.Install.Unit},
	} {
		if f.v != "" && (!path.IsAbs(f.v) || path.Clean(f.v) != f.v) {
			return fmt.Errorf("board %s: install.%s %q is not a clean absolute path", p.Name, f.key, f.v)
		}
	}
	return nil
}
