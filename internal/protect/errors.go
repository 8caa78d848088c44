package protect

import "errors"

// ErrIntegrity is matched (errors.Is) by every error Recover returns because
// an envelope's contents failed a check after its seal opened: a body that
// does not decode, a mark that does not verify, a payload whose CRC is
// wrong, a hidden payload that differs from the sealed one, restored pixels whose
// SHA-256 is not the sealed one. Such an envelope was made wrongly or
// tampered with by a holder of the keys; retrying cannot help.
var ErrIntegrity = errors.New("protect: integrity check failed")

// The integrity checks, each also matched by errors.Is on Recover's error
// (ErrPayloadCRC, the payload's own, is one of them).
var (
	ErrBodyCorrupt     = errors.New("protect: body does not decode")
	ErrMarkInvalid     = errors.New("protect: mark does not verify")
	ErrPayloadMismatch = errors.New("protect: the payload hidden in the image differs from the one sealed with it")
	ErrPixelSHA256     = errors.New("protect: restored pixels differ from the original (SHA-256 mismatch)")
)

// IntegrityError is the type of those errors: Check is one of the Err*
// values above, Err the cause with what and where.
type IntegrityError struct {
	Check error
	Err   error
}

func (e *IntegrityError) Error() string {
	if e.Err == nil {
		return e.Check.Error()
	}
	return e.Check.Error() + ": " + e.Err.Error()
}

func (e *IntegrityError) Unwrap() error { return e.Err }

// Is matches ErrIntegrity and the check that failed.
func (e *IntegrityError) Is(target error) bool {
	return target == ErrIntegrity || target == e.Check
}

func integrity(check, err error) error {
	return &IntegrityError{Check: check, Err: err}
}
