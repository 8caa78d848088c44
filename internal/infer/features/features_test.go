package features

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRoundTrip(t *testing.T) {
	f := make([]float32, Len)
	for i := range f {
		f[i] = float32(i)*0.25 - 100
	}
	p := filepath.Join(t.TempDir(), "a.f32")
	if err := WriteFeatures(p, f); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(p)
	if err != nil || st.Size() != Size || st.Mode().Perm() != 0o600 {
		t.Fatalf("file %v, err %v; want %d bytes mode 0600", st, err, Size)
	}
	g, err := ReadFeatures(p)
	if err != nil {
		t.Fatal(err)
	}
	for i := range f {
		if math.Float32bits(f[i]) != math.Float32bits(g[i]) {
			t.Fatalf("value %d: %v, want %v", i, g[i], f[i])
		}
	}
	b, _ := os.ReadFile(p)
	// 1.0 little-endian is 00 00 80 3f; value 416 is 4.0 = 00 00 80 40.
	if got := b[4*416 : 4*417]; string(got) != "\x00\x00\x80\x40" {
		t.Fatalf("value 416 bytes % x, want 00 00 80 40", got)
	}
}

func TestBadInput(t *testing.T) {
	dir := t.TempDir()
	cases := map[string][]byte{
		"short": make([]byte, Size-4),
		"long":  make([]byte, Size+4),
		"empty": nil,
	}
	nan := make([]byte, Size)
	nan[4*7+3], nan[4*7+2] = 0x7f, 0xc0
	cases["nan"] = nan
	for name, b := range cases {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := ReadFeatures(p)
		if err == nil || !strings.HasPrefix(err.Error(), "features: ") {
			t.Errorf("%s: err %v, want a features error", name, err)
		}
	}
	if err := WriteFeatures(filepath.Join(dir, "x"), make([]float32, 10)); err == nil {
		t.Error("writing 10 values succeeded")
	}
	if _, err := os.Stat(filepath.Join(dir, "x")); err == nil {
		t.Error("a failed write left a file")
	}
	if _, err := ReadFeatures(dir); err == nil {
		t.Error("reading a folder succeeded")
	}
}

// TestWriteFuzzSeeds keeps testdata/fuzz/FuzzDecode in step.
func TestWriteFuzzSeeds(t *testing.T) {
	one := make([]float32, Len)
	for i := range one {
		one[i] = float32(i) / 7
	}
	ok, _ := Encode(one)
	seeds := map[string][]byte{"zeros": make([]byte, Size), "ramp": ok, "short": {1, 2, 3}}
	dir := filepath.Join("testdata", "fuzz", "FuzzDecode")
	for name, b := range seeds {
		var q strings.Builder
		for _, c := range b {
			fmt.Fprintf(&q, "\\x%02x", c)
		}
		want := "go test fuzz v1\n[]byte(\"" + q.String() + "\")\n"
		p := filepath.Join(dir, name)
		if got, err := os.ReadFile(p); err == nil && string(got) == want {
			continue
		}
		if os.Getenv("EDGE_UPDATE_SEEDS") == "" {
			t.Fatalf("%s is stale or missing; rerun with EDGE_UPDATE_SEEDS=1", p)
		}
		os.MkdirAll(dir, 0o755)
		if err := os.WriteFile(p, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func FuzzDecode(f *testing.F) {
	f.Fuzz(func(t *testing.T, b []byte) {
		v, err := Decode(b)
		if err != nil {
			return
		}
		e, err := Encode(v)
		if err != nil || string(e) != string(b) {
			t.Fatalf("re-encode differs: %v", err)
		}
	})
}
