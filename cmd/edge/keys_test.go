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
	root := t.TempDir()
	hubDir, devDir := filepath.Join(root, "hub"), filepath.Join(root, "device")
	code, out, errOut := runKeysCLI(t, "keys", "init", "--hub", hubDir)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	hub, err := uplink.LoadHubPublicKey(filepath.Join(hubDir, uplink.HubPubFile))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "hub key fingerprint: "+hub.Fingerprint()+"\n") {
		t.Errorf("output does not give the hub fingerprint %s:\n%s", hub.Fingerprint(), out)
	}
	code, out, errOut = runKeysCLI(t, "keys", "init", "--device", devDir, "--hub-pub", filepath.Join(hubDir, uplink.HubPubFile))
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	dev, err := uplink.LoadDeviceKey(filepath.Join(devDir, uplink.DeviceKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "device id: "+dev.ID()+"\n") {
		t.Errorf("output does not give the device id %s:\n%s", dev.ID(), out)
	}
	if _, err := os.Stat(filepath.Join(devDir, uplink.HubKeyFile)); err == nil {
		t.Fatal("the device set holds hub.key")
	}
	if hp, err := uplink.LoadHubPublicKey(filepath.Join(devDir, uplink.HubPubFile)); err != nil || !hp.Equal(hub) {
		t.Fatalf("device set's hub.pub: %v", err)
	}
	// Neither set goes where the other's private key is.
	if code, _, errOut := runKeysCLI(t, "keys", "init", "--device", hubDir, "--force"); code != 1 || !strings.Contains(errOut, "separate folders") {
		t.Errorf("device set into the hub folder: exit %d, %q", code, errOut)
	}
	before, err := os.ReadFile(filepath.Join(hubDir, uplink.HubKeyFile))
	if err != nil {
		t.Fatal(err)
	}

	code, _, errOut = runKeysCLI(t, "keys", "init", "--hub", hubDir)
	if code != 1 || !strings.Contains(errOut, "already exists") || !strings.Contains(errOut, "--force") {
		t.Fatalf("second init: exit %d, %q; want 1 and a refusal naming --force", code, errOut)
	}
	if strings.Count(strings.TrimSpace(errOut), "\n") != 0 {
		t.Errorf("error is more than one line: %q", errOut)
	}
	after, err := os.ReadFile(filepath.Join(hubDir, uplink.HubKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(before, after) {
		t.Fatal("refused init changed hub.key")
	}

	code, out, errOut = runKeysCLI(t, "keys", "init", "--hub", hubDir, "--force")
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
		{"keys", "init", "--dir", t.TempDir()},
		{"keys", "init", "--hub", t.TempDir(), "--device", t.TempDir()},
		{"keys", "init", "--hub", t.TempDir(), "--hub-pub", "x"},
		{"keys", "init", "--hub", t.TempDir(), "extra"},
		{"keys", "init", "--bogus"},
	} {
		if code, _, errOut := runKeysCLI(t, args...); code != 2 || errOut == "" {
			t.Errorf("edge %s: exit %d, stderr %q; want 2 and a message", strings.Join(args, " "), code, errOut)
		}
	}
}
