// Command testreport runs go test -json and prints what plain go test prints
// (each package's closing ok/FAIL line, the output of failed tests), then
// every skipped test with its reason. A skip that names what it needs in
// testenv's form ("needs tool \"ent\"") is checked here, outside the test:
// under CI=true a test that skipped although what it needs is present fails
// the run, since the check that made it skip is wrong.
//
//	go run ./internal/testenv/testreport [-go GO] [go test flags] [packages]
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	// Only a leading -go is this command's; every other argument is go test's.
	goCmd := "go"
	switch {
	case len(args) >= 2 && args[0] == "-go":
		goCmd, args = args[1], args[2:]
	case len(args) >= 1 && strings.HasPrefix(args[0], "-go="):
		goCmd, args = strings.TrimPrefix(args[0], "-go="), args[1:]
	}
	cmd := exec.CommandContext(ctx, goCmd, append([]string{"test", "-json"}, args...)...)
	cmd.Stderr = stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		fmt.Fprintf(stderr, "testreport: %v\n", err)
		return 1
	}
	if err := cmd.Start(); err != nil {
		fmt.Fprintf(stderr, "testreport: %v\n", err)
		return 1
	}
	r := newReport(stdout)
	if err := r.read(out); err != nil {
		fmt.Fprintf(stderr, "testreport: reading go test -json: %v\n", err)
	}
	err = cmd.Wait()
	code := 0
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		code = ee.ExitCode()
	case err != nil:
		fmt.Fprintf(stderr, "testreport: %v\n", err)
		code = 1
	}
	if r.failed && code == 0 {
		code = 1
	}
	if bad := r.summary(os.Getenv("CI") == "true", present); bad > 0 && code == 0 {
		code = 1
	}
	return code
}

// event is one line of go test -json (cmd/test2json).
type event struct {
	Action  string
	Package string
	Test    string
	Output  string
}

type skip struct {
	pkg, test, reason string
}

type report struct {
	w      io.Writer
	outs   map[string][]string // buffered output of tests still running
	skips  []skip
	failed bool
}

func newReport(w io.Writer) *report { return &report{w: w, outs: map[string][]string{}} }

// read consumes the event stream, printing as plain go test would.
func (r *report) read(in io.Reader) error {
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 64*1024), 16<<20)
	for sc.Scan() {
		line := sc.Bytes()
		var ev event
		if len(line) == 0 || line[0] != '{' || json.Unmarshal(line, &ev) != nil {
			fmt.Fprintf(r.w, "%s\n", line)
			continue
		}
		r.event(ev)
	}
	// A test that never ended belongs to a test binary that crashed or timed
	// out: its output is what says why.
	keys := make([]string, 0, len(r.outs))
	for k := range r.outs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		for _, l := range r.outs[k] {
			fmt.Fprint(r.w, l)
		}
	}
	return sc.Err()
}

func (r *report) event(ev event) {
	key := ev.Package + "\x00" + ev.Test
	switch {
	case ev.Action == "build-output":
		fmt.Fprint(r.w, ev.Output)
	case ev.Action == "build-fail":
		r.failed = true
	case ev.Test == "":
		if ev.Action == "fail" {
			r.failed = true
		}
		// Package lines: "ok  \tpkg\t1.2s", "FAIL\tpkg", a crash outside a
		// test. The bare PASS/FAIL lines a verbose binary writes are noise.
		if ev.Action == "output" && ev.Output != "PASS\n" && ev.Output != "FAIL\n" {
			fmt.Fprint(r.w, ev.Output)
		}
	case ev.Action == "output":
		r.outs[key] = append(r.outs[key], ev.Output)
	case ev.Action == "fail":
		// As plain go test: the --- FAIL line, then what the test wrote.
		r.failed = true
		lines := r.outs[key]
		for _, l := range lines {
			if strings.HasPrefix(strings.TrimSpace(l), "--- FAIL") {
				fmt.Fprint(r.w, l)
			}
		}
		for _, l := range lines {
			if !isFramework(l) {
				fmt.Fprint(r.w, l)
			}
		}
		delete(r.outs, key)
	case ev.Action == "skip":
		var reason []string
		for _, l := range r.outs[key] {
			if !isFramework(l) {
				reason = append(reason, strings.TrimSpace(l))
			}
		}
		r.skips = append(r.skips, skip{ev.Package, ev.Test, strings.Join(reason, " ")})
		delete(r.outs, key)
	case ev.Action == "pass":
		delete(r.outs, key)
	}
}

// isFramework reports lines the testing package writes around a test's own.
func isFramework(l string) bool {
	t := strings.TrimSpace(l)
	for _, p := range []string{"=== RUN", "=== PAUSE", "=== CONT", "=== NAME", "--- PASS", "--- SKIP", "--- FAIL"} {
		if strings.HasPrefix(t, p) {
			return true
		}
	}
	return false
}

// needsRe matches testenv.Needs: needs KIND "WHAT".
var needsRe = regexp.MustCompile(`needs (data|tool|file) ("(?:[^"\\]|\\.)*")`)

// present checks, outside the test, whether what a skip says it needs is there.
func present(kind, what string) bool {
	switch kind {
	case "tool":
		_, err := exec.LookPath(what)
		return err == nil
	default:
		_, err := os.Stat(what)
		return err == nil
	}
}

// summary prints the skipped tests and returns how many skipped although what
// they need is present, which under ci is a failure.
func (r *report) summary(ci bool, present func(kind, what string) bool) int {
	sort.SliceStable(r.skips, func(i, j int) bool {
		if r.skips[i].pkg != r.skips[j].pkg {
			return r.skips[i].pkg < r.skips[j].pkg
		}
		return r.skips[i].test < r.skips[j].test
	})
	fmt.Fprintln(r.w)
	if len(r.skips) == 0 {
		fmt.Fprintln(r.w, "skipped tests: none")
		return 0
	}
	fmt.Fprintf(r.w, "skipped tests (%d):\n", len(r.skips))
	var wrong []string
	for _, s := range r.skips {
		reason := s.reason
		if reason == "" {
			reason = "(no reason given)"
		}
		fmt.Fprintf(r.w, "  %s %s: %s\n", s.pkg, s.test, reason)
		if m := needsRe.FindStringSubmatch(s.reason); m != nil {
			what, err := strconv.Unquote(m[2])
			if err == nil && present(m[1], what) {
				wrong = append(wrong, fmt.Sprintf("%s %s skipped although %s %s is present", s.pkg, s.test, m[1], what))
			}
		}
	}
	for _, w := range wrong {
		if ci {
			fmt.Fprintf(r.w, "FAIL (CI=true): %s\n", w)
		} else {
			fmt.Fprintf(r.w, "warning: %s (a failure under CI=true)\n", w)
		}
	}
	if ci {
		return len(wrong)
	}
	return 0
}
