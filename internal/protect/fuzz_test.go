package protect

import (
	"bytes"
	"testing"
)

// FuzzParsePayload: the payload comes out of an image, so it is outside
// bytes; parsing never panics, and what parses marshals back to itself.
func FuzzParsePayload(f *testing.F) {
	code, _ := Binarise(testFeatures(1))
	good, _ := (&Payload{Template: code, ClinicianID: "dr-a"}).Marshal()
	f.Add(good)
	f.Add(good[:len(good)-1])
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := ParsePayload(b)
		if err != nil {
			return
		}
		again, err := p.Marshal()
		if err != nil || !bytes.Equal(again, b) {
			t.Fatalf("parsed payload does not marshal back: %v", err)
		}
	})
}
