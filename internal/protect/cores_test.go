package protect

import (
	"bytes"
	"crypto/sha256"
	"runtime"
	"testing"
)

// TestSameBytesOnAnyCoreCount marks and enciphers an image of several
// stripes with one, two and five goroutines' worth of GOMAXPROCS and wants
// the same marked image and the same body each time: the layout is the
// format's, never the machine's.
func TestSameBytesOnAnyCoreCount(t *testing.T) {
	im := synthetic(700, 600, 12, false, 1, 77)
	ident := testIdentity(t, 5, "cores")
	payload, err := (&Payload{Template: ident.ProtectedTemplate(), ClinicianID: "cores"}).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	kbio, err := DeriveKBio(ident.KeyMaterial(), bytes.Repeat([]byte{7}, SaltSize))
	if err != nil {
		t.Fatal(err)
	}
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	var wantMark [32]byte
	var wantBody []byte
	for _, procs := range []int{1, 2, 5} {
		runtime.GOMAXPROCS(procs)
		m, err := Mark(im, payload, kbio)
		if err != nil {
			t.Fatal(err)
		}
		body, err := Encipher(SchemeV1, m.Image, kbio)
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(m.Image.RawBytes())
		if wantBody == nil {
			wantMark, wantBody = sum, body
			continue
		}
		if sum != wantMark || !bytes.Equal(body, wantBody) {
			t.Errorf("GOMAXPROCS=%d: marked image or body differs from GOMAXPROCS=1", procs)
		}
	}
}
