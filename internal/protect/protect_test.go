package protect

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"edge/internal/biometric"
	"edge/internal/medimg"
	"edge/internal/testenv"
	"edge/internal/uplink"
)

var update = flag.Bool("update", false, "rewrite testdata/golden.json")

// detRand is a deterministic byte source for keys and salts in tests.
type detRand struct{ r *rand.ChaCha8 }

func newDetRand(seed byte) *detRand {
	var s [32]byte
	s[0] = seed
	return &detRand{rand.NewChaCha8(s)}
}

func (d *detRand) Read(p []byte) (int, error) { return d.r.Read(p) }

// testIdentity is a file identity (features from testFeatures(seed)) under
// a fixed secret.
func testIdentity(t testing.TB, seed uint64, id string) *biometric.Identity {
	t.Helper()
	ident, err := biometric.FileIdentity(id, &biometric.Secret{byte(seed), 0xc1}, nil, testFeatures(seed))
	if err != nil {
		t.Fatal(err)
	}
	return ident
}

func testFeatures(seed uint64) []float32 {
	r := rand.New(rand.NewPCG(seed, 1))
	f := make([]float32, FeatureCount)
	for i := range f {
		f[i] = float32(r.NormFloat64())
	}
	return f
}

// synthetic makes a smooth image with noise and a dark border, the shape of
// a medical image.
func synthetic(w, h, bits int, signed bool, channels int, seed uint64) *medimg.Image {
	im := &medimg.Image{Width: w, Height: h, Frames: 1, Channels: channels, BitsAllocated: 8, BitsStored: bits, Signed: signed, Photometric: medimg.Monochrome2}
	if bits > 8 {
		im.BitsAllocated = 16
	}
	if channels == 3 {
		im.Photometric = medimg.RGB
	}
	lo, hi := im.Range()
	r := rand.New(rand.NewPCG(seed, 2))
	im.Pix = make([]int32, im.Samples())
	for y := range h {
		for x := range w {
			for c := range channels {
				v := lo
				if x > w/8 && x < w-w/8 && y > h/8 && y < h-h/8 {
					t := 0.5 + 0.4*math.Sin(float64(x)/9+float64(c))*math.Cos(float64(y)/13)
					v = lo + int32(t*float64(hi-lo)) + int32(r.IntN(5)) - 2
				}
				im.Pix[(y*w+x)*channels+c] = min(max(v, lo), hi)
			}
		}
	}
	return im
}

type fixture struct {
	hub    uplink.HubPrivateKey
	dev    uplink.DeviceKey
	sealer *Sealer
	opener *Opener
}

func newFixture(t testing.TB) *fixture {
	hub, err := uplink.GenerateHubKey(newDetRand(1))
	if err != nil {
		t.Fatal(err)
	}
	dev, err := uplink.GenerateDeviceKey(newDetRand(2))
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{
		hub: hub, dev: dev,
		sealer: &Sealer{Hub: hub.Public(), Device: dev, Rand: newDetRand(3), Now: func() time.Time { return time.Unix(1764000000, 0) }},
		opener: &Opener{Hub: hub, Trust: uplink.TrustDevices(dev.Public()), AllowUnverified: true},
	}
}

func TestRoundTripBothSchemes(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		im   *medimg.Image
	}{
		{"8-bit gray", synthetic(128, 96, 8, false, 1, 1)},
		{"12-bit", synthetic(100, 80, 12, false, 1, 2)},
		{"16-bit signed", synthetic(64, 64, 16, true, 1, 3)},
		{"14-bit signed", synthetic(90, 70, 14, true, 1, 4)},
		{"RGB", synthetic(96, 64, 8, false, 3, 5)},
	} {
		for _, scheme := range []string{SchemeV1, SchemePaper} {
			t.Run(tc.name+"/"+scheme, func(t *testing.T) {
				orig := tc.im.Clone()
				p, err := f.sealer.Protect(ctx, &Request{Image: tc.im, Identity: testIdentity(t, 7, "dr-17"), Scheme: scheme})
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(tc.im.RawBytes(), orig.RawBytes()) {
					t.Fatal("Protect changed its input image")
				}
				r, err := f.opener.Recover(ctx, p.Envelope)
				if err != nil {
					t.Fatal(err)
				}
				if !r.Exact || !bytes.Equal(r.Image.RawBytes(), orig.RawBytes()) {
					t.Fatal("restored image differs from the original")
				}
				if r.BER != 0 || r.NC != 1 || r.ClinicianID != "dr-17" || r.Header.Scheme != scheme {
					t.Fatalf("BER %g NC %g clinician %q scheme %q", r.BER, r.NC, r.ClinicianID, r.Header.Scheme)
				}
				if !bytes.Equal(r.Template, testIdentity(t, 7, "dr-17").ProtectedTemplate()) {
					t.Fatal("protected template from the mark differs from the clinician's")
				}
				code, _ := Binarise(testFeatures(7))
				if bytes.Contains(p.Envelope, code) || bytes.Contains(r.Payload, code) || bytes.Contains(p.Payload, code) {
					t.Fatal("the raw feature code travels with the image")
				}
			})
		}
	}
}

