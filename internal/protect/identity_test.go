package protect

import (
	"context"
	"errors"
	"path/filepath"
	"testing"

	"edge/internal/biometric"
	"edge/internal/uplink"
)

// TestOpenerModelPolicy: a hub refuses features from a file (zero model
// hash) and from models it does not list, unless told to accept them.
func TestOpenerModelPolicy(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	p, err := f.sealer.Protect(ctx, &Request{Image: synthetic(64, 64, 8, false, 1, 9), Identity: testIdentity(t, 1, "a")})
	if err != nil {
		t.Fatal(err)
	}
	if p.Header.ModelHash != ([32]byte{}) {
		t.Fatalf("a file identity sealed model hash %x", p.Header.ModelHash)
	}
	strict := &Opener{Hub: f.hub, Trust: uplink.TrustDevices(f.dev.Public()), Models: [][32]byte{{7}}}
	if _, err := strict.Recover(ctx, p.Envelope); !errors.Is(err, ErrUnverifiedModel) {
		t.Errorf("zero model hash: %v, want ErrUnverifiedModel", err)
	}
	if _, err := f.opener.Recover(ctx, p.Envelope); err != nil {
		t.Errorf("with AllowUnverified: %v", err)
	}
	strictSealer := *f.sealer
	strictSealer.RequireVerified = true
	if _, err := strictSealer.Protect(ctx, &Request{Image: synthetic(64, 64, 8, false, 1, 9), Identity: testIdentity(t, 1, "a")}); !errors.Is(err, ErrUnverifiedIdentity) {
		t.Errorf("a sealer that requires a login took a file identity: %v", err)
	}
}

// TestOpenerVerifiesClinician: with a registry, Recover checks the image's
// protected template against the clinician's registration; a revoked
// registration makes the clinician's old images fail.
func TestOpenerVerifiesClinician(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	secret := biometric.Secret{5, 5}
	feats := testFeatures(11)
	ident, err := biometric.FileIdentity("dr.reg", &secret, nil, feats)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &biometric.Template{Vectors: [][]float32{feats}, Secret: secret, Generation: 1}
	reg, err := biometric.MakeRegistration("dr.reg", tmpl, nil)
	if err != nil {
		t.Fatal(err)
	}
	reg.Threshold = 0.25
	hub, err := biometric.OpenRegistry(filepath.Join(t.TempDir(), "reg"))
	if err != nil {
		t.Fatal(err)
	}
	if err := hub.Register(reg); err != nil {
		t.Fatal(err)
	}
	o := *f.opener
	o.Clinicians = hub
	p, err := f.sealer.Protect(ctx, &Request{Image: synthetic(64, 64, 8, false, 1, 3), Identity: ident})
	if err != nil {
		t.Fatal(err)
	}
	r, err := o.Recover(ctx, p.Envelope)
	if err != nil {
		t.Fatal(err)
	}
	if r.Clinician == nil || !r.Clinician.Match || r.Clinician.Distance != 0 {
		t.Fatalf("decision %+v", r.Clinician)
	}
	// Someone else's features under the same id do not pass.
	other, _ := biometric.FileIdentity("dr.reg", &secret, nil, testFeatures(12))
	p2, err := f.sealer.Protect(ctx, &Request{Image: synthetic(64, 64, 8, false, 1, 3), Identity: other})
	if err != nil {
		t.Fatal(err)
	}
	var ce *ClinicianError
	if _, err := o.Recover(ctx, p2.Envelope); !errors.As(err, &ce) {
		t.Errorf("other features: %v, want a ClinicianError", err)
	}
	// Revocation: a new secret, a new registration; the old image fails.
	tmpl.Secret, tmpl.Generation = biometric.Secret{6}, 2
	reg2, _ := biometric.MakeRegistration("dr.reg", tmpl, nil)
	reg2.Threshold = 0.25
	if err := hub.Register(reg2); err != nil {
		t.Fatal(err)
	}
	if _, err := o.Recover(ctx, p.Envelope); !errors.As(err, &ce) {
		t.Errorf("revoked clinician's old image: %v, want a ClinicianError", err)
	}
}
