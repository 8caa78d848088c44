package uplink

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"testing"
	"testing/cryptotest"

	"github.com/tinylib/msgp/msgp"
)

var update = flag.Bool("update", false, "rewrite the golden envelope and the fuzz seeds under testdata")

// seedEnvelopes are the envelopes the fuzz seeds are made of: valid ones,
// sealed to the fixed test keys, and damaged ones. Named so the files say
// what they hold.
func seedEnvelopes(t testing.TB) map[string][]byte {
	png := mustSeal(t, testHeader(), testContents(40, ContainerPNG))
	h := testHeader()
	h.Scheme = SchemePaper
	dcm := mustSeal(t, h, testContents(24, ContainerDICOM))
	future := bytes.Clone(png)
	future[4] = 2
	return map[string][]byte{
		"valid-png":       png,
		"valid-dicom":     dcm,
		"truncated-half":  png[:len(png)/2],
		"truncated-sig":   png[:len(png)-1],
		"header-only":     png[:9+headerLen(png)],
		"future-version":  future,
		"bad-signature":   flip(bytes.Clone(dcm), -1),
		"empty":           {},
		"magic-only":      []byte(Magic),
		"trailing-byte":   append(bytes.Clone(png), 0),
		"sealed-len-huge": func() []byte { b := bytes.Clone(png); copy(b[9+headerLen(b):], "\xff\xff\xff\xff"); return b }(),
	}
}

// TestFuzzSeeds writes the seed corpora with -update; without it, it checks
// that they are there and that the valid ones still open with the test keys,
// so the fuzzers start from real envelopes.
func TestFuzzSeeds(t *testing.T) {
	// Fixed randomness makes -update reproducible.
	cryptotest.SetGlobalRandom(t, 2)
	if *update {
		dir := filepath.Join("testdata", "fuzz", "FuzzCheckMsgp")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		for name, b := range msgpSeeds(t) {
			body := fmt.Sprintf("go test fuzz v1\n[]byte(%s)\n", strconv.Quote(string(b)))
			if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, target := range []string{"FuzzOpen", "FuzzPeekHeader"} {
		dir := filepath.Join("testdata", "fuzz", target)
		if *update {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			for name, env := range seedEnvelopes(t) {
				body := fmt.Sprintf("go test fuzz v1\n[]byte(%s)\n", strconv.Quote(string(env)))
				if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
					t.Fatal(err)
				}
			}
		}
		for _, name := range []string{"valid-png", "valid-dicom"} {
			env := readSeed(t, filepath.Join(dir, name))
			if _, _, err := Open(env, testHubKey(t), TrustDevices(testDeviceKey(t).Public()), Limits{}); err != nil {
				t.Errorf("%s/%s: %v (run go test -run TestFuzzSeeds -update)", target, name, err)
			}
		}
	}
}

func readSeed(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -run TestFuzzSeeds -update)", err)
	}
	const head = "go test fuzz v1\n[]byte("
	s := string(b)
	if len(s) < len(head)+2 || s[:len(head)] != head || s[len(s)-2:] != ")\n" {
		t.Fatalf("%s: not a one-value []byte fuzz corpus file", path)
	}
	v, err := strconv.Unquote(s[len(head) : len(s)-2])
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return []byte(v)
}

func FuzzOpen(f *testing.F) {
	for _, env := range seedEnvelopes(f) {
		f.Add(env)
	}
	hub := testHubKey(f)
	trust := TrustDevices(testDeviceKey(f).Public())
	lim := Limits{MaxEnvelope: 1 << 20}
	f.Fuzz(func(t *testing.T, env []byte) {
		h, c, err := Open(env, hub, trust, lim)
		if err != nil {
			if c != nil || h != (Header{}) {
				t.Fatal("header or contents returned with an error")
			}
			return
		}
		// Only a genuine envelope opens; it must agree with itself.
		ph, err := PeekHeader(env)
		if err != nil || ph != h {
			t.Fatalf("Open gave %+v, PeekHeader %+v, %v", h, ph, err)
		}
		if err := checkContents(c, lim.withDefaults()); err != nil {
			t.Fatalf("opened contents fail their checks: %v", err)
		}
	})
}

func FuzzPeekHeader(f *testing.F) {
	for _, env := range seedEnvelopes(f) {
		f.Add(env)
	}
	f.Fuzz(func(t *testing.T, env []byte) {
		h, err := PeekHeader(env)
		if err != nil {
			if h != (Header{}) {
				t.Fatal("header returned with an error")
			}
			return
		}
		// A header PeekHeader accepts is the one encoding of its values.
		enc, err := h.MarshalMsg(nil)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(enc, env[9:9+headerLen(env)]) {
			t.Fatalf("accepted header re-encodes differently")
		}
		if err := checkHeader(&h); err != nil {
			t.Fatalf("accepted header fails its checks: %v", err)
		}
	})
}

func msgpSeeds(t testing.TB) map[string][]byte {
	return map[string][]byte{
		"header":       marshalHeader(t, sealedHeader(t, testHeader())),
		"contents":     marshalContents(t, testContents(5, ContainerDICOM)),
		"str32-2GiB":   {0x81, 0xa1, 'k', 0xdb, 0x80, 0, 0, 0},
		"map32-nested": {0xdf, 0, 0, 0, 1, 0x91, 0x00, 0xc0},
	}
}

// FuzzCheckMsgp holds checkMsgp to its promise: what it passes, msgp can
// skip and decode without panicking, on any architecture.
func FuzzCheckMsgp(f *testing.F) {
	for _, b := range msgpSeeds(f) {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if checkMsgp(b, 1) != nil {
			return
		}
		rest, err := msgp.Skip(b)
		if err != nil || len(rest) != 0 {
			t.Fatalf("checkMsgp passed what msgp.Skip refuses: %v, %d bytes left", err, len(rest))
		}
		var c Contents
		c.UnmarshalMsg(b)
		var h Header
		h.UnmarshalMsg(b)
		checkKeys(b, contentsKeys[:])
	})
}

// TestGolden pins the envelope bytes: with the process's random source fixed,
// Seal of fixed inputs must give testdata/envelope_v1.golden on every
// architecture, and that file must open to the same contents.
func TestGolden(t *testing.T) {
	cryptotest.SetGlobalRandom(t, 1)
	path := filepath.Join("testdata", "envelope_v1.golden")
	c := testContents(300, ContainerDICOM)
	env := mustSeal(t, testHeader(), c)
	if *update {
		if err := os.WriteFile(path, env, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -run TestGolden -update)", err)
	}
	if !bytes.Equal(env, want) {
		i := 0
		for i < min(len(env), len(want)) && env[i] == want[i] {
			i++
		}
		t.Errorf("Seal gives %d bytes differing from the %d golden ones at offset %d", len(env), len(want), i)
	}
	h, got, err := Open(want, testHubKey(t), TrustDevices(testDeviceKey(t).Public()), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if h != sealedHeader(t, testHeader()) || !reflect.DeepEqual(got, c) {
		t.Error("golden envelope opens to other header or contents")
	}
}
