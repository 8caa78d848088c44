package main

import (
	"bytes"
	"strings"
	"testing"
)

// stream is go test -json output (times left out) of a package with a
// passing, a failing and three skipped tests, one of them a subtest.
const stream = `{"Action":"start","Package":"p/a"}
{"Action":"run","Package":"p/a","Test":"TestPass"}
{"Action":"output","Package":"p/a","Test":"TestPass","Output":"=== RUN   TestPass\n"}
{"Action":"output","Package":"p/a","Test":"TestPass","Output":"    a_test.go:5: quiet\n"}
{"Action":"output","Package":"p/a","Test":"TestPass","Output":"--- PASS: TestPass (0.00s)\n"}
{"Action":"pass","Package":"p/a","Test":"TestPass","Elapsed":0}
{"Action":"run","Package":"p/a","Test":"TestFail"}
{"Action":"output","Package":"p/a","Test":"TestFail","Output":"=== RUN   TestFail\n"}
{"Action":"output","Package":"p/a","Test":"TestFail","Output":"    a_test.go:9: got 1, want 2\n"}
{"Action":"output","Package":"p/a","Test":"TestFail","Output":"--- FAIL: TestFail (0.00s)\n"}
{"Action":"fail","Package":"p/a","Test":"TestFail","Elapsed":0}
{"Action":"run","Package":"p/a","Test":"TestTool"}
{"Action":"output","Package":"p/a","Test":"TestTool","Output":"=== RUN   TestTool\n"}
{"Action":"output","Package":"p/a","Test":"TestTool","Output":"    a_test.go:12: needs tool \"ent\": not installed\n"}
{"Action":"output","Package":"p/a","Test":"TestTool","Output":"--- SKIP: TestTool (0.00s)\n"}
{"Action":"skip","Package":"p/a","Test":"TestTool","Elapsed":0}
{"Action":"run","Package":"p/a","Test":"TestData/x"}
{"Action":"output","Package":"p/a","Test":"TestData/x","Output":"    a_test.go:15: needs data \"/shared/data\": absent\n"}
{"Action":"output","Package":"p/a","Test":"TestData/x","Output":"    --- SKIP: TestData/x (0.00s)\n"}
{"Action":"skip","Package":"p/a","Test":"TestData/x","Elapsed":0}
{"Action":"run","Package":"p/a","Test":"TestShort"}
{"Action":"output","Package":"p/a","Test":"TestShort","Output":"    a_test.go:20: takes 7 s\n"}
{"Action":"skip","Package":"p/a","Test":"TestShort","Elapsed":0}
{"Action":"output","Package":"p/a","Output":"FAIL\n"}
{"Action":"output","Package":"p/a","Output":"FAIL\tp/a\t0.008s\n"}
{"Action":"fail","Package":"p/a","Elapsed":0.009}
{"Action":"output","Package":"p/b","Output":"ok  \tp/b\t0.005s\n"}
{"Action":"pass","Package":"p/b","Elapsed":0.008}
`

func readStream(t *testing.T) (*report, *bytes.Buffer) {
	t.Helper()
	var out bytes.Buffer
	r := newReport(&out)
	if err := r.read(strings.NewReader(stream)); err != nil {
		t.Fatal(err)
	}
	return r, &out
}

func TestPrintsWhatPlainGoTestPrints(t *testing.T) {
	r, out := readStream(t)
	if !r.failed {
		t.Error("a failed test did not fail the report")
	}
	want := "--- FAIL: TestFail (0.00s)\n    a_test.go:9: got 1, want 2\nFAIL\tp/a\t0.008s\nok  \tp/b\t0.005s\n"
	if out.String() != want {
		t.Errorf("printed\n%s\nwant\n%s", out, want)
	}
}

func TestSkipsListedAndCheckedUnderCI(t *testing.T) {
	installed := func(kind, what string) bool { return kind == "tool" && what == "ent" }
	for _, ci := range []bool{false, true} {
		r, out := readStream(t)
		out.Reset()
		bad := r.summary(ci, installed)
		s := out.String()
		for _, want := range []string{
			"skipped tests (3):\n",
			"  p/a TestData/x: a_test.go:15: needs data \"/shared/data\": absent\n",
			"  p/a TestShort: a_test.go:20: takes 7 s\n",
			"  p/a TestTool: a_test.go:12: needs tool \"ent\": not installed\n",
			"p/a TestTool skipped although tool ent is present",
		} {
			if !strings.Contains(s, want) {
				t.Errorf("ci=%v: summary lacks %q:\n%s", ci, want, s)
			}
		}
		if want := map[bool]int{false: 0, true: 1}[ci]; bad != want {
			t.Errorf("ci=%v: %d failures, want %d:\n%s", ci, bad, want, s)
		}
		if ci && !strings.Contains(s, "FAIL (CI=true)") {
			t.Errorf("CI failure not said:\n%s", s)
		}
	}
}

func TestNoSkips(t *testing.T) {
	var out bytes.Buffer
	r := newReport(&out)
	r.read(strings.NewReader(`{"Action":"output","Package":"p/b","Output":"ok  \tp/b\t0.005s\n"}` + "\n"))
	if bad := r.summary(true, func(string, string) bool { return true }); bad != 0 || !strings.HasSuffix(out.String(), "\nskipped tests: none\n") {
		t.Fatalf("%d failures, printed %q", bad, out.String())
	}
}

func TestCrashedBinaryOutputKept(t *testing.T) {
	var out bytes.Buffer
	r := newReport(&out)
	r.read(strings.NewReader(`{"Action":"run","Package":"p/c","Test":"TestHang"}
{"Action":"output","Package":"p/c","Test":"TestHang","Output":"panic: test timed out after 10m0s\n"}
not json: build output
`))
	if s := out.String(); !strings.Contains(s, "panic: test timed out") || !strings.Contains(s, "not json: build output") {
		t.Fatalf("printed %q", s)
	}
}
