package protect

import (
	"context"
	"errors"
	"testing"

	"edge/internal/uplink"
)

// TestRecoverIntegrityErrors reseals envelopes whose contents fail each of
// Recover's checks and wants the typed error, and no result, for each.
func TestRecoverIntegrityErrors(t *testing.T) {
	f := newFixture(t)
	req := &Request{Image: synthetic(96, 80, 12, false, 1, 5), Identity: testIdentity(t, 3, "errs")}
	p, err := f.sealer.Protect(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		damage func(c *uplink.Contents)
		want   error
	}{
		{"pixel hash", func(c *uplink.Contents) { c.PixelSHA256[0] ^= 1 }, ErrPixelSHA256},
		{"body", func(c *uplink.Contents) { c.Body[len(c.Body)/2] ^= 0x10 }, nil},
		{"key", func(c *uplink.Contents) { c.KBio[0] ^= 1 }, nil},
		{"sealed payload", func(c *uplink.Contents) { c.PayloadRef[len(c.PayloadRef)/2] ^= 1 }, ErrPayloadMismatch},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h, c, err := uplink.Open(p.Envelope, f.hub, uplink.TrustDevices(f.dev.Public()), uplink.Limits{})
			if err != nil {
				t.Fatal(err)
			}
			tc.damage(c)
			env, err := uplink.Seal(h, c, f.hub.Public(), f.dev, newDetRand(9))
			if err != nil {
				t.Fatal(err)
			}
			r, err := f.opener.Recover(context.Background(), env)
			if r != nil {
				t.Errorf("Recover returned a result with error %v", err)
			}
			var ie *IntegrityError
			if !errors.Is(err, ErrIntegrity) || !errors.As(err, &ie) {
				t.Fatalf("error %v, want an IntegrityError", err)
			}
			if tc.want != nil && !errors.Is(err, tc.want) {
				t.Errorf("error %v, want %v", err, tc.want)
			}
		})
	}
}
