package modality

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"edge/internal/testenv"
)

// buildEdge builds the edge binary once per test binary run.
var buildEdge = sync.OnceValues(func() (string, error) {
	root, err := testenv.ModuleRoot()
	if err != nil {
		return "", err
	}
	dir, err := os.MkdirTemp("", "edge-modality-bin")
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "edge")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/edge")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./cmd/edge: %v\n%s", err, out)
	}
	return bin, nil
})

// TestMain removes the edge binary the tests built.
func TestMain(m *testing.M) {
	code := m.Run()
	if built.Load() {
		if bin, err := buildEdge(); err == nil {
			os.RemoveAll(filepath.Dir(bin))
		}
	}
	os.Exit(code)
}

var built atomic.Bool

func edgeBinary(t testing.TB) string {
	t.Helper()
	if _, err := exec.LookPath("go"); err != nil {
		t.Skipf("needs tool %q: not found to build edge", "go")
	}
	built.Store(true)
	bin, err := buildEdge()
	if err != nil {
		t.Fatalf("build edge: %v", err)
	}
	return bin
}

// edgeProc is a running edge command whose log is scanned as it comes.
type edgeProc struct {
	cmd  *exec.Cmd
	mu   sync.Mutex
	log  strings.Builder
	done chan error
}

func startEdge(t testing.TB, args ...string) *edgeProc {
	t.Helper()
	p := &edgeProc{cmd: exec.Command(edgeBinary(t), args...), done: make(chan error, 1)}
	stderr, err := p.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		br := bufio.NewReader(stderr)
		for {
			l, err := br.ReadString('\n')
			p.mu.Lock()
			p.log.WriteString(l)
			p.mu.Unlock()
			if err != nil {
				break
			}
		}
		p.done <- p.cmd.Wait()
	}()
	t.Cleanup(func() {
		p.cmd.Process.Kill()
		if t.Failed() {
			t.Logf("edge %v log:\n%s", args, p.logs())
		}
	})
	return p
}

func (p *edgeProc) logs() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.log.String()
}

var listenRE = regexp.MustCompile(`modality: listening" addr=127\.0\.0\.1:(\d+)`)

// port waits for the provider's "listening" line.
func (p *edgeProc) port(t testing.TB) string {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if m := listenRE.FindStringSubmatch(p.logs()); m != nil {
			return m[1]
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("edge modality listen did not start:\n%s", p.logs())
	return ""
}

func (p *edgeProc) stop(t testing.TB) {
	t.Helper()
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-p.done:
		if err != nil {
			t.Errorf("edge exited with %v after SIGTERM", err)
		}
	case <-time.After(10 * time.Second):
		t.Error("edge did not stop after SIGTERM")
	}
}

func TestCLIListenStoresAndStops(t *testing.T) {
	needTool(t, "storescu")
	dir := t.TempDir()
	out := filepath.Join(dir, "out")
	f := filepath.Join(dir, "x.dcm")
	synthObject(t, f, secondaryCapture, "1.2.3.15.1", 100000)
	p := startEdge(t, "modality", "listen", "--ae", testAE, "--host", "127.0.0.1", "--port", "0", "--out", out, "--allow", "MODALITY,CART")
	port := p.port(t)
	o, err := dcmtk(t, "storescu", "-v", "-aet", "MODALITY", "-aec", testAE, "127.0.0.1", port, f)
	if err != nil || !strings.Contains(o, "(Success)") {
		t.Fatalf("storescu: %v\n%s", err, o)
	}
	want, _ := os.ReadFile(f)
	got, err := os.ReadFile(filepath.Join(out, "1.2.3.15.1.dcm"))
	if err != nil || len(got) < len(want)-200 {
		t.Fatalf("stored: %v", err)
	}
	if o, err := dcmtk(t, "echoscu", "-aet", "OTHER", "-aec", testAE, "127.0.0.1", port); err == nil {
		t.Errorf("echoscu from an AE not allowed succeeded:\n%s", o)
	}
	p.stop(t)
	if !strings.Contains(p.logs(), "sop_instance_uid=1.2.3.15.1") {
		t.Errorf("log does not name the object")
	}
}

// TestCLIKilledMidTransfer kills edge modality listen while an object
// arrives: storescu reports the failure, and after a restart nothing of the
// object is left, neither in the output folder nor in its spool.
func TestCLIKilledMidTransfer(t *testing.T) {
	needTool(t, "storescu")
	dir := t.TempDir()
	out := filepath.Join(dir, "out")
	f := filepath.Join(dir, "big.dcm")
	synthObject(t, f, secondaryCapture, "1.2.3.16.1", 96<<20)
	p := startEdge(t, "modality", "listen", "--ae", testAE, "--host", "127.0.0.1", "--port", "0", "--out", out)
	port := p.port(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	scu := exec.CommandContext(ctx, needTool(t, "storescu"), "-v", "-pdu", "4096", "-aet", "MODALITY", "-aec", testAE, "127.0.0.1", port, f)
	var scuOut strings.Builder
	scu.Stdout, scu.Stderr = &scuOut, &scuOut
	if err := scu.Start(); err != nil {
		t.Fatal(err)
	}
	// Kill once the object is partly on disk.
	spool := filepath.Join(out, ".incoming")
	deadline := time.Now().Add(30 * time.Second)
	for {
		if partSize(spool) > 4<<20 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the transfer never got under way")
		}
		time.Sleep(2 * time.Millisecond)
	}
	p.cmd.Process.Kill()
	<-p.done
	err := scu.Wait()
	if strings.Contains(scuOut.String(), "(Success)") {
		t.Fatalf("storescu reports success after the provider was killed:\n%s", scuOut.String())
	}
	if err == nil && !strings.Contains(scuOut.String(), "E: ") {
		t.Errorf("storescu did not report a failure:\n%s", scuOut.String())
	}
	if partSize(spool) == 0 {
		t.Fatal("no partial object was left by the kill: the test did not kill mid-transfer")
	}
	// Restart: the partial object is gone and nothing was stored.
	p2 := startEdge(t, "modality", "listen", "--ae", testAE, "--host", "127.0.0.1", "--port", "0", "--out", out)
	p2.port(t)
	for _, d := range []string{out, spool} {
		ents, _ := os.ReadDir(d)
		for _, e := range ents {
			if e.Name() != ".incoming" {
				t.Errorf("after restart %s holds %s", d, e.Name())
			}
		}
	}
	p2.stop(t)
}

