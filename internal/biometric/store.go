package biometric

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"edge/internal/fsutil"
)

const (
	keyFile = "store.key"
	tmplExt = ".tmpl"
	// MaxTemplates bounds how many templates identification reads.
	MaxTemplates = 10000
)

// ErrUnknownID is returned for a clinician with no template in the store.
var ErrUnknownID = errors.New("biometric: no template for this clinician")

// ErrExists is returned when enrolling an id that already has a template
// without asking to replace it.
var ErrExists = errors.New("biometric: clinician already enrolled")

// Store is a folder of sealed templates and the key that seals them.
type Store struct {
	dir string
	key []byte
}

// Dir is the store's folder.
func (s *Store) Dir() string { return s.dir }

// CreateStore opens the store in dir, making the folder (0700) and a new
// random store key (0600) when they are absent.
func CreateStore(dir string) (*Store, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("biometric: make store folder: %w", err)
	}
	path := filepath.Join(dir, keyFile)
	if _, err := os.Lstat(path); errors.Is(err, fs.ErrNotExist) {
		key := make([]byte, 32)
		if _, err := io.ReadFull(rand.Reader, key); err != nil {
			return nil, fmt.Errorf("biometric: make store key: %w", err)
		}
		if err := fsutil.WriteFile(path, 0o600, func(w io.Writer) error {
			_, err := w.Write(key)
			return err
		}); err != nil {
			return nil, fmt.Errorf("biometric: write store key: %w", err)
		}
	}
	return OpenStore(dir)
}

// OpenStore opens an existing store; its key must be 32 bytes in a file no
// one else can read.
func OpenStore(dir string) (*Store, error) {
	path := filepath.Join(dir, keyFile)
	if _, err := os.Lstat(path); errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("biometric: no store key at %s (enroll a clinician or run eval-biometrics --store first)", path)
	}
	key, err := fsutil.ReadPrivate(path, 64)
	if err != nil {
		return nil, fmt.Errorf("biometric: store key: %w", err)
	}
	if len(key) != 32 {
		return nil, fmt.Errorf("biometric: store key %s is %d bytes, want 32", path, len(key))
	}
	return &Store{dir: dir, key: key}, nil
}

func (s *Store) templatePath(id string) string { return filepath.Join(s.dir, id+tmplExt) }

// Save seals and writes the template of id atomically. Unless replace is
// set, an existing template is an error: re-enrolling a clinician should be
// a decision, not an accident.
func (s *Store) Save(id string, t *Template, replace bool) error {
	sealed, err := Seal(s.key, id, t, nil)
	if err != nil {
		return err
	}
	path := s.templatePath(id)
	if !replace {
		if _, err := os.Lstat(path); err == nil {
			return fmt.Errorf("%w: %q (%s exists)", ErrExists, id, path)
		}
	}
	return fsutil.WriteFile(path, 0o600, func(w io.Writer) error {
		_, err := w.Write(sealed)
		return err
	})
}

// Has reports whether id has a template in the store, so a command can
// refuse a second enrollment before it spends time on the prints.
func (s *Store) Has(id string) (bool, error) {
	if err := ValidateID(id); err != nil {
		return false, err
	}
	_, err := os.Lstat(s.templatePath(id))
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, fs.ErrNotExist):
		return false, nil
	}
	return false, fmt.Errorf("biometric: look for template of %q: %w", id, err)
}

// Load reads and opens the template of id.
func (s *Store) Load(id string) (*Template, error) {
	if err := ValidateID(id); err != nil {
		return nil, err
	}
	path := s.templatePath(id)
	if _, err := os.Lstat(path); errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: %q (no %s)", ErrUnknownID, id, path)
	}
	b, err := fsutil.ReadPrivate(path, MaxTemplateFile)
	if err != nil {
		return nil, fmt.Errorf("biometric: template of %q: %w", id, err)
	}
	return Open(s.key, id, b)
}

// IDs lists the enrolled clinicians in byte order. Files that are not
// templates of a valid id are ignored.
func (s *Store) IDs() ([]string, error) {
	ents, err := os.ReadDir(s.dir)
	if err != nil {
		return nil, fmt.Errorf("biometric: list store: %w", err)
	}
	var ids []string
	for _, e := range ents {
		id, ok := strings.CutSuffix(e.Name(), tmplExt)
		if !ok || !e.Type().IsRegular() || ValidateID(id) != nil {
			continue
		}
		if len(ids) == MaxTemplates {
			return nil, fmt.Errorf("biometric: store %s holds more than %d templates", s.dir, MaxTemplates)
		}
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids, nil
}
