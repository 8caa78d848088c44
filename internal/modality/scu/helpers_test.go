package scu

import (
	"bytes"
	"encoding/binary"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"testing"
	"time"

	"edge/internal/testenv"
)

var update = flag.Bool("update", false, "rewrite the fuzz seeds under testdata/fuzz")

const (
	ctImage     = "1.2.840.10008.5.1.4.1.1.2"
	explicitLE  = "1.2.840.10008.1.2.1"
	implicitLE  = "1.2.840.10008.1.2"
	testInst    = "1.2.826.0.1.3680043.2.1125.1.42"
	testCalled  = "PACS"
	testCalling = "EDGE_HUB"
)

// part10 builds a Part 10 file around a data set: the generator of the
// fixtures and fuzz seeds here.
func part10(class, inst, ts string, ds []byte) []byte {
	el := func(b []byte, elem uint16, vr string, v []byte) []byte {
		if len(v)%2 == 1 {
			v = append(v, 0)
		}
		b = binary.LittleEndian.AppendUint16(b, 2)
		b = binary.LittleEndian.AppendUint16(b, elem)
		b = append(b, vr...)
		if vr == "OB" {
			b = append(b, 0, 0)
			return append(binary.LittleEndian.AppendUint32(b, uint32(len(v))), v...)
		}
		return append(binary.LittleEndian.AppendUint16(b, uint16(len(v))), v...)
	}
	var g []byte
	g = el(g, 0x0001, "OB", []byte{0, 1})
	g = el(g, 0x0002, "UI", []byte(class))
	g = el(g, 0x0003, "UI", []byte(inst))
	g = el(g, 0x0010, "UI", []byte(ts))
	b := append(make([]byte, preambleLen), "DICM"...)
	b = el(b, 0x0000, "UL", binary.LittleEndian.AppendUint32(nil, uint32(len(g))))
	return append(append(b, g...), ds...)
}

// synthDataSet is an explicit VR little endian data set of about n bytes:
// SOP Class and Instance UIDs, then an OB element of a counting pattern.
func synthDataSet(class, inst string, n int) []byte {
	el := func(b []byte, group, elem uint16, vr string, v []byte) []byte {
		if len(v)%2 == 1 {
			v = append(v, 0)
		}
		b = binary.LittleEndian.AppendUint16(b, group)
		b = binary.LittleEndian.AppendUint16(b, elem)
		b = append(b, vr...)
		if vr == "OB" {
			b = append(b, 0, 0)
			return append(binary.LittleEndian.AppendUint32(b, uint32(len(v))), v...)
		}
		return append(binary.LittleEndian.AppendUint16(b, uint16(len(v))), v...)
	}
	var b []byte
	b = el(b, 0x0008, 0x0016, "UI", []byte(class))
	b = el(b, 0x0008, 0x0018, "UI", []byte(inst))
	px := make([]byte, n&^1)
	for i := range px {
		px[i] = byte(i * 7)
	}
	return el(b, 0x7FE0, 0x0010, "OB", px)
}

func synthFile(n int) []byte {
	return part10(ctImage, testInst, explicitLE, synthDataSet(ctImage, testInst, n))
}

// sample is the smallest DICOM of the shared medical samples, or a skip.
func sample(t testing.TB) (string, []byte) {
	t.Helper()
	dir := testenv.Path(t, "medical")
	paths, _ := filepath.Glob(filepath.Join(dir, "*.dcm"))
	sort.Slice(paths, func(i, j int) bool { return size(paths[i]) < size(paths[j]) })
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if f, err := ParseFile(b); err == nil && f.TransferSyntaxUID == explicitLE {
			return p, b
		}
	}
	t.Skipf("%s: no explicit VR little endian DICOM among the samples", testenv.Needs(testenv.KindData, dir))
	return "", nil
}

func size(p string) int64 {
	st, err := os.Stat(p)
	if err != nil {
		return 0
	}
	return st.Size()
}

func testLog(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type tWriter struct{ t testing.TB }

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Log(string(bytes.TrimSpace(p)))
	return len(p), nil
}

func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// storescp runs dcmtk's storescp as the PACS on a free loopback port,
// writing what it receives to dir; it is stopped when the test ends.
func storescp(t testing.TB, dir string, args ...string) string {
	t.Helper()
	bin := testenv.Tool(t, "storescp", "dcmtk")
	port := freePort(t)
	var log bytes.Buffer
	cmd := exec.Command(bin, append(append([]string{"-aet", testCalled, "-od", dir}, args...), strconv.Itoa(port))...)
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		if t.Failed() {
			t.Logf("storescp log:\n%s", log.String())
		}
	})
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	for deadline := time.Now().Add(10 * time.Second); ; {
		if c, err := net.Dial("tcp", addr); err == nil {
			// An empty connection is one storescp drops without a word.
			c.Close()
			return addr
		}
		if time.Now().After(deadline) {
			t.Fatalf("storescp did not listen on %s:\n%s", addr, log.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// seedFile keeps one fuzz seed file in step with the bytes that generate it.
func seedFile(t *testing.T, target, name string, args ...[]byte) {
	t.Helper()
	path := filepath.Join("testdata", "fuzz", target, name)
	want := []byte("go test fuzz v1\n")
	for _, a := range args {
		want = fmt.Appendf(want, "[]byte(%q)\n", a)
	}
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, want, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -run TestFuzzSeeds -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from its generator (run go test -run TestFuzzSeeds -update)", path)
	}
}
