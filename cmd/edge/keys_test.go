package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"edge/internal/uplink"
)

func runKeysCLI(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var o, e bytes.Buffer
	code = run(context.Background(), env{&o, &e}, args)
	return code, o.String(), e.String()
}

func TestKeysInit(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "keys")
	code, out, errOut := runKeysCLI(t, "keys", "init", "--dir", dir)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	dev, err := uplink.LoadDeviceKey(filepath.Join(dir, uplink.DeviceKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	hub, err := uplink.LoadHubPublicKey(filepath.Join(dir, uplink.HubPubFile))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "device id: "+dev.ID()+"\n") || !strings.Contains(out, "hub key fingerprint: "+hub.Fingerprint()+"\n") {
		t.Errorf("output does not give the device id %s and hub fingerprint %s:\n%s", dev.ID(), hub.Fingerprint(), out)
	}
	before, err := os.ReadFile(filepath.Join(dir, uplink.HubKeyFile))
	if err != nil {
		t.Fatal(err)
	}

	code, _, errOut = runKeysCLI(t, "keys", "init", "--dir", dir)
	if code != 1 || !strings.Contains(errOut, "already exists") || !strings.Contains(errOut, "--force") {
		t.Fatalf("second init: exit %d, %q; want 1 and a refusal naming --force", code, errOut)
	}
	if strings.Count(strings.TrimSpace(errOut), "\n") != 0 {
		t.Errorf("error is more than one line: %q", errOut)
	}
	after, err := os.ReadFile(filepath.Join(dir, uplink.HubKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(before, after) {
		t.Fatal("refused init changed hub.key")
	}

	code, out, errOut = runKeysCLI(t, "keys", "init", "--dir", dir, "--force")
	if code != 0 {
		t.Fatalf("init --force: exit %d: %s", code, errOut)
	}
	if strings.Contains(out, "hub key fingerprint: "+hub.Fingerprint()) {
		t.Error("init --force kept the old hub key")
	}
}

func TestKeysUsage(t *testing.T) {
	for _, args := range [][]string{
		{"keys"},
		{"keys", "rotate"},
		{"keys", "init"},
		{"keys", "init", "--dir", t.TempDir(), "extra"},
		{"keys", "init", "--bogus"},
	} {
		if code, _, errOut := runKeysCLI(t, args...); code != 2 || errOut == "" {
			t.Errorf("edge %s: exit %d, stderr %q; want 2 and a message", strings.Join(args, " "), code, errOut)
		}
	}
}
