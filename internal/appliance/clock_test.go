package appliance_test

import (
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"edge/internal/appliance"
	"edge/internal/testenv"
)

// TestClockNotSet boots the appliance in 1970, as a board without a
// real-time clock does: a clinician can log in, but an image is held, not
// sealed with a 1970 timestamp, and the page raises the alarm; once the
// clock is set the image is protected for the clinician logged in.
func TestClockNotSet(t *testing.T) {
	data := testenv.Path(t, "medical")
	work := t.TempDir()
	enroll(t, filepath.Join(work, "templates"), "dr.c", synth(7))
	startHub(t, filepath.Join(work, "hub"), filepath.Join(work, "keys"))
	watch := filepath.Join(work, "watch")
	os.MkdirAll(watch, 0o700)
	cfgPath := filepath.Join(work, "edge.json")
	writeJSON(t, cfgPath, map[string]any{
		"state_dir": "state", "keys": "keys", "store": "templates",
		"sensor": map[string]any{"port": "sensor"},
		"watch":  map[string]any{"in": "watch", "settle_seconds": 0.2},
		"status": map[string]any{"listen": "127.0.0.1:0"},
	})
	startSim(t, filepath.Join(work, "sensor"), synth(7))
	var offset atomic.Int64 // added to the real time: 1970 at first
	offset.Store(-time.Since(time.Unix(100, 0)).Nanoseconds())
	now := func() time.Time { return time.Now().Add(time.Duration(offset.Load())) }
	r := runApplianceWith(t, cfgPath, appliance.Options{Now: now})
	waitFor(t, 30*time.Second, "the login", func() bool { return r.health(t)["logged_in"] == true })
	copyFile(t, filepath.Join(data, "CT_small.dcm"), filepath.Join(watch, "ct.dcm"))
	waitFor(t, 30*time.Second, "the image held", func() bool { return r.health(t)["pending"] == float64(1) })
	if page := r.get(t, "/"); !strings.Contains(page, "Clock not set") {
		t.Error("no clock alarm on the page")
	}
	if h := r.health(t); h["outbox_depth"] != float64(0) || h["clock_sane"] != false {
		t.Errorf("health in 1970: %v", h)
	}
	offset.Store(0)
	waitFor(t, 30*time.Second, "the image protected once the clock is set", func() bool {
		h := r.health(t)
		return h["pending"] == float64(0) && h["outbox_depth"] == float64(1)
	})
	var held, released int
	for _, e := range readAudit(t, filepath.Join(work, "state", "audit.jsonl")) {
		switch e.Event {
		case "held":
			held++
			if e.Reason != "clock not set" || e.ClockSane {
				t.Errorf("held record %+v", e)
			}
		case "released":
			released++
			if e.Clinician != "dr.c" || !e.ClockSane || e.Time.Year() < 2026 {
				t.Errorf("released record %+v", e)
			}
		}
	}
	if held != 1 || released != 1 {
		t.Errorf("%d held, %d released", held, released)
	}
}
