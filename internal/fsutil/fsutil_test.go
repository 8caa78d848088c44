package fsutil

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestWriteFileReplacesWhole(t *testing.T) {
	p := filepath.Join(t.TempDir(), "k")
	if err := WriteFile(p, 0o600, func(w io.Writer) error { _, err := io.WriteString(w, "new"); return err }); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(p)
	if err != nil || string(b) != "new" {
		t.Fatalf("read %q, %v", b, err)
	}
	st, _ := os.Stat(p)
	if st.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v", st.Mode())
	}
}

func TestWriteFileFailureLeavesNothing(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "out")
	boom := errors.New("boom")
	err := WriteFile(p, 0o644, func(w io.Writer) error { io.WriteString(w, "part"); return boom })
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v", err)
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 0 {
		t.Fatalf("left %v behind", ents[0].Name())
	}
}

func TestReadPrivateRefusesOpenMode(t *testing.T) {
	p := filepath.Join(t.TempDir(), "key")
	os.WriteFile(p, []byte("secret"), 0o644)
	if _, err := ReadPrivate(p, 100); err == nil || !strings.Contains(err.Error(), "0644") {
		t.Fatalf("err = %v", err)
	}
	os.Chmod(p, 0o600)
	if b, err := ReadPrivate(p, 100); err != nil || string(b) != "secret" {
		t.Fatalf("%q %v", b, err)
	}
	if _, err := ReadPrivate(p, 3); err == nil {
		t.Fatal("size limit not enforced")
	}
}
