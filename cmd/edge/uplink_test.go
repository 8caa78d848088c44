package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"edge/internal/uplink/uplinktest"
)

func runUplinkCLI(args ...string) (code int, stdout, stderr string) {
	var o, e bytes.Buffer
	code = run(context.Background(), env{&o, &e}, args)
	return code, o.String(), e.String()
}

func TestHubInitPrintsPinLast(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "hub")
	code, out, errs := runUplinkCLI("hub", "init", "--dir", dir, "--listen", "127.0.0.1:0")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if pin := lines[len(lines)-1]; len(pin) != 64 || strings.Trim(pin, "0123456789abcdef") != "" {
		t.Fatalf("last line %q is not a pin", pin)
	}
	// An unknown key in hub.json is an error naming it.
	p := filepath.Join(dir, "hub.json")
	b, _ := os.ReadFile(p)
	os.WriteFile(p, bytes.Replace(b, []byte(`"listen"`), []byte(`"listne": "x", "listen"`), 1), 0o600)
	code, _, errs = runUplinkCLI("hub", "--config", p)
	if code != 1 || !strings.Contains(errs, `unknown field "listne"`) {
		t.Fatalf("unknown key: exit %d, %q", code, errs)
	}
	if code, _, _ := runUplinkCLI("hub", "init", "--dir", dir); code != 1 {
		t.Fatalf("second init: exit %d, want 1", code)
	}
}

func TestUplinkEnqueueQuota(t *testing.T) {
	dir := t.TempDir()
	hub, dev := uplinktest.HubKey(t, "cli").Public(), uplinktest.DeviceKey(t, "cli")
	var envs []string
	for i := range 2 {
		p := filepath.Join(dir, fmt.Sprintf("e%d.edge", i))
		if err := os.WriteFile(p, uplinktest.Seal(t, hub, dev, 100, nil), 0o644); err != nil {
			t.Fatal(err)
		}
		envs = append(envs, p)
	}
	ob := filepath.Join(dir, "outbox")
	if code, out, errs := runUplinkCLI("uplink", "enqueue", "--outbox", ob, "--max-count", "1", envs[0]); code != 0 || !strings.Contains(out, "queued envelope") {
		t.Fatalf("first enqueue: %d %s %s", code, out, errs)
	}
	code, _, errs := runUplinkCLI("uplink", "enqueue", "--outbox", ob, "--max-count", "1", envs[1])
	if code != 1 || !strings.Contains(errs, "outbox: full") {
		t.Fatalf("enqueue over quota: exit %d, %q", code, errs)
	}
	code, out, _ := runUplinkCLI("uplink", "status", "--outbox", ob)
	if code != 0 || !strings.Contains(out, `"full": true`) || !strings.Contains(out, `"depth": 1`) {
		t.Fatalf("status: %s", out)
	}
	code, _, errs = runUplinkCLI("uplink", "send", "--outbox", ob, "--hub", "http://x", "--pin", strings.Repeat("a", 64), "--device-key", filepath.Join(dir, "none.key"), "--once")
	if code != 1 || !strings.Contains(errs, "https") {
		t.Fatalf("send to a plain-http hub: exit %d, %q", code, errs)
	}
}
