package hub

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the fuzz seeds under testdata/fuzz")

// metaSeeds are Upload-Metadata headers and certificate device ids: good,
// with an extra key, without values, with binary values.
func metaSeeds() [][2]string {
	dev := "0123456789abcdef"
	return [][2]string{
		{"envelope_id " + b64(strings.Repeat("ab", 16)) + ",device_id " + b64(dev), dev},
		{"envelope_id " + b64(strings.Repeat("ab", 16)) + ",device_id " + b64(dev) + ",x " + b64("y"), dev},
		{"envelope_id,device_id", dev},
		{"envelope_id  " + b64("\x00\xff"), ""},
	}
}

// TestMetaFuzzSeeds keeps testdata/fuzz/FuzzUploadMeta in step with metaSeeds.
func TestMetaFuzzSeeds(t *testing.T) {
	for i, s := range metaSeeds() {
		path := filepath.Join("testdata", "fuzz", "FuzzUploadMeta", "seed-"+strconv.Itoa(i))
		want := fmt.Appendf(nil, "go test fuzz v1\nstring(%q)\nstring(%q)\n", s[0], s[1])
		if *update {
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, want, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		got, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (run go test -run TestMetaFuzzSeeds -update)", err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs from metaSeeds (run with -update)", path)
		}
	}
}

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

// FuzzUploadMeta feeds the Upload-Metadata header of a creation request, the
// first thing the hub reads from a device, to the check the pre-create hook
// makes. It must never panic, and whatever it accepts must be an id pair the
// hub can name files after.
func FuzzUploadMeta(f *testing.F) {
	f.Fuzz(func(t *testing.T, header, certDevice string) {
		m, err := parseUploadMeta(header, certDevice)
		if err != nil {
			return
		}
		if b, err := hex.DecodeString(m.EnvelopeID); err != nil || len(b) != 16 {
			t.Fatalf("accepted envelope id %q", m.EnvelopeID)
		}
		if m.DeviceID != certDevice {
			t.Fatalf("accepted device %q for certificate %q", m.DeviceID, certDevice)
		}
		id, err := newUploadID(m)
		if err != nil {
			t.Fatal(err)
		}
		if strings.ContainsAny(id, "/\\. ") {
			t.Fatalf("upload id %q", id)
		}
	})
}
