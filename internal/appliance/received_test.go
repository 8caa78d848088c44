package appliance

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func journalKey(i int) string {
	h := sha256.Sum256([]byte(fmt.Sprint(i)))
	return hex.EncodeToString(h[:])
}

// TestReceivedJournalCompacts: past twice its keep the journal is rewritten
// with the newest objects, which stay known across a reopen, and appends go
// on after it.
func TestReceivedJournalCompacts(t *testing.T) {
	dir := t.TempDir()
	const keep = 3
	r, err := openReceived(dir, keep)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2*keep+1; i++ {
		if err := r.add(journalKey(i), fmt.Sprintf("env%d", i)); err != nil {
			t.Fatal(err)
		}
	}
	// The seventh add compacted to the newest three.
	b, err := os.ReadFile(filepath.Join(dir, "received.journal"))
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(b), "\n"); n != keep {
		t.Fatalf("journal holds %d lines after compaction, want %d:\n%s", n, keep, b)
	}
	if _, ok := r.lookup(journalKey(3)); ok {
		t.Errorf("object 3 still known after compaction to the newest %d", keep)
	}
	if err := r.add(journalKey(7), "env7"); err != nil {
		t.Fatal(err)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	r, err = openReceived(dir, keep)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	for i := 4; i <= 7; i++ {
		if v, ok := r.lookup(journalKey(i)); !ok || v != fmt.Sprintf("env%d", i) {
			t.Errorf("object %d after reopening: %q, %v", i, v, ok)
		}
	}
	if st, err := os.Stat(filepath.Join(dir, "received.journal")); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("journal mode after compaction: %v, %v", st.Mode(), err)
	}
}

// TestReceivedJournalCompactsOnOpen: a journal an older build grew past
// twice the keep is compacted when opened, keeping the newest, and a key
// journalled twice counts once.
func TestReceivedJournalCompactsOnOpen(t *testing.T) {
	dir := t.TempDir()
	var b strings.Builder
	for i := 0; i < 10; i++ {
		fmt.Fprintf(&b, "%s env%d\n", journalKey(i), i)
	}
	fmt.Fprintf(&b, "%s env9\n", journalKey(9))
	if err := os.WriteFile(filepath.Join(dir, "received.journal"), []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	r, err := openReceived(dir, 4)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if len(r.keys) != 4 {
		t.Fatalf("%d objects known, want 4", len(r.keys))
	}
	for i := 6; i < 10; i++ {
		if _, ok := r.lookup(journalKey(i)); !ok {
			t.Errorf("object %d forgotten", i)
		}
	}
}
