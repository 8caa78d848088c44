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

// Threshold is the operating point measured by an evaluation and kept in the
// store.
type Threshold struct {
	Threshold float64 `json:"threshold"`
	// Rule is how it was chosen: "eer" or "far<=X".
	Rule     string  `json:"rule"`
	FAR      float64 `json:"far"`
	FRR      float64 `json:"frr"`
	EER      float64 `json:"eer"`
	Genuine  int     `json:"genuine"`
	Impostor int     `json:"impostor"`
	Enroll   int     `json:"enroll"`
	// Model is the hex SHA-256 of the model that produced the scores.
	Model string `json:"model_sha256"`
}

type thresholdFileJSON struct {
	Threshold
	MAC string `json:"mac"`
}

// maxThresholdFile bounds what is read of threshold.json.
const maxThresholdFile = 4096

func (s *Store) thresholdMAC(t Threshold) ([]byte, []byte, error) {
	body, err := json.Marshal(t)
	if err != nil {
		return nil, nil, fmt.Errorf("biometric: encode threshold: %w", err)
	}
	k := hmac.New(sha256.New, s.key)
	k.Write([]byte("edge biometric threshold"))
	m := hmac.New(sha256.New, k.Sum(nil))
	m.Write(body)
	return body, m.Sum(nil), nil
}

// SaveThreshold writes the operating point into the store, authenticated
// under the store key.
func (s *Store) SaveThreshold(t Threshold) error {
	if math.IsNaN(t.Threshold) || math.IsInf(t.Threshold, 0) {
		return fmt.Errorf("biometric: threshold %v is not a number", t.Threshold)
	}
	_, mac, err := s.thresholdMAC(t)
	if err != nil {
		return err
	}
	out, err := json.MarshalIndent(thresholdFileJSON{t, hex.EncodeToString(mac)}, "", "  ")
	if err != nil {
		return fmt.Errorf("biometric: encode threshold: %w", err)
	}
	return fsutil.WriteFile(filepath.Join(s.dir, thresholdFile), 0o600, func(w io.Writer) error {
		_, err := w.Write(append(out, '\n'))
		return err
	})
}

// Threshold reads the operating point for the model with SHA-256 model. It
// refuses a file whose MAC does not check and one measured on another model.
func (s *Store) Threshold(model [32]byte) (Threshold, error) {
	path := filepath.Join(s.dir, thresholdFile)
	if _, err := os.Lstat(path); errors.Is(err, fs.ErrNotExist) {
		return Threshold{}, fmt.Errorf("biometric: no threshold in the store (%s absent): measure one with edge eval-biometrics --store %s", path, s.dir)
	}
	b, err := fsutil.ReadPrivate(path, maxThresholdFile)
	if err != nil {
		return Threshold{}, fmt.Errorf("biometric: threshold: %w", err)
	}
	var f thresholdFileJSON
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return Threshold{}, fmt.Errorf("biometric: threshold %s: %w", path, err)
	}
	_, mac, err := s.thresholdMAC(f.Threshold)
	if err != nil {
		return Threshold{}, err
	}
	got, err := hex.DecodeString(f.MAC)
	if err != nil || !hmac.Equal(got, mac) {
		return Threshold{}, fmt.Errorf("biometric: threshold %s does not carry this store's MAC (edited, or from another store)", path)
	}
	if want := hex.EncodeToString(model[:]); f.Model != want {
		return Threshold{}, fmt.Errorf("biometric: threshold %s was measured on model %.16s…, the extractor runs %.16s…: measure again with edge eval-biometrics --store", path, f.Model, want)
	}
	return f.Threshold, nil
}
