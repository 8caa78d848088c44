package main

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"edge/internal/infer/features"
	"edge/internal/medimg"
	"edge/internal/testenv"
)

// protectSetup makes keys, a feature file and returns their paths.
func protectSetup(t *testing.T) (dir, feats string) {
	t.Helper()
	dir = t.TempDir()
	if code, _, e := runKeysCLI(t, "keys", "init", "--dir", filepath.Join(dir, "keys")); code != 0 {
		t.Fatal(e)
	}
	f := make([]float32, features.Len)
	for i := range f {
		f[i] = float32(math.Sin(float64(i) * 0.7))
	}
	feats = filepath.Join(dir, "c.f32")
	if err := features.WriteFeatures(feats, f); err != nil {
		t.Fatal(err)
	}
	return dir, feats
}

func protectArgs(dir, feats, img, out string) []string {
	return []string{"protect", "--image", img, "--features", feats, "--hub-pub", filepath.Join(dir, "keys/hub.pub"),
		"--device-key", filepath.Join(dir, "keys/device.key"), "--out", out, "--clinician", "dr-a"}
}

func recoverArgs(dir, in, out string) []string {
	return []string{"recover", "--in", in, "--hub-key", filepath.Join(dir, "keys/hub.key"),
		"--device-pub", filepath.Join(dir, "keys/device.pub"), "--out", out}
}

func TestProtectRecoverDICOMFile(t *testing.T) {
	src := testenv.Path(t, "medical/CT_small.dcm")
	dir, feats := protectSetup(t)
	for _, in := range []string{src} {
		env := filepath.Join(dir, "x.edge")
		rep := filepath.Join(dir, "p.json")
		if code, _, e := runKeysCLI(t, append(protectArgs(dir, feats, in, env), "--report-json", rep)...); code != 0 {
			t.Fatal(e)
		}
		out := filepath.Join(dir, "r.dcm")
		rrep := filepath.Join(dir, "r.json")
		if code, _, e := runKeysCLI(t, append(recoverArgs(dir, env, out), "--report-json", rrep)...); code != 0 {
			t.Fatal(e)
		}
		a, _ := os.ReadFile(in)
		b, _ := os.ReadFile(out)
		if !bytes.Equal(a, b) {
			t.Fatal("restored DICOM differs from the original file")
		}
		var r struct {
			PayloadHex    string   `json:"payload_hex"`
			PayloadBits   int      `json:"payload_bits"`
			OriginalBytes int      `json:"original_bytes"`
			BodyBytes     int      `json:"body_bytes"`
			Compressed    int      `json:"compressed_bytes"`
			BER           *float64 `json:"ber"`
			NC            *float64 `json:"nc"`
			Exact         *bool    `json:"exact"`
		}
		js, _ := os.ReadFile(rrep)
		if err := json.Unmarshal(js, &r); err != nil {
			t.Fatal(err)
		}
		st, _ := os.Stat(env)
		if r.PayloadBits < 2048 || len(r.PayloadHex) != r.PayloadBits/4 || r.OriginalBytes != 128*128*2 ||
			r.BodyBytes <= 0 || r.BodyBytes >= r.OriginalBytes || r.Compressed != int(st.Size()) ||
			r.BER == nil || *r.BER != 0 || *r.NC != 1 || !*r.Exact {
			t.Fatalf("report %s", js)
		}
	}
}

func TestProtectRecoverErrorsLeaveNoFile(t *testing.T) {
	dir, feats := protectSetup(t)
	png := filepath.Join(dir, "in.png")
	im := &medimg.Image{Width: 96, Height: 96, Frames: 1, Channels: 1, BitsAllocated: 8, BitsStored: 8, Photometric: medimg.Monochrome2}
	im.Pix = make([]int32, 96*96)
	for i := range im.Pix {
		im.Pix[i] = int32(i*7%200 + 20)
	}
	if err := medimg.WriteFile(png, im, nil); err != nil {
		t.Fatal(err)
	}
	env := filepath.Join(dir, "x.edge")
	if code, _, e := runKeysCLI(t, protectArgs(dir, feats, png, env)...); code != 0 {
		t.Fatal(e)
	}
	good, _ := os.ReadFile(env)
	bad := append([]byte(nil), good...)
	bad[len(bad)/2] ^= 1
	os.WriteFile(filepath.Join(dir, "bad.edge"), bad, 0o644)
	os.WriteFile(filepath.Join(dir, "short.edge"), good[:len(good)/3], 0o644)
	os.WriteFile(filepath.Join(dir, "short.f32"), make([]byte, 100), 0o644)
	tiny := &medimg.Image{Width: 10, Height: 10, Frames: 1, Channels: 1, BitsAllocated: 8, BitsStored: 8, Photometric: medimg.Monochrome2, Pix: make([]int32, 100)}
	medimg.WriteFile(filepath.Join(dir, "tiny.png"), tiny, nil)
	other := filepath.Join(dir, "other")
	runKeysCLI(t, "keys", "init", "--dir", other)

	for _, tc := range []struct {
		name, want string
		args       []string
		out        string
		sample     string // a shared sample the case protects, looked up in its own subtest
	}{
		{"corrupt envelope", "signature", recoverArgs(dir, filepath.Join(dir, "bad.edge"), filepath.Join(dir, "o1.png")), "o1.png", ""},
		{"truncated envelope", "envelope", recoverArgs(dir, filepath.Join(dir, "short.edge"), filepath.Join(dir, "o2.png")), "o2.png", ""},
		{"wrong hub key", "not sealed to this hub", []string{"recover", "--in", env, "--hub-key", filepath.Join(other, "hub.key"),
			"--device-pub", filepath.Join(dir, "keys/device.pub"), "--out", filepath.Join(dir, "o3.png")}, "o3.png", ""},
		{"unknown device", "unknown device", []string{"recover", "--in", env, "--hub-key", filepath.Join(dir, "keys/hub.key"),
			"--device-pub", filepath.Join(other, "device.pub"), "--out", filepath.Join(dir, "o4.png")}, "o4.png", ""},
		{"image too small", "does not fit", protectArgs(dir, feats, filepath.Join(dir, "tiny.png"), filepath.Join(dir, "o5.edge")), "o5.edge", ""},
		{"short feature file", "features", protectArgs(dir, filepath.Join(dir, "short.f32"), png, filepath.Join(dir, "o6.edge")), "o6.edge", ""},
		{"unsupported transfer syntax", "unsupported transfer syntax", nil, "o7.edge", "medical/RG3_J2KR.dcm"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := tc.args
			if tc.sample != "" {
				args = protectArgs(dir, feats, testenv.Path(t, tc.sample), filepath.Join(dir, tc.out))
			}
			code, _, e := runKeysCLI(t, args...)
			if code != 1 || !strings.Contains(e, tc.want) || strings.Count(strings.TrimSpace(e), "\n") != 0 {
				t.Fatalf("exit %d, stderr %q (want one line with %q)", code, e, tc.want)
			}
			if _, err := os.Stat(filepath.Join(dir, tc.out)); err == nil {
				t.Fatalf("%s left behind", tc.out)
			}
		})
	}
}
