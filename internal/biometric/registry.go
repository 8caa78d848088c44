package biometric

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"

	"edge/internal/fsutil"
)

// Registration is what enrollment hands the hub about a clinician: their
// protected template, never their features (see the package comment).
type Registration struct {
	ID         string
	Generation uint32
	// Calibration is the version of the device calibration the template
	// was standardised under: a new calibration changes every protected
	// template, so its registrations replace the old ones of the same
	// generation.
	Calibration uint64
	// Threshold is the largest Hamming distance (a fraction of
	// ProtectedBits) at which an image's protected template is the
	// clinician's, as the device's calibration measured it; 0 when the
	// calibration measured none, and then the registry must set one.
	Threshold float64
	Model     [32]byte
	Template  Protected
}

const (
	regMagic   = "EBTR"
	regVersion = 1
	regExt     = ".reg"
	// regHeader is magic, version, generation, calibration, threshold,
	// model, id length.
	regHeader = 4 + 1 + 4 + 8 + 8 + 32 + 1
	// MaxRegistrationFile bounds what is read of a registration file.
	MaxRegistrationFile = regHeader + MaxIDLen + ProtectedBytes + 4
)

// MakeRegistration is the registration of clinician id's template under
// cal: its protected template and the calibration's threshold.
func MakeRegistration(id string, t *Template, cal *Calibration) (*Registration, error) {
	if err := ValidateID(id); err != nil {
		return nil, err
	}
	p, err := t.Protected(cal)
	if err != nil {
		return nil, err
	}
	thr, ver := 0.0, uint64(0)
	if cal != nil {
		thr, ver = cal.ProtectedThreshold, cal.Version
	}
	return &Registration{ID: id, Generation: t.Generation, Calibration: ver, Threshold: thr, Model: t.Model, Template: p}, nil
}

func (r *Registration) check() error {
	if err := ValidateID(r.ID); err != nil {
		return err
	}
	if len(r.Template) != ProtectedBytes {
		return fmt.Errorf("biometric: registration of %q holds a %d-byte template, want %d", r.ID, len(r.Template), ProtectedBytes)
	}
	if !(r.Threshold >= 0 && r.Threshold < 0.5) {
		return fmt.Errorf("biometric: registration of %q has threshold %v, want [0, 0.5)", r.ID, r.Threshold)
	}
	return nil
}

// MarshalBinary encodes the registration (see the package comment).
func (r *Registration) MarshalBinary() ([]byte, error) {
	if err := r.check(); err != nil {
		return nil, err
	}
	b := make([]byte, 0, regHeader+len(r.ID)+ProtectedBytes+4)
	b = append(b, regMagic...)
	b = append(b, regVersion)
	b = binary.LittleEndian.AppendUint32(b, r.Generation)
	b = binary.LittleEndian.AppendUint64(b, r.Calibration)
	b = binary.LittleEndian.AppendUint64(b, math.Float64bits(r.Threshold))
	b = append(b, r.Model[:]...)
	b = append(b, byte(len(r.ID)))
	b = append(b, r.ID...)
	b = append(b, r.Template...)
	return binary.LittleEndian.AppendUint32(b, crc32.Checksum(b, castagnoli)), nil
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// ParseRegistration decodes a registration made by MarshalBinary.
func ParseRegistration(b []byte) (*Registration, error) {
	if len(b) < regHeader+1+ProtectedBytes+4 || len(b) > MaxRegistrationFile {
		return nil, fmt.Errorf("biometric: registration is %d bytes, want %d to %d", len(b), regHeader+1+ProtectedBytes+4, MaxRegistrationFile)
	}
	if string(b[:4]) != regMagic {
		return nil, fmt.Errorf("biometric: registration magic %q, want %q", b[:4], regMagic)
	}
	if b[4] != regVersion {
		return nil, fmt.Errorf("biometric: registration version %d, want %d", b[4], regVersion)
	}
	body, sum := b[:len(b)-4], binary.LittleEndian.Uint32(b[len(b)-4:])
	if crc32.Checksum(body, castagnoli) != sum {
		return nil, errors.New("biometric: registration checksum mismatch")
	}
	n := int(b[regHeader-1])
	if regHeader+n+ProtectedBytes != len(body) {
		return nil, fmt.Errorf("biometric: registration id length %d does not match its size %d", n, len(b))
	}
	r := &Registration{
		Generation:  binary.LittleEndian.Uint32(b[5:]),
		Calibration: binary.LittleEndian.Uint64(b[9:]),
		Threshold:   math.Float64frombits(binary.LittleEndian.Uint64(b[17:])),
		ID:          string(b[regHeader : regHeader+n]),
		Template:    bytes.Clone(b[regHeader+n : regHeader+n+ProtectedBytes]),
	}
	copy(r.Model[:], b[25:57])
	if err := r.check(); err != nil {
		return nil, err
	}
	return r, nil
}

// WriteRegistration writes r to path with mode 0600, refusing to replace a
// file unless force is set.
func WriteRegistration(path string, r *Registration, force bool) error {
	b, err := r.MarshalBinary()
	if err != nil {
		return err
	}
	fill := func(w io.Writer) error { _, err := w.Write(b); return err }
	if force {
		return fsutil.WriteFile(path, 0o600, fill)
	}
	return fsutil.WriteNew(path, 0o600, fill)
}

// ReadRegistration reads a registration file, which must have mode 0600.
func ReadRegistration(path string) (*Registration, error) {
	b, err := fsutil.ReadPrivate(path, MaxRegistrationFile)
	if err != nil {
		return nil, fmt.Errorf("biometric: registration: %w", err)
	}
	r, err := ParseRegistration(b)
	if err != nil {
		return nil, fmt.Errorf("biometric: %s: %w", path, err)
	}
	return r, nil
}

// Registry is the hub's folder of registrations, one file <id>.reg (0600)
// per clinician. It holds protected templates only, so whoever reads it
// learns no clinician's features and cannot link them to another system's
// templates.
type Registry struct {
	dir string
	// Threshold, when > 0, overrides every registration's threshold.
	Threshold float64
}

// ErrRevoked is wrapped by Register for a registration older than the one
// the registry holds: a revoked template cannot be put back.
var ErrRevoked = errors.New("biometric: registration is older than the clinician's current one (revoked)")

// ErrNotRegistered is wrapped for a clinician with no registration.
var ErrNotRegistered = errors.New("biometric: clinician not registered at the hub")

// OpenRegistry opens (making it 0700 if needed) the registry folder dir,
// removing the temporary files a power loss left there.
func OpenRegistry(dir string) (*Registry, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("biometric: make registry folder: %w", err)
	}
	r := &Registry{dir: dir}
	if err := r.locked(func() error { _, err := fsutil.RemoveStale(dir); return err }); err != nil {
		return nil, err
	}
	return r, nil
}

