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
	"syscall"

	"edge/internal/fsutil"
)

const (
	// legacyKeyFile is where the store key used to live, inside the store
	// it protects.
	legacyKeyFile = "store.key"
	lockFile      = ".lock"
	tmplExt       = ".tmpl"
	// MaxTemplates bounds how many templates identification reads.
	MaxTemplates = 10000
)

// ErrUnknownID is returned for a clinician with no template in the store.
var ErrUnknownID = errors.New("biometric: no template for this clinician")

// ErrExists is returned when enrolling an id that already has a template
// without asking to replace it.
var ErrExists = errors.New("biometric: clinician already enrolled")

// Store is a folder of sealed templates and calibration, and the key that
// seals them, which lives elsewhere (see the package comment).
type Store struct {
	dir     string
	keyPath string
	key     []byte
}

// Dir is the store's folder.
func (s *Store) Dir() string { return s.dir }

// KeyPath is the store key's file.
func (s *Store) KeyPath() string { return s.keyPath }

// DefaultKeyPath is where a store's key lives unless told otherwise: beside
// the store's folder, not in it, so that whoever may write the folder (to
// back up templates, or by a path bug) does not thereby hold the key that
// authenticates them.
func DefaultKeyPath(dir string) string { return filepath.Clean(dir) + ".key" }

// CreateStore opens the store in dir with its key at DefaultKeyPath(dir),
// making them when they are absent.
func CreateStore(dir string) (*Store, error) { return CreateStoreKey(dir, "") }

// CreateStoreKey opens the store in dir with its key at keyPath ("" for
// DefaultKeyPath), making the folder (0700) and a new random key (0600)
// when absent. Several processes creating one store at once all end up
// with the same key: the key file is created with link semantics and the
// losers read the winner's.
func CreateStoreKey(dir, keyPath string) (*Store, error) {
	if keyPath == "" {
		keyPath = DefaultKeyPath(dir)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("biometric: make store folder: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(keyPath), 0o700); err != nil {
		return nil, fmt.Errorf("biometric: make store key folder: %w", err)
	}
	if err := checkLegacyKey(dir); err != nil {
		return nil, err
	}
	_, _, err := fsutil.CreateOnce(keyPath, 64, func() ([]byte, error) {
		key := make([]byte, 32)
		if _, err := io.ReadFull(rand.Reader, key); err != nil {
			return nil, fmt.Errorf("biometric: make store key: %w", err)
		}
		return key, nil
	})
	if err != nil {
		return nil, fmt.Errorf("biometric: store key: %w", err)
	}
	return OpenStoreKey(dir, keyPath)
}

// OpenStore opens an existing store with its key at DefaultKeyPath(dir).
func OpenStore(dir string) (*Store, error) { return OpenStoreKey(dir, "") }

// OpenStoreKey opens an existing store; its key must be 32 bytes in a file
// no one else can read. Temporary files a power loss left in the store are
// removed under the store's lock.
func OpenStoreKey(dir, keyPath string) (*Store, error) {
	if keyPath == "" {
		keyPath = DefaultKeyPath(dir)
	}
	if err := checkLegacyKey(dir); err != nil {
		return nil, err
	}
	if _, err := os.Lstat(keyPath); errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("biometric: no store key at %s (enroll a clinician or run eval-biometrics --store first)", keyPath)
	}
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return nil, fmt.Errorf("biometric: no store folder %s (enroll a clinician or run eval-biometrics --store first)", dir)
	}
	key, err := fsutil.ReadPrivate(keyPath, 64)
	if err != nil {
		return nil, fmt.Errorf("biometric: store key: %w", err)
	}
	if len(key) != 32 {
		return nil, fmt.Errorf("biometric: store key %s is %d bytes, want 32", keyPath, len(key))
	}
	s := &Store{dir: dir, keyPath: keyPath, key: key}
	err = s.locked(func() error { _, err := fsutil.RemoveStale(dir); return err })
	// A store this process may only read (verify, identify) is opened
	// without the clean-up; saving to it fails later with a clear error.
	if err != nil && !errors.Is(err, fs.ErrPermission) && !errors.Is(err, syscall.EROFS) {
		return nil, err
	}
	return s, nil
}

// checkLegacyKey refuses a store that still keeps its key inside itself.
func checkLegacyKey(dir string) error {
	p := filepath.Join(dir, legacyKeyFile)
	if _, err := os.Lstat(p); err == nil {
		return fmt.Errorf("biometric: %s keeps its key inside the store; move it out (mv %s %s) or pass its new path", dir, p, DefaultKeyPath(dir))
	}
	return nil
}

// locked runs f holding the store's lock, so that saves to one store, from
// any number of processes, happen one at a time.
func (s *Store) locked(f func() error) error {
	l, err := fsutil.LockFile(filepath.Join(s.dir, lockFile))
	if err != nil {
		return fmt.Errorf("biometric: %w", err)
	}
	ferr := f()
	if err := l.Unlock(); err != nil && ferr == nil {
		ferr = fmt.Errorf("biometric: %w", err)
	}
	return ferr
}

