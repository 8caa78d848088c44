package appliance

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzParseConfig: any bytes give a config or an error, never a panic.
func FuzzParseConfig(f *testing.F) {
	f.Add([]byte(minimal + `}`))
	f.Add([]byte(minimal + `, "modality": {"allow_sources": ["10.0.0.0/8", "::1"]}, "status": {"listen": "[::1]:1"}}`))
	f.Add([]byte(`{"sensor": {"baud": -1}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := ParseConfig(b)
		if err == nil && (c.StateDir == "" || c.Store == "" || c.Status.Listen == "") {
			t.Fatalf("accepted a config without its required keys: %+v", c)
		}
	})
}

// FuzzReceivedJournal: a journal torn or garbled by a power cut opens, or
// fails with an error, and keeps only well-formed keys.
func FuzzReceivedJournal(f *testing.F) {
	f.Add([]byte("0123456789012345678901234567890123456789012345678901234567890123 held\n"))
	f.Add([]byte("0123456789012345678901234567890123456789012345678901234567890123 abcd\n01234"))
	f.Fuzz(func(t *testing.T, b []byte) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "received.journal"), b, 0o600); err != nil {
			t.Fatal(err)
		}
		r, err := openReceived(dir, 2)
		if err != nil {
			return
		}
		defer r.Close()
		for k := range r.keys {
			if len(k) != 64 {
				t.Fatalf("kept key %q", k)
			}
		}
		if len(r.keys) != len(r.order) || len(r.keys) > 4 {
			t.Fatalf("%d keys, %d in order, keep 2", len(r.keys), len(r.order))
		}
	})
}
