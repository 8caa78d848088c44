package testenv

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// recorder is a testing.TB that records how a helper ended the test.
type recorder struct {
	testing.TB
	how, msg string
}

var errStop = errors.New("test stopped")

func (r *recorder) Helper() {}
func (r *recorder) Fatalf(f string, a ...any) {
	r.how, r.msg = "fatal", fmt.Sprintf(f, a...)
	panic(errStop)
}
func (r *recorder) Skipf(f string, a ...any) {
	r.how, r.msg = "skip", fmt.Sprintf(f, a...)
	panic(errStop)
}
func (r *recorder) Skip(a ...any) {
	r.how, r.msg = "skip", fmt.Sprint(a...)
	panic(errStop)
}

// outcome runs f with a recorder: "fatal", "skip" or "" (returned normally).
func outcome(t *testing.T, f func(tb testing.TB)) (how, msg string) {
	t.Helper()
	r := &recorder{TB: t}
	func() {
		defer func() {
			if p := recover(); p != nil && p != errStop {
				panic(p)
			}
		}()
		f(r)
	}()
	return r.how, r.msg
}

func TestDataDirEDGEDATAWrongIsAnError(t *testing.T) {
	file := filepath.Join(t.TempDir(), "not-a-folder")
	os.WriteFile(file, nil, 0o600)
	for _, d := range []string{file, filepath.Join(t.TempDir(), "missing")} {
		t.Setenv("EDGE_DATA", d)
		if how, msg := outcome(t, func(tb testing.TB) { DataDir(tb) }); how != "fatal" || !strings.Contains(msg, d) {
			t.Errorf("EDGE_DATA=%s: %s %q, want a failure naming it", d, how, msg)
		}
	}
}

func TestPathMissingSample(t *testing.T) {
	d := t.TempDir()
	t.Setenv("EDGE_DATA", d)
	os.Mkdir(filepath.Join(d, "medical"), 0o755)
	if how, _ := outcome(t, func(tb testing.TB) {
		if p := Path(tb, "medical"); p != filepath.Join(d, "medical") {
			t.Errorf("Path = %s", p)
		}
	}); how != "" {
		t.Errorf("present sample: %s", how)
	}
	t.Setenv("CI", "")
	how, msg := outcome(t, func(tb testing.TB) { Path(tb, "medical/none.dcm") })
	if want := Needs(KindData, filepath.Join(d, "medical/none.dcm")); how != "skip" || !strings.HasPrefix(msg, want) {
		t.Errorf("missing sample: %s %q, want a skip starting %q", how, msg, want)
	}
	t.Setenv("CI", "true")
	if how, _ := outcome(t, func(tb testing.TB) { Path(tb, "medical/none.dcm") }); how != "fatal" {
		t.Errorf("missing sample under CI=true: %s, want a failure", how)
	}
}

func TestToolAndMissing(t *testing.T) {
	t.Setenv("CI", "")
	if how, _ := outcome(t, func(tb testing.TB) { Tool(tb, "sh", "dash") }); how != "" {
		t.Errorf("sh: %s", how)
	}
	how, msg := outcome(t, func(tb testing.TB) { Tool(tb, "no-such-tool-x9", "x9") })
	if how != "skip" || !strings.HasPrefix(msg, `needs tool "no-such-tool-x9"`) || !strings.Contains(msg, "apt-get install x9") {
		t.Errorf("absent tool: %s %q", how, msg)
	}
	how, msg = outcome(t, func(tb testing.TB) { Missing(tb, "/x/lib.so", "make ort", os.ErrNotExist) })
	if how != "skip" || !strings.HasPrefix(msg, `needs file "/x/lib.so"`) {
		t.Errorf("missing file: %s %q", how, msg)
	}
	t.Setenv("CI", "true")
	if how, _ := outcome(t, func(tb testing.TB) { Tool(tb, "no-such-tool-x9", "x9") }); how != "fatal" {
		t.Errorf("absent tool under CI=true: %s, want a failure", how)
	}
	if how, _ := outcome(t, func(tb testing.TB) { Missing(tb, "/x/lib.so", "make ort", os.ErrNotExist) }); how != "fatal" {
		t.Errorf("missing file under CI=true: %s, want a failure", how)
	}
}

func TestLookup(t *testing.T) {
	d := t.TempDir()
	os.Mkdir(filepath.Join(d, "prints"), 0o755)
	t.Setenv("EDGE_DATA", d)
	if p, ok := Lookup(t, "prints"); !ok || p != filepath.Join(d, "prints") {
		t.Errorf("present: %s %v", p, ok)
	}
	if _, ok := Lookup(t, "none"); ok {
		t.Error("absent folder found")
	}
	t.Setenv("EDGE_DATA", filepath.Join(d, "missing"))
	if how, _ := outcome(t, func(tb testing.TB) { Lookup(tb, "prints") }); how != "fatal" {
		t.Errorf("EDGE_DATA wrong: %s, want a failure", how)
	}
}

// TestSelfCommand: the child is this binary, directly or behind the
// emulator named by EDGE_TEST_EXEC (which the cross tests set).
func TestSelfCommand(t *testing.T) {
	emu := os.Getenv(EnvExec)
	c, err := SelfCommand("-test.run=^$")
	if err != nil {
		t.Fatal(err)
	}
	if out, err := c.CombinedOutput(); err != nil {
		t.Fatalf("%v: %v\n%s", c.Args, err, out)
	}
	self, _ := os.Executable()
	t.Setenv(EnvExec, "/usr/bin/env")
	c, err = SelfCommand("-test.run=^$")
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Args) != 3 || c.Args[0] != "/usr/bin/env" || c.Args[1] != self || c.Args[2] != "-test.run=^$" {
		t.Fatalf("args %q", c.Args)
	}
	if emu != "" {
		return // env cannot start this binary without the emulator
	}
	if out, err := c.CombinedOutput(); err != nil {
		t.Fatalf("%v: %v\n%s", c.Args, err, out)
	}
}
