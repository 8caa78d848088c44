// Package boardcfg maps a board profile onto the options each driver takes:
// the serial line and module settings for internal/sensor, the pins for
// internal/sensor/gpio, the ONNX Runtime library and execution providers for
// internal/infer, and the image limits. It is the one package that knows both
// the profile format and the drivers, so a change to either stops here; the
// drivers never see a profile.
//
// Everything here takes a nil profile to mean "no board given": each driver's
// own defaults.
package boardcfg

import (
	"errors"
	"fmt"
	"os"
	"runtime"

	"edge/board"
	"edge/internal/infer"
	"edge/internal/medimg"
	"edge/internal/sensor"
	"edge/internal/sensor/gpio"
)

// Load returns the named profile (a built-in name or a .json file), or nil
// for "".
func Load(name string) (*board.Profile, error) {
	if name == "" {
		return nil, nil
	}
	return board.Load(name)
}

// Serial is how to reach the fingerprint module.
type Serial struct {
	// Port is the serial device; empty means "find it among the USB-serial
	// adapters".
	Port string
	Baud int
	Opts sensor.Opts
}

// DefaultBaud is a factory-fresh module's line rate.
const DefaultBaud = 57600

// Sensor returns the profile's serial line and module address and password
// over sensor.DefaultOpts.
func Sensor(p *board.Profile) Serial {
	s := Serial{Baud: DefaultBaud, Opts: sensor.DefaultOpts}
	if p == nil {
		return s
	}
	s.Port = p.Serial.Port
	if p.Serial.Baud != 0 {
		s.Baud = p.Serial.Baud
	}
	s.Opts.Address, s.Opts.Password = p.Serial.Address, p.Serial.Password
	return s
}

// GPIO returns the pins the profile wires beside the module.
func GPIO(p *board.Profile) gpio.Pins {
	if p == nil {
		return gpio.Pins{}
	}
	return gpio.Pins{Touch: p.GPIO.Touch, LED: p.GPIO.LED, Buzzer: p.GPIO.Buzzer}
}

// Images returns the profile's image limits; zero fields mean the image
// reader's own.
func Images(p *board.Profile) board.ImageLimits {
	if p == nil {
		return board.ImageLimits{}
	}
	return p.Limits()
}

// MedImg is the board's image limits as the image decoders take them; no
// profile gives medimg's defaults (themselves sized to the address space).
func MedImg(p *board.Profile) medimg.Limits {
	l := Images(p)
	return medimg.Limits{MaxSamples: l.MaxSamples, MaxFileBytes: l.MaxBytes}
}

// ErrNoInference is wrapped by Infer for a board without ONNX Runtime.
var ErrNoInference = errors.New("this board has no ONNX Runtime")

// Infer fills the library and execution providers the caller left empty
// (o comes from --ort-lib and --ep, which win) from the profile. A profile
// for another architecture is refused: its library could not be loaded by
// this binary. A board without a library is refused unless the caller names
// one, with an error saying how such a board gets its features.
func Infer(p *board.Profile, o infer.Options) (infer.Options, error) {
	if p == nil {
		return o, nil
	}
	if p.GOARCH != runtime.GOARCH {
		return o, fmt.Errorf("boardcfg: board %s is %s, this edge is built for %s", p.Name, p.GOARCH, runtime.GOARCH)
	}
	if o.ORTLib == "" {
		if p.ORTLibrary == "" {
			return o, fmt.Errorf("boardcfg: board %s: %w (none is built for %s), so it extracts no features here: "+
				"seal images with a feature file made on a 64-bit board (edge protect --features F.f32), "+
				"or give --ort-lib an ONNX Runtime built for this board", p.Name, ErrNoInference, archName(p))
		}
		if st, err := os.Stat(p.ORTLibrary); err != nil {
			return o, fmt.Errorf("boardcfg: ONNX Runtime library of board %s: %w", p.Name, err)
		} else if !st.Mode().IsRegular() {
			return o, fmt.Errorf("boardcfg: ONNX Runtime library %s of board %s is not a regular file", p.ORTLibrary, p.Name)
		}
		o.ORTLib = p.ORTLibrary
	}
	if len(o.Providers) == 0 {
		o.Providers = append([]string(nil), p.ExecutionProviders...)
	}
	return o, nil
}

func archName(p *board.Profile) string {
	if p.GOARCH == "arm" {
		return "32-bit ARMv" + p.GOARM
	}
	return p.GOARCH
}
