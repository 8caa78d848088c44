package appliance_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image/png"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"edge/internal/appliance"
	"edge/internal/medimg"
	"edge/internal/testenv"
)

// TestAppliance runs the whole device in this process against a hub on
// loopback: images sent by dcmtk's storescu and dropped in the watch folder
// while nobody is logged in (and the sensor is not even plugged in) are
// held; the sensor appears, the clinician's finger logs them in, and the
// held images go out carrying that clinician; images taken in the session
// go straight out, also while the sensor is unplugged mid-session; every
// image reaches the hub exactly once and restores exactly; the status page
// shows it all and its logout button ends the session; SIGTERM (ctx) stops
// it cleanly.
func TestAppliance(t *testing.T) {
	if testing.Short() {
		t.Skip("end to end with storescu, a hub, the simulator and the watch folder")
	}
	data := testenv.Path(t, "medical")
	storescu := testenv.Tool(t, "storescu", "dcmtk")
	work := t.TempDir()
	th := startHub(t, filepath.Join(work, "hub"), filepath.Join(work, "keys"))
	enroll(t, filepath.Join(work, "templates"), "dr.a", synth(7))
	link := filepath.Join(work, "sensor")
	watch := filepath.Join(work, "watch")
	os.MkdirAll(watch, 0o700)
	cfgPath := filepath.Join(work, "edge.json")
	writeJSON(t, cfgPath, map[string]any{
		"state_dir": "state", "keys": "keys", "store": "templates",
		"sensor":   map[string]any{"port": "sensor"},
		"modality": map[string]any{"listen": "127.0.0.1:0", "ae_title": "EDGE"},
		"watch":    map[string]any{"in": "watch", "settle_seconds": 0.2},
		"uplink":   map[string]any{"hub": th.url, "pin": th.pin},
		"status":   map[string]any{"listen": "127.0.0.1:0"},
		"session":  map[string]any{"idle_timeout_seconds": 600},
	})
	r := runAppliance(t, cfgPath)
	_, port, _ := strings.Cut(r.addrs.DICOM, ":")
	send := func(names ...string) {
		t.Helper()
		args := []string{"-aec", "EDGE", "-aet", "MODALITY", "127.0.0.1", port}
		for _, n := range names {
			args = append(args, filepath.Join(data, n))
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		out, err := exec.CommandContext(ctx, storescu, args...).CombinedOutput()
		if err != nil || bytes.Contains(out, []byte("E:")) {
			t.Fatalf("storescu %v: %v\n%s", names, err, out)
		}
	}

	// Nobody logged in, no sensor: the images are held, C-STORE succeeds.
	if h := r.health(t); h["sensor_connected"] != false || h["logged_in"] != false {
		t.Errorf("health before the sensor: %v", h)
	}
	send("CT_small.dcm", "MR_small.dcm")
	copyFile(t, filepath.Join(data, "pet-1.dcm"), filepath.Join(watch, "pet-1.dcm"))
	waitFor(t, 30*time.Second, "three held images", func() bool { return r.health(t)["pending"] == float64(3) })
	page := r.get(t, "/")
	for _, want := range []string{"Nobody logged in", "3 image(s) waiting for a clinician", "Fingerprint sensor not answering"} {
		if !strings.Contains(page, want) {
			t.Errorf("page before login lacks %q", want)
		}
	}
	if n := len(th.stored(t)); n != 0 {
		t.Fatalf("hub has %d images before anyone logged in", n)
	}

	// The sensor appears with the clinician's finger on it.
	sm := startSim(t, link, synth(7))
	waitFor(t, 60*time.Second, "the held images at the hub", func() bool { return len(th.stored(t)) == 3 })
	page = r.get(t, "/")
	for _, id := range []string{`id="clinician">dr.a<`, `id="session-until">`, `id="logout"`, `class="capture"`, `src="/thumb/`, "(held)"} {
		if !strings.Contains(page, id) {
			t.Errorf("page after login lacks %q", id)
		}
	}

	// In the session: straight to the outbox, then the hub.
	send("mr-brain-0051.dcm")
	// Sensor unplugged mid-session: the page says so, intake goes on.
	sm.stop()
	waitFor(t, 30*time.Second, "the page to say the sensor is lost", func() bool {
		return strings.Contains(r.get(t, "/"), `id="sensor-state" class="bad">lost since`)
	})
	send("US1_UNCR.dcm")
	waitFor(t, 2*time.Minute, "five images at the hub", func() bool { return len(th.stored(t)) == 5 })
	if h := r.health(t); h["logged_in"] != true {
		t.Errorf("session ended with the sensor: %v", h)
	}
	// An object sent again (the modality never heard "stored") makes no
	// second envelope.
	send("CT_small.dcm", "MR_small.dcm")
	startSim(t, link, synth(7))
	waitFor(t, 30*time.Second, "the sensor found again", func() bool { return r.health(t)["sensor_connected"] == true })

	// Every image exactly once, each restored exactly, each by dr.a.
	recs := th.stored(t)
	bySOP := map[string]int{}
	for _, rec := range recs {
		if rec.ClinicianID != "dr.a" {
			t.Errorf("envelope %s carries clinician %q", rec.EnvelopeID, rec.ClinicianID)
		}
		im, _, err := medimg.ReadFile(rec.Path)
		if err != nil {
			t.Fatal(err)
		}
		bySOP[pixelKey(im)]++
	}
	for _, n := range []string{"CT_small.dcm", "MR_small.dcm", "pet-1.dcm", "mr-brain-0051.dcm", "US1_UNCR.dcm"} {
		im, _, err := medimg.ReadFile(filepath.Join(data, n))
		if err != nil {
			t.Fatal(err)
		}
		if got := bySOP[pixelKey(im)]; got != 1 {
			t.Errorf("%s: restored exactly %d times at the hub, want 1", n, got)
		}
	}
	if len(recs) != 5 {
		t.Errorf("hub stored %d images, want 5", len(recs))
	}

	// The device's audit: three held, released to dr.a, two protected.
	events := readAudit(t, filepath.Join(work, "state", "audit.jsonl"))
	count := map[string]int{}
	for _, e := range events {
		count[e.Event]++
		if e.Event == "released" && (e.Clinician != "dr.a" || e.HeldSince.IsZero() || e.Envelope == "") {
			t.Errorf("release record %+v", e)
		}
	}
	if count["held"] != 3 || count["released"] != 3 || count["protected"] != 2 || count["login"] != 1 {
		t.Errorf("audit counts %v", count)
	}

	// The thumbnail is a PNG; the metrics count what happened.
	resp, err := http.Get("http://" + r.addrs.Status + "/thumb/1.png")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := png.Decode(resp.Body); err != nil {
		t.Errorf("thumbnail: %v", err)
	}
	resp.Body.Close()
	waitFor(t, 10*time.Second, "the outbox to drain", func() bool { return r.health(t)["outbox_depth"] == float64(0) })
	m := r.get(t, "/metrics")
	for _, want := range []string{"edge_images_protected_total 5", "edge_images_held_total 3", "edge_session_active 1", `edge_logins_total{result="match"} 1`, "edge_pending_images 0"} {
		if !strings.Contains(m, want) {
			t.Errorf("metrics lack %q", want)
		}
	}

	// The logout button ends the session.
	resp, err = http.PostForm("http://"+r.addrs.Status+"/logout", url.Values{})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if page := r.get(t, "/"); !strings.Contains(page, "Nobody logged in") {
		t.Error("still logged in after the logout button")
	}
	if err := r.stop(); err != nil {
		t.Errorf("run after SIGTERM: %v", err)
	}
	if ents, _ := os.ReadDir(filepath.Join(work, "state", "pending")); len(ents) != 0 {
		t.Errorf("pending folder not empty: %v", ents)
	}
}

func pixelKey(im *medimg.Image) string {
	return fmt.Sprintf("%d×%d×%d/%x", im.Width, im.Height, im.Frames, im.RawBytes())
}

func copyFile(t *testing.T, src, dst string) {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	tmp := filepath.Join(filepath.Dir(dst), "."+filepath.Base(dst))
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, dst); err != nil {
		t.Fatal(err)
	}
}

