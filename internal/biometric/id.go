package biometric

import "fmt"

// MaxIDLen bounds clinician ids; they become file names in the store.
const MaxIDLen = 64

// ValidateID checks that id is a safe, plain file name: 1..64 characters
// from [A-Za-z0-9._-], not starting with '.' or '-' (no hidden files, no
// "..", nothing a command line mistakes for a flag).
func ValidateID(id string) error {
	if id == "" || len(id) > MaxIDLen {
		return fmt.Errorf("biometric: clinician id %q: want 1..%d characters", id, MaxIDLen)
	}
	if id[0] == '.' || id[0] == '-' {
		return fmt.Errorf("biometric: clinician id %q starts with %q", id, id[0])
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-'
		if !ok {
			return fmt.Errorf("biometric: clinician id %q: byte %d (%q) is not in [A-Za-z0-9._-]", id, i, c)
		}
	}
	return nil
}
