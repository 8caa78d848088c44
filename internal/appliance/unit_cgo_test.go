//go:build cgo

package appliance_test

import (
	"bufio"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"edge/internal/biometric"
	"edge/internal/infer"
	"edge/internal/infer/resnet"
	"edge/internal/testenv"
)

// TestEdgeRunUnderSystemd builds the edge binary, takes the command line
// of board/edge.service's ExecStart, and runs it (with a config of this
// test's) the way systemd does with Type=notify and WatchdogSec: a fake
// NOTIFY_SOCKET must see READY=1, then WATCHDOG=1 at half the period, and
// STOPPING=1 on SIGTERM, after which edge run exits 0. The model is a small
// network from the ResNet152 builder on the real ONNX Runtime.
func TestEdgeRunUnderSystemd(t *testing.T) {
	root, err := testenv.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	lib, err := infer.LibraryPath("")
	if err != nil {
		testenv.Missing(t, filepath.Join(root, "third_party", "onnxruntime", "linux-"+runtime.GOARCH, infer.LibName), "make ort or sh scripts/fetch-ort.sh", err)
	}
	args := execStart(t, filepath.Join(root, "board", "edge.service"))
	if len(args) < 2 || args[1] != "run" {
		t.Fatalf("ExecStart %q does not run edge run", args)
	}
	work := t.TempDir()
	bin := filepath.Join(work, "edge")
	if out, err := exec.Command("go", "build", "-o", bin, "edge/cmd/edge").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	m, err := resnet.Build(resnet.Config{Blocks: [4]int{1, 1, 1, 1}, Width: 8, Size: 64, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	model := filepath.Join(work, "small.onnx")
	if err := os.WriteFile(model, m.Marshal(), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := biometric.CreateStore(filepath.Join(work, "templates")); err != nil {
		t.Fatal(err)
	}
	startHub(t, filepath.Join(work, "hub"), filepath.Join(work, "keys"))
	cfg := filepath.Join(work, "edge.json")
	writeJSON(t, cfg, map[string]any{
		"state_dir": "state", "keys": "keys", "store": "templates", "model": model, "ort_lib": lib,
		"sensor":   map[string]any{"port": "no-sensor-here"},
		"modality": map[string]any{"listen": "127.0.0.1:0"},
		"status":   map[string]any{"listen": "127.0.0.1:0"},
	})
	// The unit's arguments with this test's config in place of the board's.
	var argv []string
	for i := 1; i < len(args); i++ {
		if args[i] == "--config" && i+1 < len(args) {
			argv = append(argv, "--config", cfg)
			i++
			continue
		}
		argv = append(argv, args[i])
	}
	sock := filepath.Join(work, "notify")
	c, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: sock, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	cmd := exec.Command(bin, argv...)
	cmd.Env = append(os.Environ(), "NOTIFY_SOCKET="+sock, "WATCHDOG_USEC=400000")
	var logs syncBuffer
	cmd.Stderr = &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
		if t.Failed() {
			t.Logf("edge run:\n%s", logs.String())
		}
	}()
	var got []string
	read := func() string {
		c.SetReadDeadline(time.Now().Add(60 * time.Second))
		b := make([]byte, 4096)
		n, err := c.Read(b)
		if err != nil {
			t.Fatalf("waiting for sd_notify (got %q): %v", got, err)
		}
		got = append(got, string(b[:n]))
		return string(b[:n])
	}
	if msg := read(); !strings.HasPrefix(msg, "READY=1\n") && msg != "READY=1" {
		t.Fatalf("first notification %q, want READY=1", msg)
	}
	t0 := time.Now()
	if msg := read(); msg != "WATCHDOG=1" {
		t.Fatalf("second notification %q, want WATCHDOG=1", msg)
	}
	if msg := read(); msg != "WATCHDOG=1" {
		t.Fatalf("third notification %q, want WATCHDOG=1", msg)
	}
	t.Logf("two watchdog pings %v apart on average (WatchdogSec 0.4 s)", time.Since(t0)/2)
	cmd.Process.Signal(syscall.SIGTERM)
	for {
		if msg := read(); msg == "STOPPING=1" {
			break
		} else if msg != "WATCHDOG=1" {
			t.Fatalf("notification %q while stopping", msg)
		}
	}
	if err := cmd.Wait(); err != nil {
		t.Errorf("edge run after SIGTERM: %v", err)
	}
}

// execStart is the unit's ExecStart command line, split on spaces.
func execStart(t *testing.T, unit string) []string {
	t.Helper()
	f, err := os.Open(unit)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(strings.TrimSpace(sc.Text()), "ExecStart="); ok {
			return strings.Fields(v)
		}
	}
	t.Fatalf("%s has no ExecStart", unit)
	return nil
}
