package biometric

import (
	"bytes"
	"encoding/binary"
	"slices"
	"strings"
	"testing"
)

func TestTemplateCodec(t *testing.T) {
	tm := enrollTestTemplate(t, 5)
	b, err := tm.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	if want := plainHeader + 4*64*3; len(b) != want {
		t.Fatalf("encoded %d bytes, want %d", len(b), want)
	}
	got, err := DecodeTemplate(b)
	if err != nil {
		t.Fatal(err)
	}
	b2, err := got.MarshalBinary()
	if err != nil || !bytes.Equal(b, b2) {
		t.Fatalf("re-encoding differs (%v)", err)
	}

	bad := func(name string, edit func([]byte) []byte, want string) {
		t.Helper()
		c := edit(slices.Clone(b))
		if _, err := DecodeTemplate(c); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want an error containing %q", name, err, want)
		}
	}
	bad("empty", func(c []byte) []byte { return nil }, "shorter than")
	bad("magic", func(c []byte) []byte { c[0] = 'X'; return c }, "magic")
	bad("dim 0", func(c []byte) []byte { binary.LittleEndian.PutUint16(c[4:], 0); return c }, "dimension 0")
	bad("dim huge", func(c []byte) []byte { binary.LittleEndian.PutUint16(c[4:], 65535); return c }, "dimension 65535")
	bad("count 0", func(c []byte) []byte { c[6] = 0; return c }, "0 vectors")
	bad("count 17", func(c []byte) []byte { c[6] = 17; return c }, "17 vectors")
	bad("reserved", func(c []byte) []byte { c[7] = 1; return c }, "reserved")
	bad("truncated", func(c []byte) []byte { return c[:len(c)-4] }, "want")
	bad("trailing", func(c []byte) []byte { return append(c, 0) }, "want")
	bad("NaN", func(c []byte) []byte {
		binary.LittleEndian.PutUint32(c[plainHeader+8:], 0x7fc00000)
		return c
	}, "NaN")
	bad("Inf", func(c []byte) []byte {
		binary.LittleEndian.PutUint32(c[len(c)-4:], 0x7f800000)
		return c
	}, "+Inf")
}

func TestSealOpen(t *testing.T) {
	key := bytes.Repeat([]byte{0x42}, 32)
	tm := enrollTestTemplate(t, 6)
	sealed, err := Seal(key, "x", tm, nil)
	if err != nil {
		t.Fatal(err)
	}
	got, err := Open(key, "x", sealed)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got.Vectors[2], tm.Vectors[2]) {
		t.Error("vector 2 differs after seal and open")
	}
	sealed2, _ := Seal(key, "x", tm, nil)
	if bytes.Equal(sealed, sealed2) {
		t.Error("two seals of one template are identical: the nonce is not fresh")
	}
	if _, err := Open(key[:16], "x", sealed); err == nil {
		t.Error("16-byte key accepted")
	}
	big := make([]byte, MaxTemplateFile+1)
	copy(big, sealed)
	if _, err := Open(key, "x", big); err == nil || !strings.Contains(err.Error(), "more than") {
		t.Errorf("oversized file: %v", err)
	}
	if _, err := Seal(key, "../x", tm, nil); err == nil {
		t.Error("sealed under an unsafe id")
	}
}
