package uplink

import (
	"errors"
	"testing"
	"time"
)

func TestDeviceTLSCertificate(t *testing.T) {
	dev := testDeviceKey(t)
	c, err := dev.TLSCertificate(time.Unix(0, 0))
	if err != nil {
		t.Fatal(err)
	}
	id, pub, err := PeerDevice(c.Leaf, TrustDevices(dev.Public()))
	if err != nil || id != dev.ID() || !pub.Equal(dev.Public()) {
		t.Fatalf("trusted device: %s, %v", id, err)
	}
	if _, _, err := PeerDevice(c.Leaf, TrustDevices(otherDeviceKey(t).Public())); !errors.Is(err, ErrUnknownDevice) {
		t.Fatalf("untrusted device: %v", err)
	}
	if len(SPKIPin(c.Leaf)) != 64 {
		t.Fatal("pin is not 64 hex digits")
	}
	if _, err := CheckPin("zz"); err == nil {
		t.Fatal("bad pin accepted")
	}
	if p, err := CheckPin(" " + SPKIPin(c.Leaf) + "\n"); err != nil || p != SPKIPin(c.Leaf) {
		t.Fatalf("pin with spaces: %v", err)
	}
}

func TestBackoffCappedAndJittered(t *testing.T) {
	b := Backoff{Min: 100 * time.Millisecond, Max: time.Second}
	seen := map[time.Duration]bool{}
	for a := range 20 {
		d := b.Delay(a, nil)
		want := min(100*time.Millisecond<<min(a, 10), time.Second)
		if d < want/2 || d > want {
			t.Fatalf("attempt %d: %v, want in [%v, %v]", a, d, want/2, want)
		}
		seen[d] = true
	}
	if len(seen) < 10 {
		t.Fatalf("only %d distinct delays in 20: no jitter", len(seen))
	}
}