// partSize is the size of the unfinished spool files.
func partSize(dir string) int64 {
	var n int64
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if strings.HasSuffix(e.Name(), partSuffix) {
			if info, err := e.Info(); err == nil {
				n += info.Size()
			}
		}
	}
	return n
}

func TestCLIWatch(t *testing.T) {
	dir := t.TempDir()
	in, out := filepath.Join(dir, "in"), filepath.Join(dir, "out")
	os.MkdirAll(in, 0o755)
	p := startEdge(t, "modality", "watch", "--in", in, "--out", out, "--settle", "100ms", "--poll", "50ms")
	synthObject(t, filepath.Join(in, "a.dcm"), secondaryCapture, "1.2.3.17.1", 1000)
	os.WriteFile(filepath.Join(in, "b.txt"), []byte("not DICOM"), 0o644)
	deadline := time.Now().Add(20 * time.Second)
	for {
		_, e1 := os.Stat(filepath.Join(in, "done", "a.dcm"))
		_, e2 := os.Stat(filepath.Join(in, "failed", "b.txt.reason.txt"))
		if e1 == nil && e2 == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("files not handled")
		}
		time.Sleep(20 * time.Millisecond)
	}
	st1, err1 := os.Stat(filepath.Join(out, "1.2.3.17.1.dcm"))
	st2, err2 := os.Stat(filepath.Join(in, "done", "a.dcm"))
	if err1 != nil || err2 != nil || os.SameFile(st1, st2) {
		t.Errorf("stored object: %v %v, or it shares its file with done/a.dcm", err1, err2)
	}
	p.stop(t)
}

// TestCLIWatchKilled kills edge modality watch while it works through a
// folder, restarts it, and checks that every file reached done/ and the
// output folder once, with no partial file left.
func TestCLIWatchKilled(t *testing.T) {
	dir := t.TempDir()
	in, out := filepath.Join(dir, "in"), filepath.Join(dir, "out")
	os.MkdirAll(in, 0o755)
	const n = 40
	for i := range n {
		synthObject(t, filepath.Join(in, fmt.Sprintf("%02d.dcm", i)), secondaryCapture, fmt.Sprintf("1.2.3.23.%d", i+1), 2<<20)
	}
	args := []string{"modality", "watch", "--in", in, "--out", out, "--settle", "50ms", "--poll", "20ms"}
	p := startEdge(t, args...)
	deadline := time.Now().Add(30 * time.Second)
	for count(filepath.Join(in, "done")) < 5 {
		if time.Now().After(deadline) {
			t.Fatal("watch did not get going")
		}
		time.Sleep(5 * time.Millisecond)
	}
	p.cmd.Process.Kill()
	<-p.done
	if count(filepath.Join(in, "done")) == n {
		t.Fatal("all files were done before the kill: the test did not kill mid-run")
	}
	p2 := startEdge(t, args...)
	deadline = time.Now().Add(60 * time.Second)
	for count(filepath.Join(in, "done")) < n {
		if time.Now().After(deadline) {
			t.Fatalf("after the restart only %d of %d files are done", count(filepath.Join(in, "done")), n)
		}
		time.Sleep(20 * time.Millisecond)
	}
	p2.stop(t)
	ents, _ := os.ReadDir(out)
	var stored int
	for _, e := range ents {
		switch {
		case strings.HasSuffix(e.Name(), ".dcm") && !strings.HasPrefix(e.Name(), "."):
			stored++
		case e.Name() == ".watch-journal":
		default:
			t.Errorf("output folder holds %s", e.Name())
		}
	}
	j, _ := os.ReadFile(filepath.Join(out, ".watch-journal"))
	lines := strings.Split(strings.TrimSpace(string(j)), "\n")
	keys := map[string]bool{}
	for _, l := range lines {
		keys[strings.SplitN(l, "\t", 2)[0]] = true
	}
	if stored != n || len(lines) != n || len(keys) != n || count(in) != 0 || count(filepath.Join(in, "failed")) != 0 {
		t.Errorf("stored %d, journal %d lines / %d keys, %d left in, %d failed; want %d each", stored, len(lines), len(keys), count(in), count(filepath.Join(in, "failed")), n)
	}
}

// count is the number of regular files in dir.
func count(dir string) int {
	ents, _ := os.ReadDir(dir)
	n := 0
	for _, e := range ents {
		if e.Type().IsRegular() {
			n++
		}
	}
	return n
}