func readAudit(t *testing.T, path string) []appliance.AuditEvent {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []appliance.AuditEvent
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var e appliance.AuditEvent
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatalf("audit line %q: %v", sc.Text(), err)
		}
		out = append(out, e)
	}
	return out
}

// TestTouchLogout: the finger logs in, is lifted, and a second touch logs
// out; the finger must then be lifted again before it logs anyone in.
func TestTouchLogout(t *testing.T) {
	work := t.TempDir()
	startHub(t, filepath.Join(work, "hub"), filepath.Join(work, "keys"))
	enroll(t, filepath.Join(work, "templates"), "dr.t", synth(7))
	cfgPath := filepath.Join(work, "edge.json")
	writeJSON(t, cfgPath, map[string]any{
		"state_dir": "state", "keys": "keys", "store": "templates",
		"sensor":   map[string]any{"port": "sensor"},
		"modality": map[string]any{"listen": "127.0.0.1:0"},
		"status":   map[string]any{"listen": "127.0.0.1:0"},
	})
	link := filepath.Join(work, "sensor")
	sm := startSim(t, link, synth(7))
	r := runAppliance(t, cfgPath)
	waitFor(t, 30*time.Second, "the login", func() bool { return r.health(t)["logged_in"] == true })
	// The same module with the finger lifted for a few polls, then back.
	sm.stop()
	startSimOpts(t, link, synth(7), 4)
	waitFor(t, 30*time.Second, "the logout by a second touch", func() bool { return r.health(t)["logged_in"] == false })
	time.Sleep(time.Second)
	if r.health(t)["logged_in"] != false {
		t.Error("the finger left on the sensor logged in again")
	}
	events := readAudit(t, filepath.Join(work, "state", "audit.jsonl"))
	if n := len(events); n != 2 || events[0].Event != "login" || events[1].Event != "logout" || events[1].Reason != "second touch" {
		t.Errorf("audit %+v", events)
	}
}
