package appliance_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
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
	cmd.Env = append(os.Environ(), "DEMO_EXIT=1", "EDGE_DEMO_PORT_BASE=18540")
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
