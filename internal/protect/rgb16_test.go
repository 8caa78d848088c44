package protect

import (
	"bytes"
	"context"
	"testing"

	"edge/internal/medimg"
)

// TestRGB16RoundTrip protects and recovers 16-bit RGB images, the kind that
// made the coder panic, as a new DICOM file and as PNG, with both schemes,
// and wants the file given back byte for byte.
func TestRGB16RoundTrip(t *testing.T) {
	f := newFixture(t)
	for _, bits := range []int{16, 12} {
		im := synthetic(80, 60, bits, false, 3, uint64(bits))
		im.Photometric = medimg.RGB
		dc, err := medimg.NewDICOMContainer(im, "2.25.99")
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range []*medimg.Container{dc, {Format: medimg.FormatPNG}} {
			var orig bytes.Buffer
			if err := medimg.Encode(&orig, im, c); err != nil {
				t.Fatal(err)
			}
			in, ic, err := medimg.Decode(orig.Bytes())
			if err != nil {
				t.Fatal(err)
			}
			for _, scheme := range []string{SchemeV1, SchemePaper} {
				p, err := f.sealer.Protect(context.Background(), &Request{Image: in, Container: ic, Identity: testIdentity(t, 7, "rgb16"), Scheme: scheme})
				if err != nil {
					t.Fatalf("%d bits %s %s: %v", bits, c.Format, scheme, err)
				}
				r, err := f.opener.Recover(context.Background(), p.Envelope)
				if err != nil {
					t.Fatalf("%d bits %s %s: %v", bits, c.Format, scheme, err)
				}
				var back bytes.Buffer
				if err := medimg.Encode(&back, r.Image, r.Container); err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(back.Bytes(), orig.Bytes()) {
					t.Errorf("%d bits %s %s: restored file differs", bits, c.Format, scheme)
				}
			}
		}
	}
}
