package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

func runBoardCLI(args ...string) (code int, stdout, stderr string) {
	var o, e bytes.Buffer
	code = run(context.Background(), env{&o, &e}, args)
	return code, o.String(), e.String()
}

// writeProfile writes a profile for this machine's architecture with the
// given extra keys.
func writeProfile(t *testing.T, extra string) string {
	t.Helper()
	arch := `"goarch":"` + runtime.GOARCH + `"`
	if runtime.GOARCH == "arm" {
		arch += `,"goarm":"7"`
	}
	p := filepath.Join(t.TempDir(), "board.json")
	if err := os.WriteFile(p, []byte(`{"name":"bench",`+arch+extra+`}`), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// Each command that infers or talks to the sensor takes --board, and what
// the profile says reaches the driver: the library a board names is the one
// looked for, the port is the one opened.
func TestBoardReachesTheDrivers(t *testing.T) {
	lib := "/nonexistent/edge-test/libonnxruntime.so.1"
	prof := writeProfile(t, `,"ort_library":"`+lib+`","execution_providers":["cpu"],"serial":{"port":"/nonexistent/ttyEDGE","baud":57600}`)
	print := filepath.Join(t.TempDir(), "p.png")
	for _, args := range [][]string{
		{"infer", "info", "--board", prof},
		{"features", "--board", prof, "--fingerprint", print, "--out", filepath.Join(t.TempDir(), "f.f32")},
		{"enroll", "--board", prof, "--id", "a", "--store", t.TempDir(), print, print, print},
		{"verify", "--board", prof, "--id", "a", "--store", t.TempDir(), print},
		{"identify", "--board", prof, "--store", t.TempDir(), print},
		{"eval-biometrics", "--board", prof, "--fingerprints", t.TempDir()},
	} {
		code, _, errOut := runBoardCLI(args...)
		// 1, not 2: --board is a flag of each; verify, identify and
		// eval-biometrics stop at the empty store or folder before inference,
		// the others must have looked for the board's library.
		if code != 1 {
			t.Errorf("%v: exit %d, %s", args, code, errOut)
		}
		switch args[0] {
		case "infer", "features", "enroll":
			if !strings.Contains(errOut, lib) && !strings.Contains(errOut, "without cgo") {
				t.Errorf("%v: the board's library is not what was looked for: %s", args, errOut)
			}
		}
	}
	for _, sub := range []string{"info", "list", "capture"} {
		args := []string{"sensor", sub, "--board", prof, "--timeout", "5s"}
		if sub == "capture" {
			args = append(args, "--out", filepath.Join(t.TempDir(), "c.png"))
		}
		code, out, errOut := runBoardCLI(args...)
		if sub == "list" {
			// The board's port is probed first.
			if code != 0 || !strings.Contains(out, "/nonexistent/ttyEDGE") {
				t.Errorf("sensor list: exit %d, %s %s", code, out, errOut)
			}
			continue
		}
		if code != 1 || !strings.Contains(errOut, "/nonexistent/ttyEDGE") {
			t.Errorf("sensor %s: exit %d, the board's port not opened: %s", sub, code, errOut)
		}
	}
	// The sensor commands that infer have one --board for both.
	for _, sub := range []string{"enroll", "login"} {
		if code, _, errOut := runBoardCLI("sensor", sub, "-h"); code != 0 || strings.Count(errOut, "\n  -board ") != 1 {
			t.Errorf("sensor %s -h: exit %d, --board listed %d times", sub, code, strings.Count(errOut, "\n  -board "))
		}
	}
}

func TestBoardFlagErrors(t *testing.T) {
	code, _, errOut := runBoardCLI("features", "--board", "no-such-board", "--fingerprint", "x.png", "--out", "x.f32")
	if code != 2 || !strings.Contains(errOut, "rpi5") {
		t.Errorf("unknown board: exit %d, %s", code, errOut)
	}
	bad := writeProfile(t, `,"serail":{}`)
	code, _, errOut = runBoardCLI("sensor", "info", "--board", bad)
	if code != 2 || !strings.Contains(errOut, `"serail"`) {
		t.Errorf("misspelt key: exit %d, %s", code, errOut)
	}
	// A board of another architecture is refused before anything loads.
	other := "rpi5"
	if runtime.GOARCH == "arm64" {
		other = "x86-64"
	}
	code, _, errOut = runBoardCLI("infer", "info", "--board", other)
	if code != 1 || !strings.Contains(errOut, "this edge is built for "+runtime.GOARCH) {
		t.Errorf("board for another arch: exit %d, %s", code, errOut)
	}
	// A board without ONNX Runtime says how it gets features.
	small := writeProfile(t, "")
	code, _, errOut = runBoardCLI("features", "--board", small, "--fingerprint", "x.png", "--out", filepath.Join(t.TempDir(), "x.f32"))
	if code != 1 || !strings.Contains(errOut, "--features") {
		t.Errorf("board without a runtime: exit %d, %s", code, errOut)
	}
	// The sensor commands that infer say so before taking any print.
	noRT := writeProfile(t, `,"serial":{"port":"/nonexistent/ttyEDGE"}`)
	for _, args := range [][]string{
		{"sensor", "enroll", "--board", noRT, "--id", "a", "--store", t.TempDir()},
		{"sensor", "login", "--board", noRT, "--store", t.TempDir()},
	} {
		code, _, errOut := runBoardCLI(args...)
		if code != 1 || !strings.Contains(errOut, "--features") || strings.Contains(errOut, "ttyEDGE") {
			t.Errorf("%v: exit %d, %s", args, code, errOut)
		}
	}
}
