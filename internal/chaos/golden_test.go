package chaos

import (
	"bytes"
	"encoding/hex"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// goldenKeys are the keys the golden vectors are made with: the degenerate
// all-zero key (every map value starts at 0), a counting key and a key with no
// structure.
var goldenKeys = []struct{ name, hex string }{
	{"zero", strings.Repeat("00", KeySize)},
	{"counting", "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"},
	{"mixed", "3a72552d9ae70aa9993b3b77f4023f4d4f006705cfee0bea5b13b4bb29472a80"},
}

func goldenKey(t *testing.T, h string) []byte {
	t.Helper()
	k, err := hex.DecodeString(h)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// hexLines formats b as hex, perLine bytes to a line.
func hexLines(b []byte, perLine int) []byte {
	var out bytes.Buffer
	for len(b) > 0 {
		n := min(perLine, len(b))
		out.WriteString(hex.EncodeToString(b[:n]))
		out.WriteByte('\n')
		b = b[n:]
	}
	return out.Bytes()
}

func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -run Golden -update to make it)", err)
	}
	if !bytes.Equal(got, want) {
		gl, wl := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
		for i := range min(len(gl), len(wl)) {
			if gl[i] != wl[i] {
				t.Fatalf("%s line %d:\n got %s\nwant %s", path, i+1, gl[i], wl[i])
			}
		}
		t.Fatalf("%s: %d lines, want %d", path, len(gl), len(wl))
	}
}

// TestGoldenKeystream pins the first 4 KiB of the keystream for each golden
// key; run on every architecture, it proves they all derive the same bytes.
func TestGoldenKeystream(t *testing.T) {
	for _, k := range goldenKeys {
		t.Run(k.name, func(t *testing.T) {
			ks := keystream(t, goldenKey(t, k.hex), 4096)
			checkGolden(t, "keystream-"+k.name+".hex", hexLines(ks, 32))
		})
	}
}

// TestGoldenRaw pins the unconditioned map words, so that a change in the
// map's arithmetic shows up here before it is hidden by the conditioning.
func TestGoldenRaw(t *testing.T) {
	for _, k := range goldenKeys {
		t.Run(k.name, func(t *testing.T) {
			r, err := Raw(goldenKey(t, k.hex))
			if err != nil {
				t.Fatal(err)
			}
			words := make([]uint32, 1024)
			r.Words(words)
			var out bytes.Buffer
			for i, w := range words {
				sep := " "
				if i%8 == 7 {
					sep = "\n"
				}
				fmt.Fprintf(&out, "%08x%s", w, sep)
			}
			checkGolden(t, "raw-"+k.name+".hex", out.Bytes())
		})
	}
}

// TestGoldenPermutation pins a permutation of 1000 positions.
func TestGoldenPermutation(t *testing.T) {
	p, err := NewPermutation(goldenKey(t, goldenKeys[2].hex), 1000)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	for i := range p.Len() {
		sep := " "
		if i%20 == 19 {
			sep = "\n"
		}
		fmt.Fprintf(&out, "%d%s", p.Source(i), sep)
	}
	checkGolden(t, "permutation-1000.txt", out.Bytes())
}
