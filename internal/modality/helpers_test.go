package modality

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"
)

const testAE = "EDGE"

// needTool returns the path of a real peer program, or skips the test
// naming it in the form make test's skip report reads ("needs tool ..."); under
// CI=true, where scripts/install-deps.sh has installed every peer, its
// absence fails the test instead.
func needTool(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err == nil {
		return p
	}
	pkg := "dcmtk"
	if name == "Orthanc" {
		pkg = "orthanc"
	}
	msg := fmt.Sprintf("needs tool %q: not installed (apt-get install %s; scripts/install-deps.sh does)", name, pkg)
	if os.Getenv("CI") == "true" {
		t.Fatalf("CI=true: %s", msg)
	}
	t.Skip(msg)
	return ""
}

// syncBuffer collects log output from several goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

type testServer struct {
	addr     string
	port     string
	out      string
	spool    string
	logs     *syncBuffer
	srv      *Server
	consumer Consumer
	cancel   context.CancelFunc
}

// startServer runs a provider on 127.0.0.1 until the test ends. edit may
// change the configuration; c nil means a DirStore in a temporary folder.
func startServer(t testing.TB, edit func(*Config), c Consumer) *testServer {
	t.Helper()
	dir := t.TempDir()
	ts := &testServer{out: filepath.Join(dir, "out"), spool: filepath.Join(dir, "out", ".incoming"), logs: &syncBuffer{}}
	cfg := Config{AETitle: testAE, SpoolDir: ts.spool, IdleTimeout: 10 * time.Second, ARTIMTimeout: 5 * time.Second}
	if edit != nil {
		edit(&cfg)
	}
	ts.spool = cfg.SpoolDir
	if c == nil {
		c = &DirStore{Dir: ts.out}
	}
	ts.consumer = c
	srv, err := NewServer(cfg, c, slog.New(slog.NewTextHandler(ts.logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	ts.srv = srv
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ts.addr = l.Addr().String()
	ts.port = strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
	ctx, cancel := context.WithCancel(context.Background())
	ts.cancel = cancel
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, l) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Serve: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Errorf("Serve did not return after cancel")
		}
		if t.Failed() {
			t.Logf("server log:\n%s", ts.logs.String())
		}
	})
	return ts
}

// dcmtk runs a dcmtk tool with a timeout and returns its combined output.
func dcmtk(t testing.TB, name string, args ...string) (string, error) {
	t.Helper()
	p := needTool(t, name)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, p, args...).CombinedOutput()
	return string(out), err
}

func containsAll(s string, subs ...string) bool {
	for _, sub := range subs {
		if !bytes.Contains([]byte(s), []byte(sub)) {
			return false
		}
	}
	return true
}

// synthObject writes a Secondary Capture image in explicit VR little endian
// (Part 10, meta included) whose pixel data has n bytes from a fixed
// pattern, so tests can make objects of any size with their own UIDs
// instead of copying sample files.
func synthObject(t testing.TB, path, sopClass, sopInstance string, n int) {
	t.Helper()
	if n%2 == 1 {
		n++
	}
	cols := 1024
	rows := (n/2 + cols - 1) / cols
	n = rows * cols * 2
	var b []byte
	b = appendMeta(b, meta{SOPClassUID: sopClass, SOPInstanceUID: sopInstance, TransferSyntaxUID: ExplicitVRLittleEndian})
	el := func(group, elem uint16, vr string, v []byte) {
		b = binary.LittleEndian.AppendUint16(b, group)
		b = binary.LittleEndian.AppendUint16(b, elem)
		b = append(b, vr...)
		if longVR(vr) {
			b = append(b, 0, 0)
			b = binary.LittleEndian.AppendUint32(b, uint32(len(v)))
		} else {
			b = binary.LittleEndian.AppendUint16(b, uint16(len(v)))
		}
		b = append(b, v...)
	}
	us := func(v uint16) []byte { return binary.LittleEndian.AppendUint16(nil, v) }
	el(0x0008, 0x0016, "UI", padUID(sopClass))
	el(0x0008, 0x0018, "UI", padUID(sopInstance))
	el(0x0008, 0x0060, "CS", padText("OT"))
	el(0x0010, 0x0010, "PN", padText("Test^Synthetic"))
	el(0x0020, 0x000D, "UI", padUID(sopInstance+".1"))
	el(0x0020, 0x000E, "UI", padUID(sopInstance+".2"))
	el(0x0028, 0x0002, "US", us(1))
	el(0x0028, 0x0004, "CS", padText("MONOCHROME2"))
	el(0x0028, 0x0010, "US", us(uint16(rows)))
	el(0x0028, 0x0011, "US", us(uint16(cols)))
	el(0x0028, 0x0100, "US", us(16))
	el(0x0028, 0x0101, "US", us(16))
	el(0x0028, 0x0102, "US", us(15))
	el(0x0028, 0x0103, "US", us(0))
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w := bufio.NewWriterSize(f, 1<<20)
	w.Write(b)
	b = b[:0]
	b = binary.LittleEndian.AppendUint16(b, 0x7FE0)
	b = binary.LittleEndian.AppendUint16(b, 0x0010)
	b = append(b, "OW\x00\x00"...)
	b = binary.LittleEndian.AppendUint32(b, uint32(n))
	w.Write(b)
	chunk := make([]byte, 1<<16)
	for i := range chunk {
		chunk[i] = byte(i*7 + i>>8)
	}
	for left := n; left > 0; {
		k := min(left, len(chunk))
		w.Write(chunk[:k])
		left -= k
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
}

const secondaryCapture = "1.2.840.10008.5.1.4.1.1.7"
