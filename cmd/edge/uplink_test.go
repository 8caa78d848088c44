package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"edge/internal/medimg"
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
	keys := filepath.Join(dir, "keys")
	if code, _, errs := runUplinkCLI("keys", "init", "--dir", keys); code != 0 {
		t.Fatal(errs)
	}
	feats := filepath.Join(dir, "f.f32")
	r := rand.New(rand.NewPCG(1, 2))
	fb := make([]byte, 0, 4*2048)
	for range 2048 {
		fb = binary.LittleEndian.AppendUint32(fb, math.Float32bits(float32(r.NormFloat64())))
	}
	os.WriteFile(feats, fb, 0o644)
	img := filepath.Join(dir, "im.png")
	im := &medimg.Image{Width: 64, Height: 64, Frames: 1, Channels: 1, BitsAllocated: 8, BitsStored: 8, Photometric: medimg.Monochrome2, Pix: make([]int32, 64*64)}
	for i := range im.Pix {
		im.Pix[i] = int32(100 + 50*math.Sin(float64(i)/37) + float64(r.IntN(5)))
	}
	if err := medimg.WriteFile(img, im, nil); err != nil {
		t.Fatal(err)
	}
	var envs []string
	for i := range 2 {
		out := filepath.Join(dir, "e"+string(rune('0'+i))+".edge")
		if code, _, errs := runUplinkCLI("protect", "--image", img, "--features", feats, "--hub-pub", filepath.Join(keys, "hub.pub"),
			"--device-key", filepath.Join(keys, "device.key"), "--out", out); code != 0 {
			t.Fatal(errs)
		}
		envs = append(envs, out)
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
	if code, _, _ := runUplinkCLI("uplink", "send", "--outbox", ob, "--hub", "http://x", "--pin", strings.Repeat("a", 64), "--device-key", filepath.Join(keys, "device.key"), "--once"); code != 1 {
		t.Fatalf("send to a plain-http hub: exit %d, want 1", code)
	}
}
