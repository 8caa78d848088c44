// Package testenv finds what a test needs from outside the package (the shared
// sample images, an installed peer program, a fetched library) and skips the
// test, saying why, where it is absent.
//
// Every skip it makes names the missing thing in one fixed form,
//
//	needs data "/abs/path": why
//	needs tool "name": why
//	needs file "/abs/path": why
//
// so that make test's report (./internal/testenv/testreport) can list the
// skips and, under CI=true, fail a run where the thing named is in fact there.
//
// Under CI=true a tool or file that make test installs itself (Debian
// packages, the ONNX Runtime libraries) is a failure when absent, not a skip,
// and so is a shared data folder that lacks one of its samples. A shared data
// folder that is absent altogether is still a skip: a fresh clone has none.
// EDGE_DATA set to something that is not a folder is always an error.
package testenv

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// CI reports whether the tests run under CI (CI=true), where a check that
// cannot run is a failure.
func CI() bool { return os.Getenv("CI") == "true" }

// Kinds of things a skip can name; see the package comment.
const (
	KindData = "data"
	KindTool = "tool"
	KindFile = "file"
)

// Needs is the fixed prefix of a skip message naming what is missing.
func Needs(kind, what string) string { return fmt.Sprintf("needs %s %q", kind, what) }

// DataDir returns the shared data folder (EDGE_DATA, or ../shared/data beside
// the module root), or skips the test when it is absent. EDGE_DATA naming
// something that is not a folder fails the test: the data was meant to be
// there.
func DataDir(t testing.TB) string {
	t.Helper()
	if d := os.Getenv("EDGE_DATA"); d != "" {
		st, err := os.Stat(d)
		if err != nil {
			t.Fatalf("testenv: EDGE_DATA=%s: %v", d, err)
		}
		if !st.IsDir() {
			t.Fatalf("testenv: EDGE_DATA=%s is not a folder", d)
		}
		return d
	}
	root, err := ModuleRoot()
	if err != nil {
		t.Fatalf("testenv: no go.mod above the test's folder: %v", err)
	}
	d := filepath.Join(root, "..", "shared", "data")
	st, err := os.Stat(d)
	if err != nil {
		t.Skipf("%s: sample data not present (set EDGE_DATA to run this test)", Needs(KindData, d))
	}
	if !st.IsDir() {
		t.Fatalf("testenv: %s is not a folder", d)
	}
	return d
}

// Path returns a file or folder under the shared data folder, skipping the
// test when the folder is absent. A folder that is there but lacks rel fails
// the test under CI=true and skips it otherwise.
func Path(t testing.TB, rel string) string {
	t.Helper()
	p := filepath.Join(DataDir(t), rel)
	if _, err := os.Stat(p); err != nil {
		if CI() {
			t.Fatalf("testenv: the shared data folder lacks %s: %v", rel, err)
		}
		t.Skipf("%s: sample %s not in the shared data folder: %v", Needs(KindData, p), rel, err)
	}
	return p
}

// Lookup returns a file or folder under the shared data folder and whether
// it is there, for a test that runs either way (on generated inputs where the
// samples are absent). EDGE_DATA naming something that is not a folder fails
// the test.
func Lookup(t testing.TB, rel string) (string, bool) {
	t.Helper()
	d := os.Getenv("EDGE_DATA")
	if d != "" {
		d = DataDir(t)
	} else {
		root, err := ModuleRoot()
		if err != nil {
			t.Fatalf("testenv: no go.mod above the test's folder: %v", err)
		}
		d = filepath.Join(root, "..", "shared", "data")
	}
	p := filepath.Join(d, rel)
	_, err := os.Stat(p)
	return p, err == nil
}

// Tool returns the path of an installed program the test runs as a real peer.
// Absent, it skips the test, or fails it under CI=true: make test installs
// every such program (scripts/install-deps.sh, Debian package pkg).
func Tool(t testing.TB, name, pkg string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		msg := fmt.Sprintf("%s: not installed (apt-get install %s; scripts/install-deps.sh does)", Needs(KindTool, name), pkg)
		if CI() {
			t.Fatalf("testenv: CI=true: %s", msg)
		}
		t.Skip(msg)
	}
	return p
}

// Missing skips the test because path, a file make test puts in place, is
// absent or unusable (err), or fails it under CI=true. how says how to get it.
func Missing(t testing.TB, path, how string, err error) {
	t.Helper()
	msg := fmt.Sprintf("%s: %v (%s)", Needs(KindFile, path), err, how)
	if CI() {
		t.Fatalf("testenv: CI=true: %s", msg)
	}
	t.Skip(msg)
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
