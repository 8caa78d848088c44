package sensor

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestAppendFrameMatchesDatasheet(t *testing.T) {
	// The datasheet's GenImg command: EF01 FFFFFFFF 01 0003 01 0005.
	got := AppendFrame(nil, Frame{Address: DefaultAddress, PID: PIDCommand, Payload: []byte{0x01}})
	want := []byte{0xEF, 0x01, 0xFF, 0xFF, 0xFF, 0xFF, 0x01, 0x00, 0x03, 0x01, 0x00, 0x05}
	if !bytes.Equal(got, want) {
		t.Fatalf("GenImg = % x, want % x", got, want)
	}
}

func TestParseFrameRejects(t *testing.T) {
	good := AppendFrame(nil, Frame{Address: DefaultAddress, PID: PIDAck, Payload: []byte{0}})
	mod := func(i int, v byte) []byte { b := bytes.Clone(good); b[i] = v; return b }
	for name, b := range map[string][]byte{
		"start code":  mod(0, 0xEE),
		"pid":         mod(6, 0x05),
		"length 1":    mod(8, 0x01),
		"length 300":  append([]byte{0xEF, 0x01, 0xFF, 0xFF, 0xFF, 0xFF, 0x07, 0x01, 0x2C}, make([]byte, 300)...),
		"checksum":    mod(11, 0x00),
		"payload bit": mod(9, 0x01),
	} {
		if _, _, err := ParseFrame(b); err == nil || err == ErrTruncated {
			t.Errorf("%s: ParseFrame(% x) = %v, want a FrameError", name, b[:min(len(b), 12)], err)
		}
	}
	for i := range len(good) {
		if _, _, err := ParseFrame(good[:i]); err != ErrTruncated {
			t.Errorf("ParseFrame of %d of %d bytes = %v, want ErrTruncated", i, len(good), err)
		}
	}
}

// bytePort serves a fixed byte string in reads of at most chunk bytes,
// then fails with io.EOF, which a real port never does: it ends the test
// without waiting out a timeout.
type bytePort struct {
	data  []byte
	chunk int
}

func (p *bytePort) Read(b []byte) (int, error) {
	if len(p.data) == 0 {
		return 0, io.EOF
	}
	n := min(len(b), len(p.data), p.chunk)
	copy(b, p.data[:n])
	p.data = p.data[n:]
	return n, nil
}
func (p *bytePort) Write(b []byte) (int, error)        { return len(b), nil }
func (p *bytePort) SetReadTimeout(time.Duration) error { return nil }

func seedStreams() [][]byte {
	var s [][]byte
	a := AppendFrame(nil, Frame{Address: DefaultAddress, PID: PIDAck, Payload: []byte{0}})
	d := AppendFrame(nil, Frame{Address: DefaultAddress, PID: PIDData, Payload: bytes.Repeat([]byte{0xEF, 0x01}, 16)})
	e := AppendFrame(nil, Frame{Address: DefaultAddress, PID: PIDEnd, Payload: bytes.Repeat([]byte{0x3F}, 32)})
	s = append(s, a, append(append(bytes.Clone(a), d...), e...))
	s = append(s, append([]byte{0xEF, 0x01, 0xEF}, d...), append(bytes.Clone(d[:20]), e...))
	s = append(s, append(AppendFrame(nil, Frame{Address: 7, PID: PIDAck, Payload: []byte{1}}), a...))
	return s
}

// FuzzParseFrame checks the decoder on any bytes: no panic, a decoded
// packet re-encodes to exactly the bytes it came from, and the claimed
// length never exceeds the input.
func FuzzParseFrame(f *testing.F) {
	for _, s := range seedStreams() {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		fr, n, err := ParseFrame(b)
		if err != nil {
			var fe *FrameError
			if !errors.As(err, &fe) {
				t.Fatalf("error %v is not a *FrameError", err)
			}
			return
		}
		if n > len(b) || n > MaxFrame {
			t.Fatalf("packet of %d bytes from %d", n, len(b))
		}
		if re := AppendFrame(nil, fr); !bytes.Equal(re, b[:n]) {
			t.Fatalf("re-encoded % x, from % x", re, b[:n])
		}
	})
}

// FuzzReader drives the resynchronising stream reader: it must end on any
// input, return only packets that are in the input
// at the offsets it reports, and never grow its buffer.
func FuzzReader(f *testing.F) {
	for _, s := range seedStreams() {
		f.Add(s, uint8(7))
	}
	f.Fuzz(func(t *testing.T, b []byte, chunk uint8) {
		if len(b) > 1<<16 {
			return
		}
		rd := newReader(&bytePort{data: b, chunk: int(chunk)%300 + 1}, DefaultAddress)
		size := len(rd.buf)
		for range len(b) + 1 {
			fr, at, n, err := rd.next(context.Background(), time.Now().Add(time.Minute))
			if err != nil {
				if !errors.Is(err, io.EOF) {
					t.Fatalf("reader error %v, want the port's end", err)
				}
				break
			}
			if at < 0 || int(at)+n > len(b) {
				t.Fatalf("packet at %d+%d outside %d input bytes", at, n, len(b))
			}
			if re := AppendFrame(nil, fr); !bytes.Equal(re, b[at:int(at)+n]) {
				t.Fatalf("packet at %d is % x in the input, reader gave % x", at, b[at:int(at)+n], re)
			}
			if len(rd.buf) != size {
				t.Fatalf("buffer grew to %d", len(rd.buf))
			}
		}
	})
}

// TestFuzzSeedsCommitted keeps testdata/fuzz in step with seedStreams, so
// `go test -fuzz` starts from the same corpus on every machine.
func TestFuzzSeedsCommitted(t *testing.T) {
	for i, s := range seedStreams() {
		for name, body := range map[string]string{
			"FuzzParseFrame": "go test fuzz v1\n[]byte(" + quote(s) + ")\n",
			"FuzzReader":     "go test fuzz v1\n[]byte(" + quote(s) + ")\nbyte('\\a')\n",
		} {
			p := filepath.Join("testdata", "fuzz", name, "seed"+string(rune('0'+i)))
			if *update {
				if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
					t.Fatal(err)
				}
				continue
			}
			got, err := os.ReadFile(p)
			if err != nil || string(got) != body {
				t.Errorf("%s is missing or stale (run go test -run TestFuzzSeedsCommitted -update): %v", p, err)
			}
		}
	}
}

func quote(b []byte) string {
	var s bytes.Buffer
	s.WriteByte('"')
	for _, c := range b {
		s.WriteString(`\x`)
		s.WriteByte("0123456789abcdef"[c>>4])
		s.WriteByte("0123456789abcdef"[c&15])
	}
	s.WriteByte('"')
	return s.String()
}