func (s *Store) templatePath(id string) string { return filepath.Join(s.dir, id+tmplExt) }

// Save seals and writes the template of id atomically. Unless replace is
// set, an existing template is an error: re-enrolling a clinician should be
// a decision, not an accident. A template with a zero Secret gets a fresh
// one; replacing a template gives the new one the next Generation, which
// is how a clinician's protected templates are revoked (see the package
// comment).
func (s *Store) Save(id string, t *Template, replace bool) error {
	if err := ValidateID(id); err != nil {
		return err
	}
	return s.locked(func() error { return s.save(id, t, replace) })
}

// save is Save with the store's lock held.
func (s *Store) save(id string, t *Template, replace bool) error {
	path := s.templatePath(id)
	if replace {
		if old, err := s.Load(id); err == nil && t.Generation <= old.Generation {
			t.Generation = old.Generation + 1
		}
	}
	if t.Secret == (Secret{}) {
		sec, err := NewSecret(nil)
		if err != nil {
			return err
		}
		t.Secret = sec
	}
	sealed, err := Seal(s.key, id, t, nil)
	if err != nil {
		return err
	}
	fill := func(w io.Writer) error { _, err := w.Write(sealed); return err }
	if replace {
		return fsutil.WriteFile(path, 0o600, fill)
	}
	err = fsutil.WriteNew(path, 0o600, fill)
	if errors.Is(err, fsutil.ErrExists) {
		return fmt.Errorf("%w: %q (%s exists)", ErrExists, id, path)
	}
	return err
}

// Revoke gives the clinician's template a new secret and the next
// generation, keeping their enrollment vectors: every protected template
// made under the old secret stops matching the new registration.
func (s *Store) Revoke(id string) (*Template, error) {
	t, err := s.Load(id)
	if err != nil {
		return nil, err
	}
	sec, err := NewSecret(nil)
	if err != nil {
		return nil, err
	}
	t.Secret = sec
	t.Generation++
	if err := s.Save(id, t, true); err != nil {
		return nil, err
	}
	return t, nil
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

// Login verifies a probe made by model against the template of id and, on
// a match, makes the clinician's Identity for the session. No match gives
// the decision and a nil Identity; only errors are errors.
func (s *Store) Login(id string, model [32]byte, probe []float32) (Decision, *Identity, error) {
	t, err := s.Load(id)
	if err != nil {
		return Decision{}, nil, err
	}
	cal, err := s.Calibration(model)
	if err != nil {
		return Decision{}, nil, err
	}
	return LoginTemplate(id, t, model, cal, probe)
}

// LoginTemplate is Login with the template and calibration in hand (what
// identification has after choosing the best candidate).
func LoginTemplate(id string, t *Template, model [32]byte, cal *Calibration, probe []float32) (Decision, *Identity, error) {
	d, err := Verify(id, t, model, cal, probe)
	if err != nil || !d.Match {
		return d, nil, err
	}
	if t.Secret == (Secret{}) {
		return d, nil, fmt.Errorf("%w (%q)", ErrNoSecret, id)
	}
	ident, err := newIdentity(id, model, true, t.Generation, &t.Secret, cal, probe)
	if err != nil {
		return d, nil, err
	}
	return d, ident, nil
}

// FileIdentity makes an unverified identity (see the package function
// FileIdentity) for an enrolled clinician, with their secret, so that a hub
// that accepts unverified features can still check the protected template
// against the clinician's registration. The features are still scored
// against the template: a file of someone else's features is refused.
func (s *Store) FileIdentity(id string, probe []float32) (*Identity, error) {
	t, err := s.Load(id)
	if err != nil {
		return nil, err
	}
	cal, err := s.Calibration(t.Model)
	if err != nil {
		return nil, err
	}
	d, err := Verify(id, t, t.Model, cal, probe)
	if err != nil {
		return nil, err
	}
	if !d.Match {
		return nil, fmt.Errorf("biometric: the features do not match %q (score %.4f, threshold %.4f)", id, d.Score, d.Threshold)
	}
	if t.Secret == (Secret{}) {
		return nil, fmt.Errorf("%w (%q)", ErrNoSecret, id)
	}
	ident, err := newIdentity(id, [32]byte{}, false, t.Generation, &t.Secret, cal, probe)
	if err != nil {
		return nil, err
	}
	return ident, nil
}

// Registration is the registration the hub needs for clinician id: their
// protected template under the store's current calibration.
func (s *Store) Registration(id string) (*Registration, error) {
	t, err := s.Load(id)
	if err != nil {
		return nil, err
	}
	cal, err := s.Calibration(t.Model)
	if err != nil {
		return nil, err
	}
	return MakeRegistration(id, t, cal)
}
