// Package fsutil writes files so that a reader sees either the old content or
// the whole new content, never a part: the appliance may lose power at any
// moment, and a half-written envelope or key is worse than none.
package fsutil

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// WriteFile writes what fill produces to path with the given mode: into a
// temporary file in the same directory, synced, renamed over path, and the
// directory synced. If fill fails, nothing is left behind.
func WriteFile(path string, perm os.FileMode, fill func(w io.Writer) error) error {
	tmp, err := writeTemp(path, perm, fill)
	if err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("fsutil: rename %s to %s: %w", tmp, path, err)
	}
	return SyncDir(filepath.Dir(path))
}

// SyncDir makes a rename or a new file in dir durable.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("fsutil: open directory %s: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("fsutil: sync directory %s: %w", dir, err)
	}
	return nil
}

// ReadPrivate reads a private key or template file, refusing one that others
// can read or write: a leaked key cannot be taken back.
func ReadPrivate(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("fsutil: open private file: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("fsutil: stat %s: %w", path, err)
	}
	if m := st.Mode().Perm(); m&0o077 != 0 {
		return nil, fmt.Errorf("fsutil: %s has mode %04o, want 0600 (chmod 600 %s)", path, m, path)
	}
	if st.Size() > limit {
		return nil, fmt.Errorf("fsutil: %s is %d bytes, more than %d", path, st.Size(), limit)
	}
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, fmt.Errorf("fsutil: read %s: %w", path, err)
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("fsutil: %s is more than %d bytes", path, limit)
	}
	return b, nil
}
