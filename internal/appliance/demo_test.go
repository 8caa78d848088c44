package appliance_test

import (
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"edge/internal/testenv"
)

// TestDemoScript runs scripts/demo-appliance.sh with DEMO_EXIT=1 where make
// build, make model and make ort have run, and checks its table: every
// image sent was identified as the enrolled clinician, restored exactly,
// with BER 0 and NC 1.
func TestDemoScript(t *testing.T) {
	if testing.Short() {
		t.Skip("the demo takes a minute or two")
	}
	root, err := testenv.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"bin/edge", "models/resnet152-int8.onnx"} {
		if _, err := os.Stat(filepath.Join(root, p)); err != nil {
			testenv.Missing(t, filepath.Join(root, p), "make build model", err)
		}
	}
	for tool, pkg := range map[string]string{"storescu": "dcmtk", "jq": "jq", "curl": "curl"} {
		testenv.Tool(t, tool, pkg)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "sh", filepath.Join(root, "scripts", "demo-appliance.sh"))
	cmd.Env = append(os.Environ(), "DEMO_EXIT=1", "EDGE_DEMO_PORT_BASE="+strconv.Itoa(freePorts(t, 5)))
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("demo: %v\n%s", err, out)
	}
	rows := 0
	for _, l := range strings.Split(string(out), "\n") {
		f := strings.Fields(l)
		if len(f) < 9 || !strings.HasSuffix(f[0], ".dcm") {
			continue
		}
		rows++
		if f[1] != "dr.demo" || f[3] != "0" || f[4] != "1" || f[7] != "exact" {
			t.Errorf("demo row %q", l)
		}
	}
	if rows == 0 || !strings.Contains(string(out), "files sent") {
		t.Fatalf("no table in the demo's output:\n%s", out)
	}
	t.Logf("%d images in the demo's table", rows)
}

// freePorts finds n consecutive loopback ports nothing listens on, so the
// demo's hub, status page, DICOM listener and Orthanc can run beside
// another run of the same test.
func freePorts(t *testing.T, n int) int {
	t.Helper()
	for range 50 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		base := l.Addr().(*net.TCPAddr).Port
		ls := []net.Listener{l}
		ok := base+n-1 <= 65535
		for p := base + 1; ok && p < base+n; p++ {
			o, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(p))
			if err != nil {
				ok = false
				break
			}
			ls = append(ls, o)
		}
		for _, o := range ls {
			o.Close()
		}
		if ok {
			return base
		}
	}
	t.Fatalf("no %d consecutive free loopback ports", n)
	return 0
}
