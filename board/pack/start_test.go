package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"edge/board"
	"edge/internal/testenv"
)

// TestDistTarballsStart installs each board's release tarball under a
// folder standing for the board's root, does the site set-up its install
// note gives (the device's keys, the config copied from the example), and
// starts the unit's ExecStart command the way systemd does: the tarball's
// own binary, for its architecture (arm64 and ARMv7 under qemu-user), with
// the unit's environment, working and state directory, and a NOTIFY_SOCKET.
// A board with features must say READY=1 and, on SIGTERM, STOPPING=1 and
// exit 0; one without (ARMv7) must stop at once with status 78, which its
// unit does not restart.
//
// The example config and the profile are the tarball's, with their paths
// moved under the test's root and the two listen addresses on loopback
// port 0 (an edit the install note asks for per site); nothing else.
func TestDistTarballsStart(t *testing.T) {
	dir, sums := release(t)
	cpuinfo, err := filepath.Abs(filepath.Join("..", "..", "scripts", "arm64-cpuinfo"))
	if err != nil {
		t.Fatal(err)
	}
	work := t.TempDir()
	var hubPub string
	for _, bn := range board.Names() {
		p, err := board.Load(bn)
		if err != nil {
			t.Fatal(err)
		}
		file := tarballOf(sums, bn)
		if file == "" {
			t.Errorf("%s: no tarball in SHA256SUMS", bn)
			continue
		}
		t.Run(bn, func(t *testing.T) {
			root := filepath.Join(work, bn)
			install(t, filepath.Join(dir, file), root)
			runner := emulator(t, ArchKey(p), cpuinfo)
			bin := filepath.Join(root, p.Install.Binary)
			if hubPub == "" {
				// The hub's key set, made apart as in service (here by the
				// first board's binary).
				hub := filepath.Join(work, "hub")
				if out, err := runner(bin, "keys", "init", "--hub", hub).CombinedOutput(); err != nil {
					t.Fatalf("keys init --hub: %v\n%s", err, out)
				}
				hubPub = filepath.Join(hub, "hub.pub")
			}
			keys := filepath.Join(root, p.Install.State, "keys")
			if out, err := runner(bin, "keys", "init", "--device", keys, "--hub-pub", hubPub).CombinedOutput(); err != nil {
				t.Fatalf("keys init --device (the install note's step): %v\n%s", err, out)
			}
			reroot(t, root, filepath.Join(root, ConfigExample(p)), filepath.Join(root, p.Install.Config), true)
			reroot(t, root, filepath.Join(root, p.Install.Profile), filepath.Join(root, p.Install.Profile), false)
			unit, err := os.ReadFile(filepath.Join(root, p.Install.Unit))
			if err != nil {
				t.Fatal(err)
			}
			startUnit(t, root, parseUnit(t, unit), runner, p.ORTLibrary != "")
		})
	}
}

// release is the folder of the release make cross built (or the one
// EDGE_DIST names) and its SHA256SUMS; without one the test is skipped.
func release(t *testing.T) (dir, sums string) {
	t.Helper()
	dir = os.Getenv("EDGE_DIST")
	if dir == "" {
		dir = filepath.Join("..", "..", "dist")
	}
	b, err := os.ReadFile(filepath.Join(dir, "SHA256SUMS"))
	if err != nil {
		t.Skipf("no release in %s (make cross builds one; EDGE_DIST names another folder): %v", dir, err)
	}
	return dir, string(b)
}

// tarballOf is the name of board boardName's tarball in SHA256SUMS.
func tarballOf(sums, boardName string) string {
	for _, line := range strings.Split(strings.TrimSpace(sums), "\n") {
		if _, name, _ := strings.Cut(line, "  "); strings.HasSuffix(name, "-"+boardName+".tar.gz") && strings.HasPrefix(name, "edge-") {
			return name
		}
	}
	return ""
}

