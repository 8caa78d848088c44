package biometric

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
)

// integerVector is made of small integers only, so that it is the same on
// every architecture (random normals through math.Exp are not).
func integerVector(seed, dim int) []float32 {
	v := make([]float32, dim)
	for i := range v {
		v[i] = float32((i*7+seed*13+i*i*seed)%23) - 11
	}
	return v
}

// TestBioHashGolden pins the protected template's bits: the hub on amd64
// must read what an ARM device made.
func TestBioHashGolden(t *testing.T) {
	sec := Secret{1, 2, 3}
	p, err := (*Calibration)(nil).Protect(&sec, integerVector(5, 2048))
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(p)
	const want = "df5c3e14130d219be592719e8f31888ceba5da52ef6d2648659c2ba51d7da1e9"
	if got := hex.EncodeToString(sum[:]); got != want {
		t.Errorf("BioHash SHA-256 %s, want %s", got, want)
	}
	if n := len(p); n != ProtectedBytes {
		t.Fatalf("%d bytes", n)
	}
	ones := 0
	for _, b := range p {
		for ; b != 0; b &= b - 1 {
			ones++
		}
	}
	if ones < ProtectedBits*4/10 || ones > ProtectedBits*6/10 {
		t.Errorf("%d of %d bits set: the projection signs are not balanced", ones, ProtectedBits)
	}
}

// TestProtectedSeparates: impressions of one synthetic finger land close
// under one secret, other fingers near half the bits away, and another
// secret makes the same finger unrecognisable (revocation).
func TestProtectedSeparates(t *testing.T) {
	a := fingerVectors(1, 4, 512, 0.3)
	b := fingerVectors(2, 1, 512, 0.3)
	sec, other := Secret{9}, Secret{10}
	tm := &Template{Vectors: a[:3], Secret: sec}
	reg, err := tm.Protected(nil)
	if err != nil {
		t.Fatal(err)
	}
	same, _ := (*Calibration)(nil).Protect(&sec, a[3])
	imp, _ := (*Calibration)(nil).Protect(&sec, b[0])
	revoked, _ := (&Template{Vectors: a[:3], Secret: other}).Protected(nil)
	dg, di, dr := Hamming(reg, same), Hamming(reg, imp), Hamming(revoked, same)
	t.Logf("genuine %.3f impostor %.3f revoked %.3f", dg, di, dr)
	if dg > 0.2 {
		t.Errorf("genuine distance %.3f, want ≤ 0.2", dg)
	}
	if di < 0.4 || dr < 0.4 {
		t.Errorf("impostor %.3f, revoked %.3f: want both ≥ 0.4", di, dr)
	}
}

func TestCode(t *testing.T) {
	c, err := Code(integerVector(3, 2048))
	if err != nil {
		t.Fatal(err)
	}
	if len(c) != CodeBytes {
		t.Fatalf("%d bytes", len(c))
	}
	if _, err := Code(make([]float32, 100)); err == nil {
		t.Error("made a code of 100 features")
	}
}

func TestLoginMakesIdentityOnlyOnMatch(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "store")
	s, err := CreateStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	vs := fingerVectors(4, 4, 2048, 0.3)
	cal := &Calibration{Threshold: 0.5, Model: hex.EncodeToString(testModel[:]), ProtectedThreshold: 0.3}
	if err := s.SaveCalibration(cal); err != nil {
		t.Fatal(err)
	}
	tm, _, err := Enroll(testModel, vs[:3], cal)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Save("dr.a", tm, false); err != nil {
		t.Fatal(err)
	}
	d, id, err := s.Login("dr.a", testModel, vs[3])
	if err != nil || !d.Match || id == nil {
		t.Fatalf("genuine login: %+v, %v, %v", d, id, err)
	}
	if id.ClinicianID() != "dr.a" || id.Model() != testModel || !id.Verified() {
		t.Errorf("identity %q %x %v", id.ClinicianID(), id.Model(), id.Verified())
	}
	d, id2, err := s.Login("dr.a", testModel, fingerVectors(5, 1, 2048, 0.3)[0])
	if err != nil || d.Match || id2 != nil {
		t.Fatalf("impostor login: %+v, %v, %v", d, id2, err)
	}
	reg, err := s.Registration("dr.a")
	if err != nil {
		t.Fatal(err)
	}
	if hd := Hamming(reg.Template, id.ProtectedTemplate()); hd > reg.Threshold {
		t.Errorf("the login's protected template is %.3f from the registration, threshold %.3f", hd, reg.Threshold)
	}
	// Key material: the raw code and a secret-derived key, never the
	// protected template.
	km := id.KeyMaterial()
	code, _ := Code(vs[3])
	if len(km) != CodeBytes+32 || !slices.Equal(km[:CodeBytes], code) {
		t.Errorf("key material is %d bytes / does not start with the feature code", len(km))
	}
}