func TestRecoverRejectsDamage(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	p, err := f.sealer.Protect(ctx, &Request{Image: synthetic(64, 64, 8, false, 1, 9), Identity: testIdentity(t, 1, "a")})
	if err != nil {
		t.Fatal(err)
	}
	env := p.Envelope
	for _, at := range []int{0, 5, 20, len(env) / 3, len(env) / 2, len(env) - 70, len(env) - 1} {
		bad := append([]byte(nil), env...)
		bad[at] ^= 0x10
		if _, err := f.opener.Recover(ctx, bad); err == nil {
			t.Errorf("bit flipped at byte %d of %d accepted", at, len(env))
		}
	}
	for _, n := range []int{0, 3, 40, len(env) / 2, len(env) - 1} {
		if _, err := f.opener.Recover(ctx, env[:n]); err == nil {
			t.Errorf("envelope truncated to %d bytes accepted", n)
		}
	}
	otherHub, _ := uplink.GenerateHubKey(newDetRand(99))
	wrong := &Opener{Hub: otherHub, Trust: f.opener.Trust, AllowUnverified: true}
	if _, err := wrong.Recover(ctx, env); !errors.Is(err, uplink.ErrNotForThisHub) {
		t.Errorf("wrong hub key: %v", err)
	}
	otherDev, _ := uplink.GenerateDeviceKey(newDetRand(98))
	unknown := &Opener{Hub: f.hub, Trust: uplink.TrustDevices(otherDev.Public()), AllowUnverified: true}
	if _, err := unknown.Recover(ctx, env); !errors.Is(err, uplink.ErrUnknownDevice) {
		t.Errorf("unknown device key: %v", err)
	}
}

func TestProtectRefusesBadInput(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	tiny := synthetic(8, 8, 8, false, 1, 1)
	before := tiny.Clone()
	if _, err := f.sealer.Protect(ctx, &Request{Image: tiny, Identity: testIdentity(t, 1, "a")}); err == nil {
		t.Error("an 8×8 image took a 2048-bit payload")
	} else if !bytes.Equal(tiny.RawBytes(), before.RawBytes()) {
		t.Error("a failed Protect changed its input")
	}
	empty := &medimg.Image{Frames: 1, Channels: 1, BitsAllocated: 8, BitsStored: 8}
	if _, err := f.sealer.Protect(ctx, &Request{Image: empty, Identity: testIdentity(t, 1, "a")}); err == nil || !strings.Contains(err.Error(), "empty image") {
		t.Errorf("0×0 image: %v", err)
	}
	if _, err := biometric.FileIdentity("a", &biometric.Secret{1}, nil, testFeatures(1)[:100]); err == nil {
		t.Error("100 features accepted")
	}
	nan := testFeatures(1)
	nan[5] = float32(math.NaN())
	if _, err := biometric.FileIdentity("a", &biometric.Secret{1}, nil, nan); err == nil {
		t.Error("NaN feature accepted")
	}
	if _, err := f.sealer.Protect(ctx, &Request{Image: synthetic(64, 64, 8, false, 1, 1)}); !errors.Is(err, ErrNoIdentity) {
		t.Errorf("no identity: %v", err)
	}
	if _, err := f.sealer.Protect(ctx, &Request{Image: synthetic(64, 64, 8, false, 1, 1), Identity: testIdentity(t, 1, "a"), Scheme: "rot13"}); err == nil {
		t.Error("unknown scheme accepted")
	}
}

func TestSampleImagesRoundTrip(t *testing.T) {
	dir := testenv.Path(t, "medical")
	f := newFixture(t)
	ents, _ := os.ReadDir(dir)
	n := 0
	for _, e := range ents {
		im, c, err := medimg.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			continue
		}
		n++
		for _, scheme := range []string{SchemeV1, SchemePaper} {
			p, err := f.sealer.Protect(context.Background(), &Request{Image: im, Container: c, Identity: testIdentity(t, uint64(n), "x"), Scheme: scheme})
			if err != nil {
				t.Fatalf("%s %s: %v", e.Name(), scheme, err)
			}
			r, err := f.opener.Recover(context.Background(), p.Envelope)
			if err != nil {
				t.Fatalf("%s %s: %v", e.Name(), scheme, err)
			}
			var a, b bytes.Buffer
			if err := medimg.Encode(&a, im, c); err != nil {
				t.Fatal(err)
			}
			if err := medimg.Encode(&b, r.Image, r.Container); err != nil {
				t.Fatal(err)
			}
			if !r.Exact || !bytes.Equal(a.Bytes(), b.Bytes()) {
				t.Fatalf("%s %s: not restored exactly", e.Name(), scheme)
			}
		}
	}
	if n == 0 {
		t.Fatal("no readable images in", dir)
	}
}

