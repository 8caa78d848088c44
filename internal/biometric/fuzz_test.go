package biometric

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the fuzz seed corpora under testdata/fuzz")

// fuzzKey is the fixed store key the sealed-file seeds are made under.
var fuzzKey = bytes.Repeat([]byte{0x5a}, 32)

// fixedNonce makes the sealed seeds reproducible.
type fixedNonce struct{}

func (fixedNonce) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(i)
	}
	return len(p), nil
}

func seedTemplates(t testing.TB) (plain, sealed [][]byte) {
	small := &Template{Model: testModel, Vectors: [][]float32{{3, 4}, {0.3, 0.4}}, Secret: Secret{7, 7, 7}, Generation: 3}
	// Integer-made vectors: the seeds must come out the same on every
	// architecture, which random normals through math.Exp do not promise.
	vs := make([][]float32, 3)
	for k := range vs {
		vs[k] = make([]float32, 16)
		for i := range vs[k] {
			vs[k][i] = float32((i*7+k*3)%11) - 5
		}
	}
	tm, _, err := Enroll(testModel, vs, &Calibration{Threshold: -1})
	if err != nil {
		t.Fatal(err)
	}
	for _, x := range []*Template{small, tm} {
		b, err := x.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		plain = append(plain, b)
		s, err := Seal(fuzzKey, "seed", x, fixedNonce{})
		if err != nil {
			t.Fatal(err)
		}
		sealed = append(sealed, s)
	}
	return plain, sealed
}

// TestFuzzSeeds checks that the committed seed corpora are what the seed
// templates encode to; -update rewrites them.
func TestFuzzSeeds(t *testing.T) {
	plain, sealed := seedTemplates(t)
	cal := &Calibration{Threshold: 0.25, Rule: "eer", EER: 0.125, FAR: 0.125, FRR: 0.0625, Genuine: 16, Impostor: 48, Enroll: 3,
		Model: "ab", Centre: []float32{0.5, -0.25}, Scale: []float32{0.125, 2}}
	calJSON, err := json.Marshal(calibrationJSON{*cal, "00"})
	if err != nil {
		t.Fatal(err)
	}
	reg, err := (&Registration{ID: "seed", Generation: 2, Calibration: 5, Threshold: 0.375, Model: testModel, Template: bytes.Repeat([]byte{0xa5}, ProtectedBytes)}).MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	for name, seeds := range map[string][][]byte{"FuzzDecodeTemplate": plain, "FuzzOpenTemplate": sealed, "FuzzDecodeCalibration": {calJSON, []byte(`{"threshold":1}`)}, "FuzzParseRegistration": {reg}} {
		for i, s := range seeds {
			path := filepath.Join("testdata", "fuzz", name, "seed-"+strconv.Itoa(i))
			want := fmt.Appendf(nil, "go test fuzz v1\n[]byte(%q)\n", s)
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
				t.Fatalf("%v (run go test -run TestFuzzSeeds -update)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s differs from what the seed template encodes to (run with -update)", path)
			}
		}
	}
}

func FuzzDecodeTemplate(f *testing.F) {
	f.Fuzz(func(t *testing.T, b []byte) {
		tm, err := DecodeTemplate(b)
		if err != nil {
			return
		}
		// Whatever decodes re-encodes to the same bytes.
		out, err := tm.MarshalBinary()
		if err != nil {
			t.Fatalf("decoded template does not encode: %v", err)
		}
		// The first format has no secret; it re-encodes in the current one.
		if string(b[:4]) == plainMagic && !bytes.Equal(out, b) {
			t.Fatalf("re-encoding differs")
		}
	})
}

func FuzzOpenTemplate(f *testing.F) {
	f.Fuzz(func(t *testing.T, b []byte) {
		tm, err := Open(fuzzKey, "seed", b)
		if err != nil {
			return
		}
		if err := tm.validate(); err != nil {
			t.Fatalf("opened template is invalid: %v", err)
		}
	})
}

func FuzzDecodeCalibration(f *testing.F) {
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := decodeCalibration(b)
		if err != nil {
			return
		}
		// Whatever decodes is usable: applying it to a vector of its
		// dimension gives finite numbers.
		if n := len(c.Centre); n > 0 {
			v := make([]float32, n)
			for i := range v {
				v[i] = float32(i%3) + 1
			}
			u, err := c.apply(v)
			if err != nil {
				return
			}
			if err := checkVector(u); err != nil {
				t.Fatalf("calibrated vector: %v", err)
			}
		}
	})
}

func FuzzParseRegistration(f *testing.F) {
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := ParseRegistration(b)
		if err != nil {
			return
		}
		out, err := r.MarshalBinary()
		if err != nil {
			t.Fatalf("parsed registration does not encode: %v", err)
		}
		if !bytes.Equal(out, b) {
			t.Fatalf("re-encoding differs")
		}
	})
}