// TestConcurrentCreateAndSave is the race of the review: 20 rounds of 4
// processes' worth of create-store-and-enroll on a new store. Every
// template must open afterwards.
func TestConcurrentCreateAndSave(t *testing.T) {
	root := t.TempDir()
	for round := range 20 {
		dir := filepath.Join(root, fmt.Sprintf("store%d", round))
		var wg sync.WaitGroup
		errs := make([]error, 4)
		for k := range 4 {
			wg.Go(func() {
				s, err := CreateStore(dir)
				if err == nil {
					err = s.Save(fmt.Sprintf("c%d", k), enrollTestTemplate(t, uint64(k+1)), false)
				}
				errs[k] = err
			})
		}
		wg.Wait()
		for k, err := range errs {
			if err != nil {
				t.Fatalf("round %d writer %d: %v", round, k, err)
			}
		}
		s, err := OpenStore(dir)
		if err != nil {
			t.Fatal(err)
		}
		for k := range 4 {
			if _, err := s.Load(fmt.Sprintf("c%d", k)); err != nil {
				t.Errorf("round %d: template %d unreadable: %v", round, k, err)
			}
		}
	}
}

// TestConcurrentSaveSameID: of writers racing to enroll one new id, exactly
// one wins and the rest get ErrExists.
func TestConcurrentSaveSameID(t *testing.T) {
	s, err := CreateStore(filepath.Join(t.TempDir(), "s"))
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make([]error, 8)
	for k := range errs {
		wg.Go(func() { errs[k] = s.Save("same", enrollTestTemplate(t, uint64(k+1)), false) })
	}
	wg.Wait()
	won := 0
	for _, err := range errs {
		switch {
		case err == nil:
			won++
		case !errors.Is(err, ErrExists):
			t.Errorf("loser: %v, want ErrExists", err)
		}
	}
	if won != 1 {
		t.Errorf("%d writers won, want 1", won)
	}
}

func TestStoreKeyApartAndLegacyRefused(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "store")
	if _, err := CreateStore(dir); err != nil {
		t.Fatal(err)
	}
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if strings.Contains(e.Name(), "key") {
			t.Errorf("the store folder holds %s", e.Name())
		}
	}
	if _, err := os.Stat(filepath.Join(root, "store.key")); err != nil {
		t.Errorf("no key beside the store: %v", err)
	}
	own := filepath.Join(root, "keys", "mine.key")
	if _, err := CreateStoreKey(filepath.Join(root, "s2"), own); err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(own); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("key at its own path: %v %v", st, err)
	}
	legacy := filepath.Join(root, "old")
	os.MkdirAll(legacy, 0o700)
	os.WriteFile(filepath.Join(legacy, "store.key"), make([]byte, 32), 0o600)
	if _, err := OpenStore(legacy); err == nil || !strings.Contains(err.Error(), "inside the store") {
		t.Errorf("legacy layout: %v", err)
	}
}

func TestStaleTempRemovedAtOpen(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "s")
	if _, err := CreateStore(dir); err != nil {
		t.Fatal(err)
	}
	stale := filepath.Join(dir, ".a.tmpl.tmp123")
	os.WriteFile(stale, []byte("half"), 0o600)
	if _, err := OpenStore(dir); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(stale); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("stale temporary file still there: %v", err)
	}
}

func TestCalibrationRollbackRefused(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "s")
	s, err := CreateStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	model := hex.EncodeToString(testModel[:])
	if err := s.SaveCalibration(&Calibration{Threshold: 0.2, Model: model}); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "calibration.json")
	old, _ := os.ReadFile(path)
	c2 := &Calibration{Threshold: 0.6, Model: model}
	if err := s.SaveCalibration(c2); err != nil {
		t.Fatal(err)
	}
	if c2.Version != 2 {
		t.Errorf("second calibration has version %d, want 2", c2.Version)
	}
	if got, err := s.Calibration(testModel); err != nil || got.Threshold != 0.6 {
		t.Fatalf("current calibration: %+v %v", got, err)
	}
	if err := os.WriteFile(path, old, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Calibration(testModel); err == nil || !strings.Contains(err.Error(), "put back") {
		t.Errorf("rolled-back calibration: %v", err)
	}
}

