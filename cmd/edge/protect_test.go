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
	keysInit(t, filepath.Join(dir, "keys"))
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

// keysInit makes a hub set in dir/hub and a device set in dir/device.
func keysInit(t *testing.T, dir string) {
	t.Helper()
	if code, _, e := runKeysCLI(t, "keys", "init", "--hub", filepath.Join(dir, "hub")); code != 0 {
		t.Fatal(e)
	}
	if code, _, e := runKeysCLI(t, "keys", "init", "--device", filepath.Join(dir, "device"), "--hub-pub", filepath.Join(dir, "hub/hub.pub")); code != 0 {
		t.Fatal(e)
	}
}

func protectArgs(dir, feats, img, out string) []string {
	return []string{"protect", "--image", img, "--features", feats, "--unverified", "--hub-pub", filepath.Join(dir, "keys/device/hub.pub"),
		"--device-key", filepath.Join(dir, "keys/device/device.key"), "--out", out, "--clinician", "dr-a"}
}

func recoverArgs(dir, in, out string) []string {
	return []string{"recover", "--in", in, "--hub-key", filepath.Join(dir, "keys/hub/hub.key"),
		"--device-pub", filepath.Join(dir, "keys/device/device.pub"), "--out", out, "--allow-unverified"}
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
			PayloadHex    *string  `json:"payload_hex"`
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
		for _, p := range []string{rep, rrep, env, out} {
			if st, err := os.Stat(p); err != nil || st.Mode().Perm() != 0o600 {
				t.Errorf("%s: mode %v, %v; want 0600", p, st.Mode(), err)
			}
		}
		if r.PayloadBits < 2048 || r.PayloadHex != nil || r.OriginalBytes != 128*128*2 ||
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
	keysInit(t, other)

	for _, tc := range []struct {
		name, want string
		args       []string
		out        string
		sample     string // a shared sample the case protects, looked up in its own subtest
	}{
		{"corrupt envelope", "signature", recoverArgs(dir, filepath.Join(dir, "bad.edge"), filepath.Join(dir, "o1.png")), "o1.png", ""},
		{"truncated envelope", "envelope", recoverArgs(dir, filepath.Join(dir, "short.edge"), filepath.Join(dir, "o2.png")), "o2.png", ""},
		{"wrong hub key", "not sealed to this hub", []string{"recover", "--in", env, "--hub-key", filepath.Join(other, "hub/hub.key"),
			"--device-pub", filepath.Join(dir, "keys/device/device.pub"), "--out", filepath.Join(dir, "o3.png"), "--allow-unverified"}, "o3.png", ""},
		{"unknown device", "unknown device", []string{"recover", "--in", env, "--hub-key", filepath.Join(dir, "keys/hub/hub.key"),
			"--device-pub", filepath.Join(other, "device/device.pub"), "--out", filepath.Join(dir, "o4.png"), "--allow-unverified"}, "o4.png", ""},
		{"file-fed features at a strict hub", "no accepted model", []string{"recover", "--in", env, "--hub-key", filepath.Join(dir, "keys/hub/hub.key"),
			"--device-pub", filepath.Join(dir, "keys/device/device.pub"), "--out", filepath.Join(dir, "o8.png"), "--models", png}, "o8.png", ""},
		{"features without --unverified", "--unverified", []string{"protect", "--image", png, "--features", feats, "--hub-pub", filepath.Join(dir, "keys/device/hub.pub"),
			"--device-key", filepath.Join(dir, "keys/device/device.key"), "--out", filepath.Join(dir, "o9.edge"), "--clinician", "dr-a"}, "o9.edge", ""},
		{"empty clinician", "clinician", append(protectArgs(dir, feats, png, filepath.Join(dir, "o10.edge")), "--clinician", ""), "o10.edge", ""},
		{"recover --out equal to --marked-out", "same file", append(recoverArgs(dir, env, filepath.Join(dir, "o11.png")), "--marked-out", filepath.Join(dir, ".", "o11.png")), "o11.png", ""},
		{"protect --out equal to --report-json", "same file", append(protectArgs(dir, feats, png, filepath.Join(dir, "o12.edge")), "--report-json", filepath.Join(dir, "o12.edge")), "o12.edge", ""},
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
			if code == 0 || !strings.Contains(e, tc.want) || strings.Count(strings.TrimSpace(e), "\n") != 0 {
				t.Fatalf("exit %d, stderr %q (want one line with %q)", code, e, tc.want)
			}
			if _, err := os.Stat(filepath.Join(dir, tc.out)); err == nil {
				t.Fatalf("%s left behind", tc.out)
			}
		})
	}
}