// golden records the bytes that must not change across architectures or
// releases: the marked image and the body of both schemes for a fixed image,
// features, salt and clinician.
type golden struct {
	MarkedSHA256 string `json:"marked_sha256"`
	V1BodySHA256 string `json:"v1_body_sha256"`
	V1BodyBytes  int    `json:"v1_body_bytes"`
	PaperSHA256  string `json:"paper_body_sha256"`
	PaperBytes   int    `json:"paper_body_bytes"`
}

func TestGoldenPipeline(t *testing.T) {
	got := map[string]golden{}
	for name, im := range map[string]*medimg.Image{
		"gray8":    synthetic(96, 80, 8, false, 1, 11),
		"signed12": synthetic(72, 64, 12, true, 1, 12),
		"rgb":      synthetic(64, 48, 8, false, 3, 13),
	} {
		code, err := Binarise(testFeatures(21))
		if err != nil {
			t.Fatal(err)
		}
		payload, err := (&Payload{Template: code, ClinicianID: "golden"}).Marshal()
		if err != nil {
			t.Fatal(err)
		}
		kbio, err := DeriveKBio(code, bytes.Repeat([]byte{0x5a}, SaltSize))
		if err != nil {
			t.Fatal(err)
		}
		mark, err := Mark(im, payload, kbio)
		if err != nil {
			t.Fatal(err)
		}
		marked := mark.Image
		v1, err := Encipher(SchemeV1, marked, kbio)
		if err != nil {
			t.Fatal(err)
		}
		paper, err := Encipher(SchemePaper, marked, kbio)
		if err != nil {
			t.Fatal(err)
		}
		hm, h1, hp := sha256.Sum256(marked.RawBytes()), sha256.Sum256(v1), sha256.Sum256(paper)
		got[name] = golden{hex.EncodeToString(hm[:]), hex.EncodeToString(h1[:]), len(v1), hex.EncodeToString(hp[:]), len(paper)}
	}
	path := filepath.Join("testdata", "golden.json")
	if *update {
		b, _ := json.MarshalIndent(got, "", "  ")
		if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -run Golden -update to create it)", err)
	}
	var want map[string]golden
	if err := json.Unmarshal(b, &want); err != nil {
		t.Fatal(err)
	}
	for name, g := range got {
		if want[name] != g {
			t.Errorf("%s: got %+v, want %+v", name, g, want[name])
		}
	}
}

func TestPayloadRoundTripAndCRC(t *testing.T) {
	code, _ := Binarise(testFeatures(3))
	b, err := (&Payload{Template: code, ClinicianID: "nurse 4"}).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	p, err := ParsePayload(b)
	if err != nil || p.ClinicianID != "nurse 4" || !bytes.Equal(p.Template, code) {
		t.Fatalf("%+v %v", p, err)
	}
	b[10] ^= 1
	if _, err := ParsePayload(b); !errors.Is(err, ErrPayloadCRC) {
		t.Fatalf("corrupt payload: %v", err)
	}
	if _, err := (&Payload{Template: code, ClinicianID: strings.Repeat("x", 65)}).Marshal(); err == nil {
		t.Fatal("65-byte clinician id accepted")
	}
	if _, err := (&Payload{Template: code, ClinicianID: "a\nb"}).Marshal(); err == nil {
		t.Fatal("control character in clinician id accepted")
	}
}

func TestBinariseIsBalanced(t *testing.T) {
	code, err := Binarise(testFeatures(5))
	if err != nil {
		t.Fatal(err)
	}
	ones := 0
	for _, c := range code {
		for ; c != 0; c &= c - 1 {
			ones++
		}
	}
	if ones != FeatureCount/2-1 && ones != FeatureCount/2 {
		t.Fatalf("%d ones in %d bits", ones, FeatureCount)
	}
}

func TestBERAndNC(t *testing.T) {
	a := []byte{0xFF, 0x00}
	if BitErrorRate(a, a) != 0 || NormalizedCorrelation(a, a) != 1 {
		t.Fatal("identical strings")
	}
	b := []byte{0xFF, 0x0F}
	if got := BitErrorRate(a, b); got != 4.0/16 {
		t.Fatalf("BER %g", got)
	}
	if got := NormalizedCorrelation(a, []byte{0x00, 0xFF}); got != -1 {
		t.Fatalf("NC of complements %g", got)
	}
	if got := BitErrorRate(a, a[:1]); got != 0.5 {
		t.Fatalf("BER with a missing byte %g", got)
	}
}
