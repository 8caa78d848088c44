package fsutil

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

func TestWriteNewRefusesExisting(t *testing.T) {
	p := filepath.Join(t.TempDir(), "f")
	w := func(s string) error {
		return WriteNew(p, 0o600, func(w io.Writer) error { _, err := io.WriteString(w, s); return err })
	}
	if err := w("first"); err != nil {
		t.Fatal(err)
	}
	if err := w("second"); !errors.Is(err, ErrExists) {
		t.Fatalf("second WriteNew: %v, want ErrExists", err)
	}
	if b, _ := os.ReadFile(p); string(b) != "first" {
		t.Fatalf("file holds %q", b)
	}
	ents, _ := os.ReadDir(filepath.Dir(p))
	if len(ents) != 1 {
		t.Fatalf("%d files left, want 1", len(ents))
	}
}

// TestCreateOnceRace: every racer gets the winner's bytes.
func TestCreateOnceRace(t *testing.T) {
	for round := range 20 {
		p := filepath.Join(t.TempDir(), "key")
		var wg sync.WaitGroup
		got := make([][]byte, 8)
		created := make([]bool, 8)
		for k := range got {
			wg.Go(func() {
				b, c, err := CreateOnce(p, 64, func() ([]byte, error) { return []byte(fmt.Sprintf("key %d", k)), nil })
				if err != nil {
					t.Error(err)
				}
				got[k], created[k] = b, c
			})
		}
		wg.Wait()
		n := 0
		for k := range got {
			if created[k] {
				n++
			}
			if !bytes.Equal(got[k], got[0]) {
				t.Fatalf("round %d: racer %d got %q, racer 0 %q", round, k, got[k], got[0])
			}
		}
		if n != 1 {
			t.Fatalf("round %d: %d racers created the file", round, n)
		}
	}
}

func TestRemoveStale(t *testing.T) {
	dir := t.TempDir()
	for _, n := range []string{".a.tmp123", ".b.key.tmp9", "keep", ".keep"} {
		os.WriteFile(filepath.Join(dir, n), nil, 0o600)
	}
	if n, err := RemoveStale(dir); err != nil || n != 2 {
		t.Fatalf("removed %d, %v", n, err)
	}
	os.WriteFile(filepath.Join(dir, ".out.png.tmp5"), nil, 0o600)
	os.WriteFile(filepath.Join(dir, ".other.tmp5"), nil, 0o600)
	if err := RemoveStaleFor(filepath.Join(dir, "out.png")); err != nil {
		t.Fatal(err)
	}
	var names []string
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		names = append(names, e.Name())
	}
	if fmt.Sprint(names) != "[.keep .other.tmp5 keep]" {
		t.Fatalf("left %v", names)
	}
}

func TestCheckOutputAndSameFile(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "x")
	if err := CheckOutput(p, false); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(p, nil, 0o600)
	if err := CheckOutput(p, false); !errors.Is(err, ErrExists) {
		t.Fatalf("existing output: %v", err)
	}
	if err := CheckOutput(p, true); err != nil {
		t.Fatalf("with force: %v", err)
	}
	os.Link(p, filepath.Join(dir, "y"))
	for _, tc := range []struct {
		a, b string
		same bool
	}{
		{p, filepath.Join(dir, ".", "x"), true},
		{p, filepath.Join(dir, "y"), true},
		{p, filepath.Join(dir, "z"), false},
		{"", "", false},
	} {
		if got := SameFile(tc.a, tc.b); got != tc.same {
			t.Errorf("SameFile(%q, %q) = %v", tc.a, tc.b, got)
		}
	}
}

func TestLockSerialises(t *testing.T) {
	p := filepath.Join(t.TempDir(), ".lock")
	var mu sync.Mutex
	inside, most := 0, 0
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			l, err := LockFile(p)
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			inside++
			most = max(most, inside)
			mu.Unlock()
			for range 1000 {
				_ = os.Getpid()
			}
			mu.Lock()
			inside--
			mu.Unlock()
			if err := l.Unlock(); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if most != 1 {
		t.Fatalf("%d holders at once", most)
	}
}
