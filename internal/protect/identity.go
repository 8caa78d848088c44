package protect

import (
	"errors"
	"fmt"

	"edge/internal/biometric"
)

// ClinicianVerifier is what the hub's Opener asks whether an image's
// protected template is the clinician's; *biometric.Registry is one.
type ClinicianVerifier interface {
	Verify(id string, template []byte) (biometric.HubDecision, error)
}

var _ ClinicianVerifier = (*biometric.Registry)(nil)

// ClinicianError is returned by Recover when the protected template an
// image carries does not match the registration of the clinician it names.
type ClinicianError struct {
	Decision biometric.HubDecision
}

func (e *ClinicianError) Error() string {
	return fmt.Sprintf("protect: the image's protected template is %.4f from %q's registration (generation %d), above the threshold %.4f",
		e.Decision.Distance, e.Decision.ID, e.Decision.Generation, e.Decision.Threshold)
}

// ErrUnverifiedModel is wrapped by Recover for an envelope whose features
// came from no known model: a zero model hash (features read from a file)
// or one not in Opener.Models, unless Opener.AllowUnverified.
var ErrUnverifiedModel = errors.New("protect: envelope's features come from no accepted model")

// ErrUnverifiedIdentity is wrapped by Protect, when the Sealer requires a
// verified clinician, for an identity that no login made.
var ErrUnverifiedIdentity = errors.New("protect: the clinician was not verified on this device")

// ErrNoIdentity is returned by Protect for a request without a clinician.
var ErrNoIdentity = errors.New("protect: no clinician identity: a clinician must log in (or, for tests and evaluation, give a file identity)")

// identityParts is what Protect needs of the clinician for one image: the
// payload to hide (protected template and id) and the input keying
// material of K_bio.
func identityParts(id *biometric.Identity, requireVerified bool) (payload, ikm []byte, err error) {
	if id == nil {
		return nil, nil, ErrNoIdentity
	}
	if requireVerified && !id.Verified() {
		return nil, nil, fmt.Errorf("%w: %q comes from a feature file, not a fingerprint login on this device", ErrUnverifiedIdentity, id.ClinicianID())
	}
	if err := biometric.ValidateID(id.ClinicianID()); err != nil {
		return nil, nil, fmt.Errorf("protect: %w", err)
	}
	payload, err = (&Payload{Template: id.ProtectedTemplate(), ClinicianID: id.ClinicianID()}).Marshal()
	if err != nil {
		return nil, nil, err
	}
	return payload, id.KeyMaterial(), nil
}

// checkModel applies the Opener's model policy to an envelope's model hash.
func (o *Opener) checkModel(h [32]byte) error {
	if o.AllowUnverified {
		return nil
	}
	if h == ([32]byte{}) {
		return fmt.Errorf("%w: the model hash is zero (features read from a file); the hub accepts these only when configured for tests or evaluation", ErrUnverifiedModel)
	}
	for _, m := range o.Models {
		if m == h {
			return nil
		}
	}
	return fmt.Errorf("%w: model %x… is not one this hub accepts", ErrUnverifiedModel, h[:8])
}

// checkClinician verifies the extracted protected template against the
// registry, when the Opener has one.
func (o *Opener) checkClinician(r *Recovered) error {
	if o.Clinicians == nil {
		return nil
	}
	d, err := o.Clinicians.Verify(r.ClinicianID, r.Template)
	if err != nil {
		return fmt.Errorf("protect: verify clinician: %w", err)
	}
	r.Clinician = &d
	if !d.Match {
		return &ClinicianError{Decision: d}
	}
	return nil
}
