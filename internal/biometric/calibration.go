package biometric

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"

	"edge/internal/fsutil"
)

// Calibration is what an evaluation measured and a store keeps: how feature
// vectors are standardised before they are compared, and the decision
// threshold on the resulting score.
type Calibration struct {
	Threshold float64 `json:"threshold"`
	// Rule is how the threshold was chosen: "eer" or "far<=X".
	Rule     string  `json:"rule"`
	FAR      float64 `json:"far"`
	FRR      float64 `json:"frr"`
	EER      float64 `json:"eer"`
	Genuine  int     `json:"genuine"`
	Impostor int     `json:"impostor"`
	Enroll   int     `json:"enroll"`
	// Model is the hex SHA-256 of the model that produced the scores.
	Model string `json:"model_sha256"`
	// Centre and Scale standardise unit-length feature vectors,
	// (u − Centre) / Scale per dimension, before the cosine. Both empty
	// means raw cosine.
	Centre []float32 `json:"centre,omitempty"`
	Scale  []float32 `json:"scale,omitempty"`
	// Version counts the calibrations saved into a store. The store keeps
	// the last one beside its key and refuses an older file, so a copy of
	// an earlier calibration (with its valid MAC and, say, a lower
	// threshold) cannot be put back.
	Version uint64 `json:"version"`
	// ProtectedThreshold is the decision threshold on the protected
	// templates' Hamming distance, measured with the same prints; the
	// hub's registry applies it. 0 when not measured.
	ProtectedThreshold float64 `json:"protected_threshold,omitempty"`
	// MinutiaeThreshold is the login decision's threshold on the minutiae
	// matcher's score, in (0, 1], measured on the same prints (see
	// MinutiaeReport); MinutiaeRule says how it was chosen. 0 when not
	// measured: login by print is then refused.
	MinutiaeThreshold float64 `json:"minutiae_threshold,omitempty"`
	MinutiaeRule      string  `json:"minutiae_rule,omitempty"`
	MinutiaeFMR       float64 `json:"minutiae_fmr,omitempty"`
	MinutiaeFNMR      float64 `json:"minutiae_fnmr,omitempty"`
}

// scaleFloor is the smallest Scale as a share of the mean spread: a
// dimension the cohort hardly moves (a ReLU unit that is nearly always 0)
// would otherwise be divided by almost nothing and drown all the others.
const scaleFloor = 0.1

// FitStandardisation sets Centre and Scale to the per-dimension mean and
// standard deviation of the unit-length cohort vectors (the scale floored,
// see scaleFloor). Random-weight and ImageNet features are all positive and
// share one large common direction; removing it is what makes cosine
// scores of different fingers spread out.
func (c *Calibration) FitStandardisation(cohort [][]float32) error {
	if len(cohort) < 2 {
		return fmt.Errorf("biometric: standardisation needs at least 2 cohort vectors, have %d", len(cohort))
	}
	dim := len(cohort[0])
	mean := make([]float64, dim)
	units := make([][]float32, len(cohort))
	for i, v := range cohort {
		if len(v) != dim {
			return fmt.Errorf("biometric: cohort vector %d has %d values, vector 0 has %d", i, len(v), dim)
		}
		u, err := Normalize(v)
		if err != nil {
			return fmt.Errorf("biometric: cohort vector %d: %w", i, err)
		}
		units[i] = u
		for j, x := range u {
			mean[j] += float64(x)
		}
	}
	n := float64(len(cohort))
	sd := make([]float64, dim)
	for _, u := range units {
		for j, x := range u {
			d := float64(x) - mean[j]/n
			sd[j] += d * d
		}
	}
	var avg float64
	for j := range sd {
		sd[j] = math.Sqrt(sd[j] / n)
		avg += sd[j]
	}
	floor := scaleFloor * avg / float64(dim)
	if floor == 0 {
		return errors.New("biometric: cohort vectors are all the same direction: nothing to standardise")
	}
	c.Centre, c.Scale = make([]float32, dim), make([]float32, dim)
	for j := range sd {
		c.Centre[j] = float32(mean[j] / n)
		c.Scale[j] = float32(math.Max(sd[j], floor))
	}
	return nil
}

// check validates what a file or a fit produced.
func (c *Calibration) check() error {
	if math.IsNaN(c.Threshold) || math.IsInf(c.Threshold, 0) {
		return fmt.Errorf("biometric: threshold %v is not a number", c.Threshold)
	}
	if !(c.ProtectedThreshold >= 0 && c.ProtectedThreshold < 0.5) {
		return fmt.Errorf("biometric: protected-template threshold %v, want [0, 0.5)", c.ProtectedThreshold)
	}
	if !(c.MinutiaeThreshold >= 0 && c.MinutiaeThreshold <= 1) {
		return fmt.Errorf("biometric: minutiae threshold %v, want [0, 1]", c.MinutiaeThreshold)
	}
	if len(c.Centre) != len(c.Scale) {
		return fmt.Errorf("biometric: calibration has %d centre and %d scale values", len(c.Centre), len(c.Scale))
	}
	if len(c.Centre) > MaxDim {
		return fmt.Errorf("biometric: calibration has %d dimensions, more than %d", len(c.Centre), MaxDim)
	}
	if len(c.Centre) == 0 {
		return nil
	}
	if err := checkVector(c.Centre); err != nil {
		return fmt.Errorf("biometric: calibration centre: %w", err)
	}
	for j, s := range c.Scale {
		if !(s > 0) || math.IsInf(float64(s), 0) {
			return fmt.Errorf("biometric: calibration scale %d is %v, want > 0", j, s)
		}
	}
	return nil
}