func (r *Registry) locked(f func() error) error {
	l, err := fsutil.LockFile(filepath.Join(r.dir, lockFile))
	if err != nil {
		return fmt.Errorf("biometric: %w", err)
	}
	ferr := f()
	if err := l.Unlock(); err != nil && ferr == nil {
		ferr = fmt.Errorf("biometric: %w", err)
	}
	return ferr
}

func (r *Registry) path(id string) string { return filepath.Join(r.dir, id+regExt) }

// Register records reg. A registration with a higher generation replaces
// the current one (the clinician was re-enrolled: their old images stop
// matching), and so does one of the same generation under a newer device
// calibration; the same generation and calibration with the same template
// is a no-op; a lower generation is refused (ErrRevoked), and so is an
// older calibration or another template under the same one.
func (r *Registry) Register(reg *Registration) error {
	if err := reg.check(); err != nil {
		return err
	}
	return r.locked(func() error {
		cur, err := r.Lookup(reg.ID)
		switch {
		case errors.Is(err, ErrNotRegistered):
			return WriteRegistration(r.path(reg.ID), reg, false)
		case err != nil:
			return err
		case reg.Generation < cur.Generation:
			return fmt.Errorf("%w: %q generation %d, the registry holds %d", ErrRevoked, reg.ID, reg.Generation, cur.Generation)
		case reg.Generation == cur.Generation && reg.Calibration < cur.Calibration:
			return fmt.Errorf("biometric: %q generation %d under calibration %d, the registry holds calibration %d", reg.ID, reg.Generation, reg.Calibration, cur.Calibration)
		case reg.Generation == cur.Generation && reg.Calibration == cur.Calibration:
			if bytes.Equal(reg.Template, cur.Template) && reg.Threshold == cur.Threshold && reg.Model == cur.Model {
				return nil
			}
			return fmt.Errorf("biometric: %q generation %d is already registered with another template (re-enroll to replace it)", reg.ID, reg.Generation)
		}
		return WriteRegistration(r.path(reg.ID), reg, true)
	})
}

// Revoke removes the clinician's registration: none of their images
// verifies until they are registered again.
func (r *Registry) Revoke(id string) error {
	if err := ValidateID(id); err != nil {
		return err
	}
	return r.locked(func() error {
		err := os.Remove(r.path(id))
		if errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("%w: %q", ErrNotRegistered, id)
		}
		if err != nil {
			return fmt.Errorf("biometric: revoke %q: %w", id, err)
		}
		return fsutil.SyncDir(r.dir)
	})
}

// Lookup reads the registration of id.
func (r *Registry) Lookup(id string) (*Registration, error) {
	if err := ValidateID(id); err != nil {
		return nil, err
	}
	p := r.path(id)
	if _, err := os.Lstat(p); errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: %q", ErrNotRegistered, id)
	}
	reg, err := ReadRegistration(p)
	if err != nil {
		return nil, err
	}
	if reg.ID != id {
		return nil, fmt.Errorf("biometric: %s holds the registration of %q", p, reg.ID)
	}
	return reg, nil
}

// HubDecision is the hub's answer to "was this image taken by clinician
// ID?": the Hamming distance between the image's protected template and the
// registered one, against the threshold.
type HubDecision struct {
	ID         string  `json:"id"`
	Generation uint32  `json:"generation"`
	Distance   float64 `json:"distance"`
	Threshold  float64 `json:"threshold"`
	Match      bool    `json:"match"`
}

// Verify compares an extracted protected template with the registration of
// id. No match is a decision, not an error.
func (r *Registry) Verify(id string, template []byte) (HubDecision, error) {
	reg, err := r.Lookup(id)
	if err != nil {
		return HubDecision{}, err
	}
	if len(template) != ProtectedBytes {
		return HubDecision{}, fmt.Errorf("biometric: protected template of %d bytes, want %d", len(template), ProtectedBytes)
	}
	thr := reg.Threshold
	if r.Threshold > 0 {
		thr = r.Threshold
	}
	if thr <= 0 {
		return HubDecision{}, fmt.Errorf("biometric: no threshold for %q: the device's calibration measured none and the registry sets none", id)
	}
	d := Hamming(reg.Template, template)
	return HubDecision{ID: id, Generation: reg.Generation, Distance: d, Threshold: thr, Match: d <= thr}, nil
}
