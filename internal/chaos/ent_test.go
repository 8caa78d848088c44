package chaos

import (
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"edge/internal/testenv"
)

// entSample is the size the ent acceptance thresholds are set for.
const entSample = 8 << 20

// Thresholds: the entropy a uniform 8 MiB sample reaches with room to spare
// (its expected shortfall from 8 is about 255/(2·n·ln 2) ≈ 2·10⁻⁵), and the
// chi-square p-value band outside which a uniform source lands 2 % of the time.
const (
	minEntropy = 7.9999
	minChiP    = 1.0
	maxChiP    = 99.0
)

type entResult struct {
	entropy, chi, chiP float64
}

var chiPRe = regexp.MustCompile(`would exceed this value (less than |more than )?([0-9.]+) percent`)

// runEnt runs ent over the first entSample bytes of r, in terse mode for the
// figures and in normal mode for the chi-square p-value terse mode leaves out.
func runEnt(t *testing.T, r io.Reader) entResult {
	t.Helper()
	ent := testenv.Tool(t, "ent", "ent")
	path := filepath.Join(t.TempDir(), "sample.bin")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.CopyN(f, r, entSample); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	terse, err := exec.Command(ent, "-t", path).Output()
	if err != nil {
		t.Fatalf("ent -t %s: %v", path, err)
	}
	// 0,File-bytes,Entropy,Chi-square,Mean,Monte-Carlo-Pi,Serial-Correlation
	// 1,8388608,7.999978,245.12,...
	lines := strings.Split(strings.TrimSpace(string(terse)), "\n")
	if len(lines) != 2 {
		t.Fatalf("ent -t printed %q, want a header and one line", terse)
	}
	fields := strings.Split(lines[1], ",")
	if len(fields) < 4 || fields[1] != strconv.Itoa(entSample) {
		t.Fatalf("ent -t line %q, want %d bytes", lines[1], entSample)
	}
	var res entResult
	if res.entropy, err = strconv.ParseFloat(fields[2], 64); err != nil {
		t.Fatalf("ent -t entropy %q: %v", fields[2], err)
	}
	if res.chi, err = strconv.ParseFloat(fields[3], 64); err != nil {
		t.Fatalf("ent -t chi-square %q: %v", fields[3], err)
	}
	full, err := exec.Command(ent, path).Output()
	if err != nil {
		t.Fatalf("ent %s: %v", path, err)
	}
	m := chiPRe.FindStringSubmatch(strings.Join(strings.Fields(string(full)), " "))
	if m == nil {
		t.Fatalf("no chi-square p-value in ent's report:\n%s", full)
	}
	if res.chiP, err = strconv.ParseFloat(m[2], 64); err != nil {
		t.Fatalf("ent chi-square p-value %q: %v", m[2], err)
	}
	t.Logf("ent over %d bytes: entropy %.6f bits/byte, chi-square %.2f, exceeded %s%s%% of the time",
		entSample, res.entropy, res.chi, m[1], m[2])
	return res
}

func (r entResult) passes() bool {
	return r.entropy >= minEntropy && r.chiP > minChiP && r.chiP < maxChiP
}

// TestEntKeystream is the acceptance test for the conditioned keystream: 8 MiB
// of it must look like uniform bytes to ent.
func TestEntKeystream(t *testing.T) {
	s, err := NewStream(testKey(20))
	if err != nil {
		t.Fatal(err)
	}
	res := runEnt(t, s)
	if !res.passes() {
		t.Errorf("keystream: entropy %.6f (want ≥ %v), chi-square p-value %v%% (want %v–%v%%)",
			res.entropy, minEntropy, res.chiP, minChiP, maxChiP)
	}
}

// TestEntRawMapFails shows why the keystream is conditioned: the map's own
// words fail both thresholds by a wide margin.
func TestEntRawMapFails(t *testing.T) {
	r, err := Raw(testKey(20))
	if err != nil {
		t.Fatal(err)
	}
	res := runEnt(t, r)
	if res.entropy >= minEntropy {
		t.Errorf("raw map: entropy %.6f reaches %v; the conditioning would not be needed", res.entropy, minEntropy)
	}
	if res.chiP >= minChiP {
		t.Errorf("raw map: chi-square p-value %v%% is not below %v%%", res.chiP, minChiP)
	}
}
