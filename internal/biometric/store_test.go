package biometric

import (
	crand "crypto/rand"
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
)

var testModel = [32]byte{1, 2, 3}

// fingerVectors makes n noisy copies of one random direction: the
// impressions of one synthetic finger.
func fingerVectors(seed uint64, n, dim int, noise float64) [][]float32 {
	r := rand.New(rand.NewPCG(seed, 0))
	base := make([]float64, dim)
	for i := range base {
		base[i] = r.NormFloat64()
	}
	out := make([][]float32, n)
	for k := range out {
		v := make([]float32, dim)
		for i := range v {
			v[i] = float32(base[i] + noise*r.NormFloat64())
		}
		out[k] = v
	}
	return out
}

func enrollTestTemplate(t *testing.T, seed uint64) *Template {
	t.Helper()
	tm, _, err := Enroll(testModel, fingerVectors(seed, 3, 64, 0.3), &Calibration{Threshold: 0.5})
	if err != nil {
		t.Fatal(err)
	}
	return tm
}

func TestStoreRoundTrip(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "store")
	s, err := CreateStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{dir, dir + ".key"} {
		st, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if m := st.Mode().Perm(); m&0o077 != 0 {
			t.Errorf("%s has mode %04o, want no group or other access", p, m)
		}
	}
	want := enrollTestTemplate(t, 1)
	if err := s.Save("dr.ada-1", want, false); err != nil {
		t.Fatal(err)
	}
	if err := s.Save("nurse_b", enrollTestTemplate(t, 2), false); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(filepath.Join(dir, "dr.ada-1.tmpl"))
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("template mode %04o, want 0600", st.Mode().Perm())
	}

	// A second open reads the key made by the first.
	s2, err := CreateStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	got, err := s2.Load("dr.ada-1")
	if err != nil {
		t.Fatal(err)
	}
	if got.Model != want.Model || len(got.Vectors) != len(want.Vectors) {
		t.Fatalf("loaded template differs from saved")
	}
	for i := range want.Vectors {
		if !slices.Equal(got.Vectors[i], want.Vectors[i]) {
			t.Fatalf("vector %d differs", i)
		}
	}
	ids, err := s2.IDs()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(ids, []string{"dr.ada-1", "nurse_b"}) {
		t.Errorf("IDs = %q", ids)
	}
	if has, err := s2.Has("nurse_b"); !has || err != nil {
		t.Errorf("Has(nurse_b) = %v, %v", has, err)
	}
	if has, err := s2.Has("nobody"); has || err != nil {
		t.Errorf("Has(nobody) = %v, %v", has, err)
	}
	if err := s2.Save("nurse_b", want, false); !errors.Is(err, ErrExists) {
		t.Errorf("re-enrolling without replace: %v, want ErrExists", err)
	}
	if err := s2.Save("nurse_b", want, true); err != nil {
		t.Errorf("re-enrolling with replace: %v", err)
	}
}