// apply maps a feature vector into the space scores are taken in: unit
// length, then standardised when the calibration says so.
func (c *Calibration) apply(v []float32) ([]float32, error) {
	u, err := Normalize(v)
	if err != nil {
		return nil, err
	}
	if c == nil || len(c.Centre) == 0 {
		return u, nil
	}
	if len(u) != len(c.Centre) {
		return nil, fmt.Errorf("biometric: feature vector has %d values, the calibration %d", len(u), len(c.Centre))
	}
	for j := range u {
		u[j] = float32(float64(u[j]-c.Centre[j]) / float64(c.Scale[j]))
	}
	return u, nil
}

type calibrationJSON struct {
	Calibration
	MAC string `json:"mac"`
}

const calibrationName = "calibration.json"

// maxCalibrationFile bounds what is read of calibration.json: two vectors
// of MaxDim floats at up to 16 characters each, and the rest.
const maxCalibrationFile = 2*MaxDim*16 + 4096

func (s *Store) calibrationMAC(c *Calibration) ([]byte, error) {
	body, err := json.Marshal(c)
	if err != nil {
		return nil, fmt.Errorf("biometric: encode calibration: %w", err)
	}
	k := hmac.New(sha256.New, s.key)
	k.Write([]byte("edge biometric calibration"))
	m := hmac.New(sha256.New, k.Sum(nil))
	m.Write(body)
	return m.Sum(nil), nil
}

// versionPath is the calibration counter's file, beside the store key and
// so out of reach of whoever may only write the store's folder.
func (s *Store) versionPath() string { return s.keyPath + ".calver" }

func (s *Store) versionMAC(v uint64) []byte {
	m := hmac.New(sha256.New, s.key)
	fmt.Fprintf(m, "edge biometric calibration version %d", v)
	return m.Sum(nil)
}

// calibrationFloor is the version of the last calibration saved; 0 when
// none was.
func (s *Store) calibrationFloor() (uint64, error) {
	p := s.versionPath()
	if _, err := os.Lstat(p); errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	b, err := fsutil.ReadPrivate(p, 256)
	if err != nil {
		return 0, fmt.Errorf("biometric: calibration version: %w", err)
	}
	var v uint64
	var mac string
	if _, err := fmt.Sscanf(string(b), "%d %s\n", &v, &mac); err != nil {
		return 0, fmt.Errorf("biometric: calibration version %s: %w", p, err)
	}
	got, err := hex.DecodeString(mac)
	if err != nil || !hmac.Equal(got, s.versionMAC(v)) {
		return 0, fmt.Errorf("biometric: calibration version %s does not carry this store's MAC", p)
	}
	return v, nil
}

// SaveCalibration writes the calibration into the store, authenticated under
// the store key, with the next version number (which it sets in c).
func (s *Store) SaveCalibration(c *Calibration) error {
	if err := c.check(); err != nil {
		return err
	}
	return s.locked(func() error {
		floor, err := s.calibrationFloor()
		if err != nil {
			return err
		}
		c.Version = floor + 1
		mac, err := s.calibrationMAC(c)
		if err != nil {
			return err
		}
		out, err := json.Marshal(calibrationJSON{*c, hex.EncodeToString(mac)})
		if err != nil {
			return fmt.Errorf("biometric: encode calibration: %w", err)
		}
		if err := fsutil.WriteFile(filepath.Join(s.dir, calibrationName), 0o600, func(w io.Writer) error {
			_, err := w.Write(append(out, '\n'))
			return err
		}); err != nil {
			return err
		}
		return fsutil.WriteFile(s.versionPath(), 0o600, func(w io.Writer) error {
			_, err := fmt.Fprintf(w, "%d %x\n", c.Version, s.versionMAC(c.Version))
			return err
		})
	})
}

// decodeCalibration parses calibration.json without checking its MAC.
func decodeCalibration(b []byte) (*calibrationJSON, error) {
	if len(b) > maxCalibrationFile {
		return nil, fmt.Errorf("biometric: calibration is %d bytes, more than %d", len(b), maxCalibrationFile)
	}
	var f calibrationJSON
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("biometric: calibration: %w", err)
	}
	if err := f.check(); err != nil {
		return nil, err
	}
	return &f, nil
}

// Calibration reads the calibration for the model with SHA-256 model. It
// refuses a file whose MAC does not check and one measured on another model.
func (s *Store) Calibration(model [32]byte) (*Calibration, error) {
	path := filepath.Join(s.dir, calibrationName)
	if _, err := os.Lstat(path); errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("biometric: the store has no calibration (%s absent): measure one with edge eval-biometrics --store %s", path, s.dir)
	}
	b, err := fsutil.ReadPrivate(path, maxCalibrationFile)
	if err != nil {
		return nil, fmt.Errorf("biometric: calibration: %w", err)
	}
	f, err := decodeCalibration(b)
	if err != nil {
		return nil, fmt.Errorf("biometric: %s: %w", path, err)
	}
	mac, err := s.calibrationMAC(&f.Calibration)
	if err != nil {
		return nil, err
	}
	got, err := hex.DecodeString(f.MAC)
	if err != nil || !hmac.Equal(got, mac) {
		return nil, fmt.Errorf("biometric: calibration %s does not carry this store's MAC (edited, or from another store)", path)
	}
	floor, err := s.calibrationFloor()
	if err != nil {
		return nil, err
	}
	if f.Version < floor {
		return nil, fmt.Errorf("biometric: calibration %s is version %d, older than the store's last (%d): an earlier calibration was put back", path, f.Version, floor)
	}
	if want := hex.EncodeToString(model[:]); f.Model != want {
		return nil, fmt.Errorf("biometric: calibration %s was measured on model %.16s…, the extractor runs %.16s…: measure again with edge eval-biometrics --store", path, f.Model, want)
	}
	return &f.Calibration, nil
}
