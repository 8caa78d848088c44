package appliance

import (
	"crypto/sha256"
	"testing"
	"time"

	"edge/internal/biometric"
)

func testIdentity(t *testing.T, id string) *biometric.Identity {
	t.Helper()
	var s biometric.Secret
	copy(s[:], id)
	v := make([]float32, 2048)
	h := sha256.Sum256([]byte(id))
	for i := range v {
		v[i] = float32(h[i%32]) + float32(i%7)
	}
	ident, err := biometric.FileIdentity(id, &s, nil, v)
	if err != nil {
		t.Fatal(err)
	}
	return ident
}

func TestSessionIdleTimeoutAndLogout(t *testing.T) {
	now := time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)
	var ended []string
	base := now
	s := NewSession(time.Minute, func() time.Time { return now }, func() time.Duration { return now.Sub(base) }, func(id, reason string) { ended = append(ended, id+": "+reason) })
	if _, ok := s.Active(true); ok {
		t.Fatal("a session before any login")
	}
	changed := s.Changed()
	s.Login(testIdentity(t, "dr.a"))
	select {
	case <-changed:
	default:
		t.Error("login did not signal")
	}
	now = now.Add(50 * time.Second)
	if id, ok := s.Active(true); !ok || id.ClinicianID() != "dr.a" {
		t.Fatal("session ended early")
	}
	// The image at 50 s extended the session to 110 s.
	now = now.Add(55 * time.Second)
	if info := s.Info(); info.Clinician != "dr.a" || !info.Until.Equal(now.Add(5*time.Second)) {
		t.Errorf("info %+v", info)
	}
	now = now.Add(5 * time.Second)
	if _, ok := s.Active(false); ok {
		t.Error("session outlived its idle timeout")
	}
	s.Login(testIdentity(t, "dr.b"))
	s.Login(testIdentity(t, "dr.c"))
	if !s.Logout("status page") || s.Logout("again") {
		t.Error("logout reports")
	}
	want := []string{"dr.a: idle timeout", "dr.b: another clinician logged in", "dr.c: status page"}
	if len(ended) != len(want) {
		t.Fatalf("ended %q", ended)
	}
	for i := range want {
		if ended[i] != want[i] {
			t.Errorf("end %d: %q, want %q", i, ended[i], want[i])
		}
	}
}