func TestRegistry(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "store")
	s, err := CreateStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	cal := &Calibration{Threshold: 0.5, Model: hex.EncodeToString(testModel[:]), ProtectedThreshold: 0.3}
	if err := s.SaveCalibration(cal); err != nil {
		t.Fatal(err)
	}
	vs := fingerVectors(8, 4, 2048, 0.3)
	tm, _, err := Enroll(testModel, vs[:3], cal)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Save("dr.b", tm, false); err != nil {
		t.Fatal(err)
	}
	reg, err := s.Registration("dr.b")
	if err != nil {
		t.Fatal(err)
	}
	regFile := filepath.Join(t.TempDir(), "dr.b.reg")
	if err := WriteRegistration(regFile, reg, false); err != nil {
		t.Fatal(err)
	}
	if err := WriteRegistration(regFile, reg, false); err == nil {
		t.Error("registration file overwritten without force")
	}
	if st, _ := os.Stat(regFile); st.Mode().Perm() != 0o600 {
		t.Errorf("registration file mode %04o", st.Mode().Perm())
	}
	got, err := ReadRegistration(regFile)
	if err != nil {
		t.Fatal(err)
	}
	hub, err := OpenRegistry(filepath.Join(t.TempDir(), "hub"))
	if err != nil {
		t.Fatal(err)
	}
	if err := hub.Register(got); err != nil {
		t.Fatal(err)
	}
	if err := hub.Register(got); err != nil {
		t.Errorf("registering the same again: %v", err)
	}
	_, ident, err := s.Login("dr.b", testModel, vs[3])
	if err != nil || ident == nil {
		t.Fatalf("login: %v", err)
	}
	old := ident.ProtectedTemplate()
	d, err := hub.Verify("dr.b", old)
	if err != nil || !d.Match {
		t.Fatalf("genuine at the hub: %+v %v", d, err)
	}
	_, imp, err := LoginTemplate("dr.b", tm, testModel, &Calibration{Threshold: -1}, fingerVectors(9, 1, 2048, 0.3)[0])
	if err != nil {
		t.Fatal(err)
	}
	if d, _ := hub.Verify("dr.b", imp.ProtectedTemplate()); d.Match {
		t.Errorf("another finger through a lax device login matched at the hub: %+v", d)
	}
	if _, err := hub.Verify("nobody", old); !errors.Is(err, ErrNotRegistered) {
		t.Errorf("unknown clinician: %v", err)
	}

	// Revocation: a new secret; the old images no longer match the new
	// registration, and the old registration cannot be put back.
	if _, err := s.Revoke("dr.b"); err != nil {
		t.Fatal(err)
	}
	reg2, err := s.Registration("dr.b")
	if err != nil {
		t.Fatal(err)
	}
	if reg2.Generation != reg.Generation+1 {
		t.Errorf("generation %d after revocation, want %d", reg2.Generation, reg.Generation+1)
	}
	if err := hub.Register(reg2); err != nil {
		t.Fatal(err)
	}
	if d, err := hub.Verify("dr.b", old); err != nil || d.Match {
		t.Errorf("revoked template still matches: %+v %v", d, err)
	}
	if err := hub.Register(got); !errors.Is(err, ErrRevoked) {
		t.Errorf("old registration put back: %v", err)
	}
	_, ident2, _ := s.Login("dr.b", testModel, vs[3])
	if d, _ := hub.Verify("dr.b", ident2.ProtectedTemplate()); !d.Match {
		t.Errorf("re-enrolled clinician does not match: %+v", d)
	}
	// A new calibration, same generation: the newer registration replaces
	// the current one, an older one is refused.
	recal := *reg2
	recal.Calibration++
	recal.Template = append(Protected(nil), reg2.Template...)
	recal.Template[0] ^= 0xff
	if err := hub.Register(&recal); err != nil {
		t.Errorf("registration under a newer calibration: %v", err)
	}
	if err := hub.Register(reg2); err == nil {
		t.Error("registration under an older calibration accepted")
	}
	other := recal
	other.Template = append(Protected(nil), recal.Template...)
	other.Template[1] ^= 0xff
	if err := hub.Register(&other); err == nil {
		t.Error("another template under the same generation and calibration accepted")
	}
	if err := hub.Revoke("dr.b"); err != nil {
		t.Fatal(err)
	}
	if _, err := hub.Verify("dr.b", old); !errors.Is(err, ErrNotRegistered) {
		t.Errorf("after hub revocation: %v", err)
	}
}
