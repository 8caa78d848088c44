// Package board describes the boards the appliance runs on: the CPU the
// binary is built for, where the ONNX Runtime library lives, which execution
// providers to try in order, and how the fingerprint sensor is wired. One JSON
// profile per board is compiled in; a field technician can point the binary at
// a profile file instead when a board is wired differently.
package board

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"sort"
	"strings"
)

//go:embed profiles/*.json
var profiles embed.FS

// Profile is one board's settings. Empty strings mean "not present on this
// board": software that needs the thing degrades instead of failing.
type Profile struct {
	Name        string `json:"name"`
	Description string `json:"description"`
	GOARCH      string `json:"goarch"`
	GOARM       string `json:"goarm,omitempty"`
	// ORTLibrary is the ONNX Runtime shared library on the device; empty when
	// no build of it exists for the architecture.
	ORTLibrary string `json:"ort_library"`
	// ExecutionProviders are tried in order; "cpu" always works and belongs last.
	ExecutionProviders []string `json:"execution_providers"`
	Serial             Serial   `json:"serial"`
	GPIO               GPIO     `json:"gpio"`
	SystemdUnit        string   `json:"systemd_unit"`
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

// Names lists the built-in profiles.
func Names() []string {
	ents, _ := fs.ReadDir(profiles, "profiles")
	var n []string
	for _, e := range ents {
		n = append(n, strings.TrimSuffix(e.Name(), ".json"))
	}
	sort.Strings(n)
	return n
}

// Load returns a built-in profile by name, or reads a profile file when name
// contains a path separator or ends in .json.
func Load(name string) (*Profile, error) {
	var (
		b   []byte
		err error
	)
	if strings.ContainsRune(name, os.PathSeparator) || strings.HasSuffix(name, ".json") {
		b, err = os.ReadFile(name)
	} else {
		b, err = profiles.ReadFile("profiles/" + name + ".json")
		if err != nil {
			return nil, fmt.Errorf("board: unknown board %q (known: %s)", name, strings.Join(Names(), ", "))
		}
	}
	if err != nil {
		return nil, fmt.Errorf("board: read profile: %w", err)
	}
	return Parse(b)
}

// maxProfile bounds a profile file; real ones are a few hundred bytes.
const maxProfile = 64 << 10

// Parse decodes and checks a profile.
func Parse(b []byte) (*Profile, error) {
	if len(b) > maxProfile {
		return nil, fmt.Errorf("board: profile is %d bytes, more than %d", len(b), maxProfile)
	}
	d := json.NewDecoder(bytes.NewReader(b))
	d.DisallowUnknownFields()
	var p Profile
	if err := d.Decode(&p); err != nil {
		return nil, fmt.Errorf("board: profile: %w", err)
	}
	if err := p.check(); err != nil {
		return nil, err
	}
	return &p, nil
}

func (p *Profile) check() error {
	switch p.GOARCH {
	case "amd64", "arm64":
	case "arm":
		if p.GOARM != "6" && p.GOARM != "7" {
			return fmt.Errorf("board %s: goarch arm needs goarm 6 or 7, not %q", p.Name, p.GOARM)
		}
	default:
		return fmt.Errorf("board %s: unsupported goarch %q", p.Name, p.GOARCH)
	}
	if p.Name == "" {
		return fmt.Errorf("board: profile without a name")
	}
	if b := p.Serial.Baud; b != 0 && (b < 9600 || b > 115200 || b%9600 != 0) {
		return fmt.Errorf("board %s: serial baud %d, want a multiple of 9600 from 9600 to 115200", p.Name, b)
	}
	if p.ORTLibrary != "" && len(p.ExecutionProviders) == 0 {
		return fmt.Errorf("board %s: an ONNX Runtime library but no execution providers", p.Name)
	}
	return nil
}