func TestStoreWrongKey(t *testing.T) {
	dir := t.TempDir()
	s, err := CreateStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Save("a", enrollTestTemplate(t, 1), false); err != nil {
		t.Fatal(err)
	}
	other := make([]byte, 32)
	crand.Read(other)
	if err := os.WriteFile(dir+".key", other, 0o600); err != nil {
		t.Fatal(err)
	}
	s2, err := OpenStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	_, err = s2.Load("a")
	if !errors.Is(err, ErrOpen) {
		t.Fatalf("load with another key: %v, want ErrOpen", err)
	}
	if !strings.Contains(err.Error(), `"a"`) {
		t.Errorf("error %q does not name the clinician", err)
	}

	if err := os.WriteFile(dir+".key", other[:16], 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := OpenStore(dir); err == nil || !strings.Contains(err.Error(), "16 bytes, want 32") {
		t.Errorf("short key: %v", err)
	}
	if _, err := OpenStore(t.TempDir()); err == nil || !strings.Contains(err.Error(), "no store key") {
		t.Errorf("missing key: %v", err)
	}
}

func TestStoreWrongMode(t *testing.T) {
	dir := t.TempDir()
	s, err := CreateStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Save("a", enrollTestTemplate(t, 1), false); err != nil {
		t.Fatal(err)
	}
	tmpl := filepath.Join(dir, "a.tmpl")
	if err := os.Chmod(tmpl, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Load("a"); err == nil || !strings.Contains(err.Error(), "mode 0644") {
		t.Errorf("template readable by others: %v", err)
	}
	key := dir + ".key"
	if err := os.Chmod(key, 0o640); err != nil {
		t.Fatal(err)
	}
	if _, err := OpenStore(dir); err == nil || !strings.Contains(err.Error(), "mode 0640") {
		t.Errorf("key readable by group: %v", err)
	}
}

func TestStoreTampered(t *testing.T) {
	dir := t.TempDir()
	s, err := CreateStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Save("a", enrollTestTemplate(t, 1), false); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "a.tmpl")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, off := range []int{sealHeader, sealHeader + nonceSize + 50, len(b) - 1} {
		c := slices.Clone(b)
		c[off] ^= 0x10
		if err := os.WriteFile(path, c, 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Load("a"); !errors.Is(err, ErrOpen) {
			t.Errorf("byte %d flipped: %v, want ErrOpen", off, err)
		}
	}
	// The same sealed bytes under another clinician's name do not open.
	if err := os.WriteFile(filepath.Join(dir, "b.tmpl"), b, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Load("b"); !errors.Is(err, ErrOpen) {
		t.Errorf("template renamed to b: %v, want ErrOpen", err)
	}
	if err := os.WriteFile(path, b[:20], 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Load("a"); err == nil || !strings.Contains(err.Error(), "too short") {
		t.Errorf("truncated template: %v", err)
	}
}

func TestStoreUnknownID(t *testing.T) {
	s, err := CreateStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Load("nobody"); !errors.Is(err, ErrUnknownID) {
		t.Errorf("unknown id: %v, want ErrUnknownID", err)
	}
	if _, err := s.Load("../etc/passwd"); err == nil || errors.Is(err, ErrUnknownID) {
		t.Errorf("path as id: %v, want an invalid-id error", err)
	}
}

func TestValidateID(t *testing.T) {
	for _, id := range []string{"a", "dr.smith", "N-0042_x", strings.Repeat("z", MaxIDLen)} {
		if err := ValidateID(id); err != nil {
			t.Errorf("ValidateID(%q) = %v", id, err)
		}
	}
	for _, id := range []string{"", ".", "..", ".hidden", "-rf", "a/b", `a\b`, "a b", "é", "a\x00", strings.Repeat("z", MaxIDLen+1)} {
		if err := ValidateID(id); err == nil {
			t.Errorf("ValidateID(%q) accepted", id)
		}
	}
}

func TestCalibrationFile(t *testing.T) {
	dir := t.TempDir()
	s, err := CreateStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Calibration(testModel); err == nil || !strings.Contains(err.Error(), "eval-biometrics") {
		t.Errorf("no calibration yet: %v", err)
	}
	cal := &Calibration{Threshold: 0.8125, Rule: "eer", EER: 0.1, FAR: 0.1, FRR: 0.05, Genuine: 40, Impostor: 280, Enroll: 3,
		Model: "010203" + strings.Repeat("00", 29), Centre: []float32{0.1, -0.2, 1e-7}, Scale: []float32{0.5, 0.25, 3.3e-3}}
	if err := s.SaveCalibration(cal); err != nil {
		t.Fatal(err)
	}
	got, err := s.Calibration(testModel)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, cal) {
		t.Errorf("calibration read back %+v, want %+v", got, cal)
	}
	if _, err := s.Calibration([32]byte{9}); err == nil || !strings.Contains(err.Error(), "measured on model") {
		t.Errorf("other model: %v", err)
	}
	path := filepath.Join(dir, "calibration.json")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lowered := strings.Replace(string(b), "0.8125", "0.1", 1)
	if lowered == string(b) {
		t.Fatal("threshold value not found in file")
	}
	if err := os.WriteFile(path, []byte(lowered), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Calibration(testModel); err == nil || !strings.Contains(err.Error(), "MAC") {
		t.Errorf("edited threshold: %v", err)
	}
	bad := *cal
	bad.Scale = []float32{0.5, 0, 1}
	if err := s.SaveCalibration(&bad); err == nil {
		t.Error("saved a zero scale")
	}
}

func TestFitStandardisation(t *testing.T) {
	// Unit vectors (1,0,0), (0,1,0), (0.6,0.8,0), (0.8,0.6,0): centre
	// (0.6, 0.6, 0); spreads √0.14, √0.14, 0. The third dimension never
	// moves, so its scale is the floor, a tenth of the mean spread.
	c := &Calibration{}
	err := c.FitStandardisation([][]float32{{2, 0, 0}, {0, 3, 0}, {0.6, 0.8, 0}, {8, 6, 0}})
	if err != nil {
		t.Fatal(err)
	}
	sd := math.Sqrt(0.14)
	wantC := []float32{0.6, 0.6, 0}
	wantS := []float64{sd, sd, 0.1 * 2 * sd / 3}
	for j := range wantC {
		if math.Abs(float64(c.Centre[j]-wantC[j])) > 1e-6 || math.Abs(float64(c.Scale[j])-wantS[j]) > 1e-6 {
			t.Errorf("dimension %d: centre %v scale %v, want %v and %v", j, c.Centre[j], c.Scale[j], wantC[j], wantS[j])
		}
	}
	u, err := c.apply([]float32{0, 5, 0})
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(float64(u[0])+0.6/sd) > 1e-5 || math.Abs(float64(u[1])-0.4/sd) > 1e-5 || u[2] != 0 {
		t.Errorf("apply((0,5,0)) = %v", u)
	}
	if err := c.FitStandardisation([][]float32{{1, 2}}); err == nil {
		t.Error("fitted on one vector")
	}
	if err := c.FitStandardisation([][]float32{{1, 2}, {2, 4}}); err == nil {
		t.Error("fitted on vectors of one direction")
	}
}