// install unpacks a tarball under root as tar -xzf … -C / would.
func install(t *testing.T, tarball, root string) {
	t.Helper()
	f, err := os.Open(tarball)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	m, order := readTarball(t, f)
	for _, name := range order {
		e := m[name]
		p := filepath.Join(root, filepath.FromSlash(name))
		if e.hdr.Typeflag == '5' {
			if err := os.MkdirAll(p, 0o755); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, e.data, os.FileMode(e.hdr.Mode)&0o777); err != nil {
			t.Fatal(err)
		}
	}
}

// emulator runs a binary of the architecture key: natively for amd64, else
// under qemu-user (arm64 with an ARM /proc/cpuinfo in a private mount
// namespace, which its ONNX Runtime needs; see scripts/qemu-infer-test.sh).
func emulator(t *testing.T, key, cpuinfo string) func(bin string, args ...string) *exec.Cmd {
	t.Helper()
	switch key {
	case "amd64":
		return func(bin string, args ...string) *exec.Cmd { return exec.Command(bin, args...) }
	case "arm64":
		testenv.Tool(t, "qemu-aarch64-static", "qemu-user-static")
		testenv.Tool(t, "unshare", "util-linux")
		if os.Geteuid() != 0 {
			t.Skip("needs root for unshare -m and the bind mount over /proc/cpuinfo")
		}
		return func(bin string, args ...string) *exec.Cmd {
			return exec.Command("unshare", append([]string{"-m", "sh", "-c",
				`mount --bind "$0" /proc/cpuinfo && exec qemu-aarch64-static -L /usr/aarch64-linux-gnu "$@"`, cpuinfo, bin}, args...)...)
		}
	case "armv7":
		testenv.Tool(t, "qemu-arm-static", "qemu-user-static")
		return func(bin string, args ...string) *exec.Cmd {
			return exec.Command("qemu-arm-static", append([]string{"-L", "/usr/arm-linux-gnueabihf", bin}, args...)...)
		}
	}
	t.Fatalf("no way to run a %s binary", key)
	return nil
}

// reroot writes src's JSON to dst with every absolute path under /opt, /etc
// or /var/lib moved under root; site also puts the config's listen
// addresses on loopback port 0.
func reroot(t *testing.T, root, src, dst string, site bool) {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	var v map[string]any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("%s: %v", src, err)
	}
	var walk func(x any) any
	walk = func(x any) any {
		switch x := x.(type) {
		case string:
			for _, pre := range []string{"/opt/", "/etc/", "/var/lib/"} {
				if strings.HasPrefix(x, pre) {
					return filepath.Join(root, x)
				}
			}
		case map[string]any:
			for k, e := range x {
				x[k] = walk(e)
			}
		case []any:
			for i, e := range x {
				x[i] = walk(e)
			}
		}
		return x
	}
	walk(v)
	if site {
		v["modality"] = map[string]any{"listen": "127.0.0.1:0"}
		v["status"] = map[string]any{"listen": "127.0.0.1:0"}
	}
	out, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, out, 0o600); err != nil {
		t.Fatal(err)
	}
}

// unitService is what systemd takes from a unit's [Service] section to
// start it.
type unitService struct {
	execStart         []string
	env               []string
	workDir, stateDir string
	noRestart         []string
}

func parseUnit(t *testing.T, unit []byte) unitService {
	t.Helper()
	var u unitService
	sc := bufio.NewScanner(bytes.NewReader(unit))
	for sc.Scan() {
		k, v, ok := strings.Cut(strings.TrimSpace(sc.Text()), "=")
		if !ok {
			continue
		}
		switch k {
		case "ExecStart":
			u.execStart = strings.Fields(v)
		case "Environment":
			u.env = append(u.env, v)
		case "WorkingDirectory":
			u.workDir = v
		case "StateDirectory":
			u.stateDir = filepath.Join("/var/lib", v)
		case "RestartPreventExitStatus":
			u.noRestart = append(u.noRestart, strings.Fields(v)...)
		}
	}
	if len(u.execStart) < 2 || u.execStart[1] != "run" {
		t.Fatalf("ExecStart %q does not run edge run", u.execStart)
	}
	return u
}

