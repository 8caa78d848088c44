package sensortest

import (
	"bytes"
	"path/filepath"
	"testing"
	"time"
)

func TestPlaybackInOrder(t *testing.T) {
	p := NewPlayback([]IO{{W: []byte{1, 2}, R: []byte{3}}, {W: []byte{4}, R: nil}})
	if _, err := p.Write([]byte{1}); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Write([]byte{2}); err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 4)
	if n, err := p.Read(b); n != 1 || err != nil || b[0] != 3 {
		t.Fatalf("Read = %d, %v, % x", n, err, b[:n])
	}
	p.SetReadTimeout(time.Millisecond)
	if n, err := p.Read(b); n != 0 || err != nil {
		t.Fatalf("Read with nothing recorded = %d, %v; want the (0, nil) of a timeout", n, err)
	}
	if err := p.Close(); err == nil {
		t.Fatal("Close with an exchange left reported nothing")
	}
	if _, err := p.Write([]byte{4}); err != nil {
		t.Fatal(err)
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestPlaybackRejectsUnexpectedBytes(t *testing.T) {
	p := NewPlayback([]IO{{W: []byte{1, 2}}})
	if _, err := p.Write([]byte{1, 3}); err == nil {
		t.Fatal("wrong byte accepted")
	}
	if p.Close() == nil {
		t.Fatal("Close forgot the failure")
	}
	p = NewPlayback(nil)
	if _, err := p.Write([]byte{9}); err == nil {
		t.Fatal("write past the recording accepted")
	}
}

func TestRecordAndSave(t *testing.T) {
	live := NewPlayback([]IO{{W: []byte{1}, R: []byte{2, 3}}, {W: []byte{4}, R: []byte{5}}})
	r := &Record{Port: live}
	b := make([]byte, 1)
	r.Write([]byte{1})
	r.Read(b)
	r.Read(b)
	r.Write([]byte{4})
	r.Read(b)
	if err := live.Close(); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "r.json")
	if err := (&Recording{Name: "x", Ops: r.Ops}).Save(path); err != nil {
		t.Fatal(err)
	}
	got, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Ops) != 2 || !bytes.Equal(got.Ops[0].R, []byte{2, 3}) || !bytes.Equal(got.Ops[1].W, []byte{4}) {
		t.Fatalf("recorded %+v", got.Ops)
	}
}