// TestOutputsAreNotClobbered: an existing output is refused unless --force,
// and a DICOM envelope is not silently written as PNG.
func TestOutputsAreNotClobbered(t *testing.T) {
	src := testenv.Path(t, "medical/CT_small.dcm")
	dir, feats := protectSetup(t)
	env := filepath.Join(dir, "x.edge")
	if code, _, e := runKeysCLI(t, protectArgs(dir, feats, src, env)...); code != 0 {
		t.Fatal(e)
	}
	before, _ := os.ReadFile(env)
	code, _, e := runKeysCLI(t, protectArgs(dir, feats, src, env)...)
	if code != 1 || !strings.Contains(e, "--force") {
		t.Fatalf("protect over an existing envelope: exit %d, %q", code, e)
	}
	if after, _ := os.ReadFile(env); !bytes.Equal(before, after) {
		t.Fatal("refused protect changed the envelope")
	}
	if code, _, e := runKeysCLI(t, append(protectArgs(dir, feats, src, env), "--force")...); code != 0 {
		t.Fatalf("protect --force: %s", e)
	}
	out := filepath.Join(dir, "r.dcm")
	if code, _, e := runKeysCLI(t, recoverArgs(dir, env, out)...); code != 0 {
		t.Fatal(e)
	}
	if code, _, e := runKeysCLI(t, recoverArgs(dir, env, out)...); code != 1 || !strings.Contains(e, "already exists") {
		t.Fatalf("recover over an existing image: exit %d, %q", code, e)
	}
	pngOut := filepath.Join(dir, "r.png")
	if code, _, e := runKeysCLI(t, recoverArgs(dir, env, pngOut)...); code != 1 || !strings.Contains(e, "drops its data set") {
		t.Fatalf("DICOM envelope to PNG: exit %d, %q", code, e)
	}
	if _, err := os.Stat(pngOut); err == nil {
		t.Fatal("refused PNG written")
	}
	rep := filepath.Join(dir, "r.json")
	code, _, e = runKeysCLI(t, append(recoverArgs(dir, env, pngOut), "--force", "--report-json", rep)...)
	if code != 0 || !strings.Contains(e, "data set dropped") {
		t.Fatalf("DICOM envelope to PNG with --force: exit %d, %q", code, e)
	}
	if js, _ := os.ReadFile(rep); !strings.Contains(string(js), `"dicom_data_set_dropped": true`) {
		t.Errorf("report does not say the data set was dropped: %s", js)
	}
}

// TestMarkedDICOMIsDerived: the marked copy of a DICOM image gets a new SOP
// Instance UID and DERIVED in Image Type, from protect and from recover.
func TestMarkedDICOMIsDerived(t *testing.T) {
	src := testenv.Path(t, "medical/CT_small.dcm")
	dir, feats := protectSetup(t)
	env := filepath.Join(dir, "x.edge")
	marked := filepath.Join(dir, "m.dcm")
	rep := filepath.Join(dir, "p.json")
	if code, _, e := runKeysCLI(t, append(protectArgs(dir, feats, src, env), "--marked-out", marked, "--uid-root", "1.2.826.0.1.3680043.10.543", "--report-json", rep)...); code != 0 {
		t.Fatal(e)
	}
	marked2 := filepath.Join(dir, "m2.dcm")
	if code, _, e := runKeysCLI(t, append(recoverArgs(dir, env, filepath.Join(dir, "r.dcm")), "--marked-out", marked2)...); code != 0 {
		t.Fatal(e)
	}
	orig, _ := os.ReadFile(src)
	origUID := sopInstanceUID(t, orig)
	var r struct {
		UID string `json:"marked_sop_instance_uid"`
	}
	js, _ := os.ReadFile(rep)
	json.Unmarshal(js, &r)
	for _, m := range []string{marked, marked2} {
		b, err := os.ReadFile(m)
		if err != nil {
			t.Fatal(err)
		}
		uid := sopInstanceUID(t, b)
		if uid == "" || uid == origUID {
			t.Errorf("%s: SOP Instance UID %q, the original's is %q", m, uid, origUID)
		}
		if !bytes.Contains(b, []byte(`DERIVED\`)) {
			t.Errorf("%s: no DERIVED in Image Type", m)
		}
		if m == marked && (uid != r.UID || !strings.HasPrefix(uid, "1.2.826.0.1.3680043.10.543.")) {
			t.Errorf("UID %q, report says %q", uid, r.UID)
		}
	}
}

// sopInstanceUID finds (0008,0018) in an explicit little-endian file.
func sopInstanceUID(t *testing.T, b []byte) string {
	t.Helper()
	i := bytes.Index(b, []byte{0x08, 0x00, 0x18, 0x00, 'U', 'I'})
	if i < 0 {
		t.Fatal("no SOP Instance UID element")
	}
	n := int(b[i+6]) | int(b[i+7])<<8
	return strings.TrimRight(string(b[i+8:i+8+n]), "\x00 ")
}
