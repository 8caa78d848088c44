package appliance_test

import (
	"context"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"edge/internal/testenv"
)

var updateScreenshot = flag.Bool("update-screenshot", false, "write the status page's screenshot to docs/status-page.png")

// TestStatusPageInChromium drives the bedside page in headless Chromium at
// the 7-inch screen's 1024×600, with JavaScript off (the page has none):
// who is logged in and until when, the last capture's thumbnail of the
// marked image, the outbox, the link, the sensor, an alarm when the sensor
// is unplugged, and the logout button ending the session.
func TestStatusPageInChromium(t *testing.T) {
	chrome := ""
	for _, n := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(n); err == nil {
			chrome = p
			break
		}
	}
	if chrome == "" {
		testenv.Tool(t, "chromium", "chromium")
	}
	data := testenv.Path(t, "medical")
	work := t.TempDir()
	th := startHub(t, filepath.Join(work, "hub"), filepath.Join(work, "keys"))
	enroll(t, filepath.Join(work, "templates"), "dr.a", synth(7))
	watch := filepath.Join(work, "watch")
	os.MkdirAll(watch, 0o700)
	cfgPath := filepath.Join(work, "edge.json")
	writeJSON(t, cfgPath, map[string]any{
		"state_dir": "state", "keys": "keys", "store": "templates",
		"sensor": map[string]any{"port": "sensor"},
		"watch":  map[string]any{"in": "watch", "settle_seconds": 0.2},
		"uplink": map[string]any{"hub": th.url, "pin": th.pin},
		"status": map[string]any{"listen": "127.0.0.1:0"},
	})
	sm := startSim(t, filepath.Join(work, "sensor"), synth(7))
	r := runAppliance(t, cfgPath)
	waitFor(t, 30*time.Second, "the login", func() bool { return r.health(t)["logged_in"] == true })
	copyFile(t, filepath.Join(data, "mr-brain-0051.dcm"), filepath.Join(watch, "mr.dcm"))
	copyFile(t, filepath.Join(data, "CT_small.dcm"), filepath.Join(watch, "ct.dcm"))
	waitFor(t, 60*time.Second, "two images at the hub", func() bool { return len(th.stored(t)) == 2 })

	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chrome), chromedp.WindowSize(1024, 600), chromedp.NoSandbox,
		chromedp.Flag("blink-settings", "scriptEnabled=false"))
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancel()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	ctx, cancel = context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	url := "http://" + r.addrs.Status + "/"
	do := func(steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, steps...); err != nil {
			t.Fatal(err)
		}
	}
	text := func(sel string) string {
		t.Helper()
		v, err := chromedp.Run(ctx, chromedp.Text(sel))
		if err != nil {
			t.Fatalf("%s: %v", sel, err)
		}
		return strings.TrimSpace(v)
	}
	eval := func(js string) int {
		t.Helper()
		v, err := chromedp.Run(ctx, chromedp.Evaluate[int](js))
		if err != nil {
			t.Fatalf("%s: %v", js, err)
		}
		return v
	}
	do(chromedp.EmulateViewport(1024, 600), chromedp.Navigate(url))
	clinician, until := text("#clinician"), text("#session-until")
	depth, oldest, link, last, sensorState := text("#outbox-depth"), text("#outbox-oldest"), text("#link-state"), text("#last-upload"), text("#sensor-state")
	thumbs := eval(`document.querySelectorAll("#captures img").length`)
	thumbWidth := eval(`document.querySelector("#captures img").naturalWidth`)
	scripts := eval(`document.scripts.length`)
	if clinician != "dr.a" || len(until) != len("15:04:05") {
		t.Errorf("session: %q until %q", clinician, until)
	}
	if depth != "0" || oldest == "" || link != "up" || last == "never" || !strings.HasPrefix(sensorState, "connected") {
		t.Errorf("outbox %q oldest %q, link %q last %q, sensor %q", depth, oldest, link, last, sensorState)
	}
	if thumbs != 2 || thumbWidth == 0 || thumbWidth > 160 {
		t.Errorf("%d thumbnails, the first %d pixels wide", thumbs, thumbWidth)
	}
	if scripts != 0 {
		t.Errorf("the page has %d scripts; it must work without JavaScript", scripts)
	}

	// The sensor unplugged: an alarm, and the session goes on.
	sm.stop()
	waitFor(t, 30*time.Second, "the sensor alarm", func() bool { return r.health(t)["sensor_connected"] == false })
	do(chromedp.Navigate(url))
	alarms := text("#alarms")
	wide := eval(`document.documentElement.scrollWidth`)
	shot, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(alarms, "sensor not answering") {
		t.Errorf("alarms %q", alarms)
	}
	if wide > 1024 {
		t.Errorf("page is %d pixels wide, more than the 1024 of the screen", wide)
	}
	os.WriteFile(filepath.Join(work, "status-page.png"), shot, 0o644)
	if *updateScreenshot {
		root, _ := testenv.ModuleRoot()
		if err := os.WriteFile(filepath.Join(root, "docs", "status-page.png"), shot, 0o644); err != nil {
			t.Fatal(err)
		}
	}

	// The logout button ends the session.
	do(chromedp.Click("#logout"))
	// The form's POST answers with a redirect to the page.
	var who string
	waitFor(t, 20*time.Second, "the page after logout", func() bool {
		v, err := chromedp.Run(ctx, chromedp.Text("#session"))
		who = v
		return err == nil && !strings.Contains(v, "dr.a")
	})
	if !strings.Contains(who, "Nobody logged in") {
		t.Errorf("after logout the page says %q", who)
	}
	if r.health(t)["logged_in"] != false {
		t.Error("session still open after the logout button")
	}
}