// startUnit runs the unit's ExecStart under root.
func startUnit(t *testing.T, root string, u unitService, runner func(string, ...string) *exec.Cmd, features bool) {
	t.Helper()
	args := make([]string, len(u.execStart)-1)
	for i, a := range u.execStart[1:] {
		if strings.HasPrefix(a, "/") {
			a = filepath.Join(root, a)
		}
		args[i] = a
	}
	sock := filepath.Join(t.TempDir(), "notify")
	c, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: sock, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	cmd := runner(filepath.Join(root, u.execStart[0]), args...)
	cmd.Dir = filepath.Join(root, u.workDir)
	cmd.Env = []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "NOTIFY_SOCKET=" + sock, "WATCHDOG_USEC=30000000",
		"STATE_DIRECTORY=" + filepath.Join(root, u.stateDir)}
	for _, e := range u.env {
		k, v, _ := strings.Cut(e, "=")
		var vs []string
		for _, p := range strings.Split(v, ":") {
			vs = append(vs, filepath.Join(root, p))
		}
		cmd.Env = append(cmd.Env, k+"="+strings.Join(vs, ":"))
	}
	if err := os.MkdirAll(cmd.Dir, 0o700); err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	cmd.Stderr = &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// exited is closed once edge run has exited, with its status in waitErr.
	exited := make(chan struct{})
	var waitErr error
	go func() { waitErr = cmd.Wait(); close(exited) }()
	defer func() {
		select {
		case <-exited:
		default:
			cmd.Process.Kill()
			<-exited
		}
		if t.Failed() {
			t.Logf("edge run:\n%s", logs.String())
		}
	}()
	if !features {
		select {
		case <-exited:
			var ee *exec.ExitError
			if !errors.As(waitErr, &ee) || ee.ExitCode() != 78 {
				t.Fatalf("edge run on a board without features: %v, want exit status 78", waitErr)
			}
			if !strings.Contains(logs.String(), "extracts no features") {
				t.Errorf("edge run's error does not say why: %q", logs.String())
			}
			if !slices.Contains(u.noRestart, "78") {
				t.Errorf("the unit restarts on status 78 (RestartPreventExitStatus %v)", u.noRestart)
			}
		case <-time.After(2 * time.Minute):
			t.Fatal("edge run on a board without features did not stop")
		}
		return
	}
	msgs := make(chan string, 16)
	go func() {
		b := make([]byte, 4096)
		for {
			n, err := c.Read(b)
			if err != nil {
				close(msgs)
				return
			}
			msgs <- string(b[:n])
		}
	}()
	// Under emulation, loading the int8 ResNet152 takes a while.
	wait := func(want string, d time.Duration) {
		t.Helper()
		deadline := time.After(d)
		for {
			select {
			case m, ok := <-msgs:
				if !ok {
					t.Fatalf("notify socket closed waiting for %s", want)
				}
				if strings.Contains("\n"+m+"\n", "\n"+want+"\n") {
					return
				}
			case <-exited:
				t.Fatalf("edge run exited waiting for %s: %v", want, waitErr)
			case <-deadline:
				t.Fatalf("no %s from edge run after %v", want, d)
			}
		}
	}
	t0 := time.Now()
	wait("READY=1", 8*time.Minute)
	t.Logf("READY=1 after %v", time.Since(t0).Round(time.Millisecond))
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	wait("STOPPING=1", time.Minute)
	select {
	case <-exited:
		if waitErr != nil {
			t.Errorf("edge run after SIGTERM: %v", waitErr)
		}
		// Ready means the model is loaded, on the board's own runtime.
		if !strings.Contains(logs.String(), "appliance: model loaded") {
			t.Errorf("edge run was ready without loading the model")
		}
	case <-time.After(time.Minute):
		t.Fatal("edge run did not exit after STOPPING=1")
	}
}
