// Package testenv finds the shared sample images for tests and skips a test,
// saying why, where they are not present.
package testenv

import (
	"os"
	"path/filepath"
	"testing"
)

// DataDir returns the shared data folder (EDGE_DATA, or ../shared/data beside
// the module root), or skips the test when it is absent.
func DataDir(t testing.TB) string {
	t.Helper()
	if d := os.Getenv("EDGE_DATA"); d != "" {
		if st, err := os.Stat(d); err == nil && st.IsDir() {
			return d
		}
		t.Skipf("EDGE_DATA=%s is not a folder", d)
	}
	root, err := ModuleRoot()
	if err != nil {
		t.Skipf("sample data not found: %v", err)
	}
	d := filepath.Join(root, "..", "shared", "data")
	if st, err := os.Stat(d); err != nil || !st.IsDir() {
		t.Skipf("sample data not present at %s (set EDGE_DATA to run this test)", d)
	}
	return d
}

// Path returns a file or folder under the shared data folder, skipping the test when it is absent.
func Path(t testing.TB, rel string) string {
	t.Helper()
	p := filepath.Join(DataDir(t), rel)
	if _, err := os.Stat(p); err != nil {
		t.Skipf("sample %s not present: %v", rel, err)
	}
	return p
}

// ModuleRoot walks up from the working directory to the folder holding go.mod.
func ModuleRoot() (string, error) {
	d, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d, nil
		}
		p := filepath.Dir(d)
		if p == d {
			return "", os.ErrNotExist
		}
		d = p
	}
}
