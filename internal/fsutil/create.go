package fsutil

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// ErrExists is wrapped by WriteNew when path already exists.
var ErrExists = errors.New("fsutil: file already exists")

// tempPattern is the name CreateTemp gives the temporary twin of path; the
// same pattern lets RemoveStale find the ones a power loss left behind.
func tempPattern(path string) string { return "." + filepath.Base(path) + ".tmp*" }

// writeTemp writes fill's output into a synced temporary file beside path
// and returns its name; the caller links or renames it into place.
func writeTemp(path string, perm os.FileMode, fill func(w io.Writer) error) (tmp string, err error) {
	f, err := os.CreateTemp(filepath.Dir(path), tempPattern(path))
	if err != nil {
		return "", fmt.Errorf("fsutil: create temporary file for %s: %w", path, err)
	}
	name := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(name)
		}
	}()
	tmp = name
	if err = f.Chmod(perm); err != nil {
		return "", fmt.Errorf("fsutil: chmod %s: %w", tmp, err)
	}
	bw := bufio.NewWriterSize(f, 1<<16)
	if err = fill(bw); err != nil {
		return "", err
	}
	if err = bw.Flush(); err != nil {
		return "", fmt.Errorf("fsutil: write %s: %w", tmp, err)
	}
	if err = f.Sync(); err != nil {
		return "", fmt.Errorf("fsutil: sync %s: %w", tmp, err)
	}
	if err = f.Close(); err != nil {
		return "", fmt.Errorf("fsutil: close %s: %w", tmp, err)
	}
	return tmp, nil
}

// WriteNew writes what fill produces to path, which must not exist: into a
// synced temporary file that is then hard-linked to path. link, unlike
// rename, fails when path exists, so of two writers racing for one path
// exactly one wins and the other gets ErrExists; and a reader that sees path
// sees it whole. A check before a rename leaves a gap in which both pass.
func WriteNew(path string, perm os.FileMode, fill func(w io.Writer) error) error {
	tmp, err := writeTemp(path, perm, fill)
	if err != nil {
		return err
	}
	defer os.Remove(tmp)
	if err := os.Link(tmp, path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("%w: %s", ErrExists, path)
		}
		return fmt.Errorf("fsutil: link %s to %s: %w", tmp, path, err)
	}
	if err := os.Remove(tmp); err != nil {
		return fmt.Errorf("fsutil: remove %s: %w", tmp, err)
	}
	return SyncDir(filepath.Dir(path))
}

// CreateOnce returns the content of the private file at path, creating it
// with make's bytes (mode 0600) when it does not exist. When several
// processes create it at once, all of them return the winner's content.
func CreateOnce(path string, limit int64, make func() ([]byte, error)) (b []byte, created bool, err error) {
	if _, err := os.Lstat(path); err == nil {
		b, err := ReadPrivate(path, limit)
		return b, false, err
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, false, fmt.Errorf("fsutil: look for %s: %w", path, err)
	}
	nb, err := make()
	if err != nil {
		return nil, false, err
	}
	err = WriteNew(path, 0o600, func(w io.Writer) error { _, err := w.Write(nb); return err })
	switch {
	case err == nil:
		return nb, true, nil
	case errors.Is(err, ErrExists):
		b, err := ReadPrivate(path, limit)
		return b, false, err
	}
	return nil, false, err
}

// RemoveStale removes the temporary files that WriteFile and WriteNew leave
// in dir when the power goes between creating and renaming them. Call it
// only while no other writer can be writing into dir (under its Lock, or at
// start before the writers start).
func RemoveStale(dir string) (int, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return 0, fmt.Errorf("fsutil: list %s: %w", dir, err)
	}
	n := 0
	for _, e := range ents {
		name := e.Name()
		if !e.Type().IsRegular() || !strings.HasPrefix(name, ".") || !strings.Contains(name, ".tmp") {
			continue
		}
		if err := os.Remove(filepath.Join(dir, name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return n, fmt.Errorf("fsutil: remove stale %s: %w", name, err)
		}
		n++
	}
	return n, nil
}

// RemoveStaleFor removes the temporary files a power loss left behind for
// one output path, leaving the rest of its folder alone.
func RemoveStaleFor(path string) error {
	m, err := filepath.Glob(filepath.Join(filepath.Dir(path), tempPattern(path)))
	if err != nil {
		return fmt.Errorf("fsutil: stale temporary files of %s: %w", path, err)
	}
	for _, p := range m {
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("fsutil: remove stale %s: %w", p, err)
		}
	}
	return nil
}

// CheckOutput refuses an output path that already exists unless force is
// set: a command never silently replaces a file it did not make.
func CheckOutput(path string, force bool) error {
	if force {
		return nil
	}
	if _, err := os.Lstat(path); err == nil {
		return fmt.Errorf("%w: %s (pass --force to replace it)", ErrExists, path)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("fsutil: look for %s: %w", path, err)
	}
	return nil
}

// SameFile reports whether two output paths name one file: equal after
// cleaning, or the same existing file under two names.
func SameFile(a, b string) bool {
	if a == "" || b == "" {
		return false
	}
	aa, err1 := filepath.Abs(a)
	bb, err2 := filepath.Abs(b)
	if err1 == nil && err2 == nil && aa == bb {
		return true
	}
	sa, err1 := os.Stat(a)
	sb, err2 := os.Stat(b)
	return err1 == nil && err2 == nil && os.SameFile(sa, sb)
}
