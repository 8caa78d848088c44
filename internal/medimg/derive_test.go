package medimg

import (
	"bytes"
	"encoding/binary"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"edge/internal/testenv"
)

// findString returns the value of the top-level element tag in a DICOM
// file's head, trimmed of padding; "" when absent.
func findString(t *testing.T, head []byte, tag uint32) string {
	t.Helper()
	l, err := parseDICOM(head, MaxSamples)
	if err != nil {
		t.Fatal(err)
	}
	w := &walker{b: head}
	p := 0
	if len(head) >= preambleLen+4 && string(head[preambleLen:preambleLen+4]) == "DICM" {
		p = preambleLen + 4
	}
	meta := syntax{order: binary.LittleEndian}
	for len(head)-p >= 8 && head[p] == 0x02 && head[p+1] == 0 {
		h, err := w.header(p, meta)
		if err != nil {
			t.Fatal(err)
		}
		if h.tag == tag {
			return strings.TrimRight(string(head[h.value:h.value+int(h.length)]), " \x00")
		}
		p, _ = w.next(h, meta, 0)
	}
	elems, _, err := topLevel(w, p, l.syntax)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range elems {
		if e.tag == tag {
			return strings.TrimRight(string(head[e.h.value:e.h.value+int(e.h.length)]), " \x00")
		}
	}
	return ""
}

func TestDeriveFixtures(t *testing.T) {
	ents, err := os.ReadDir("testdata")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range ents {
		if !strings.HasSuffix(e.Name(), ".dcm") {
			continue
		}
		im, c, err := ReadFile(filepath.Join("testdata", e.Name()))
		if err != nil {
			continue
		}
		n++
		t.Run(e.Name(), func(t *testing.T) { checkDerived(t, im, c) })
	}
	if n == 0 {
		t.Fatal("no readable DICOM fixtures")
	}
}

func TestDeriveSamples(t *testing.T) {
	dir := testenv.Path(t, "medical")
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if !strings.HasSuffix(e.Name(), ".dcm") {
			continue
		}
		im, c, err := ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			continue
		}
		t.Run(e.Name(), func(t *testing.T) {
			out := checkDerived(t, im, c)
			dcmdump(t, out)
		})
	}
}

func checkDerived(t *testing.T, im *Image, c *Container) []byte {
	t.Helper()
	oldUID := findString(t, c.Head, tagSOPInstanceUID)
	d, uid, err := Derive(c, "1.2.826.0.1.3680043.10.543", nil)
	if err != nil {
		t.Fatal(err)
	}
	if uid == "" || uid == oldUID || len(uid) > 64 || checkUID(uid) != nil {
		t.Fatalf("new UID %q (old %q)", uid, oldUID)
	}
	if got := findString(t, d.Head, tagSOPInstanceUID); got != uid {
		t.Errorf("SOP Instance UID %q, want %q", got, uid)
	}
	if bytes.Contains(c.Head, []byte("DICM")) {
		if got := findString(t, d.Head, tagMediaSOPInstance); got != uid {
			t.Errorf("Media Storage SOP Instance UID %q, want %q", got, uid)
		}
	}
	if it := findString(t, d.Head, tagImageType); !strings.HasPrefix(it, `DERIVED\`) {
		t.Errorf("Image Type %q, want DERIVED first", it)
	}
	var buf bytes.Buffer
	if err := Encode(&buf, im, d); err != nil {
		t.Fatal(err)
	}
	back, bc, err := Decode(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(back.RawBytes(), im.RawBytes()) || !bytes.Equal(bc.Tail, c.Tail) {
		t.Error("derived file does not hold the same pixels and tail")
	}
	if c.Head != nil && bytes.Equal(d.Head, c.Head) {
		t.Error("head unchanged")
	}
	return buf.Bytes()
}

// dcmdump reads the derived file with DCMTK, a real DICOM peer.
func dcmdump(t *testing.T, b []byte) {
	t.Helper()
	bin, err := exec.LookPath("dcmdump")
	if err != nil {
		t.Skip("dcmdump (dcmtk) not installed")
	}
	p := filepath.Join(t.TempDir(), "d.dcm")
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(bin, "-E", p).CombinedOutput()
	if err != nil {
		t.Fatalf("dcmdump: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "DERIVED") {
		t.Errorf("dcmdump does not show DERIVED:\n%.2000s", out)
	}
	if strings.Contains(string(out), "W: ") || strings.Contains(string(out), "E: ") {
		t.Errorf("dcmdump warns:\n%.2000s", out)
	}
}

func TestNewUID(t *testing.T) {
	for _, root := range []string{"2.25", "1.2.826.0.1.3680043.10.543"} {
		u, err := NewUID(root, nil)
		if err != nil || !strings.HasPrefix(u, root+".") || len(u) > 64 {
			t.Errorf("NewUID(%q) = %q, %v", root, u, err)
		}
	}
	for _, root := range []string{"", "1..2", "1.02", "a.b", strings.Repeat("1", 60)} {
		if _, err := NewUID(root, nil); err == nil {
			t.Errorf("NewUID(%q) accepted", root)
		}
	}
}

// FuzzDerive: Derive reads the head of a DICOM file from outside; whatever
// decodes derives without panicking, and the derived head still describes
// the same pixels.
func FuzzDerive(f *testing.F) {
	ents, _ := os.ReadDir("testdata")
	for _, e := range ents {
		if strings.HasSuffix(e.Name(), ".dcm") {
			if b, err := os.ReadFile(filepath.Join("testdata", e.Name())); err == nil && len(b) < 1<<16 {
				f.Add(b)
			}
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		im, c, err := Decode(b)
		if err != nil || c.Format != FormatDICOM {
			return
		}
		d, _, err := Derive(c, "", nil)
		if err != nil {
			return
		}
		var buf bytes.Buffer
		if err := Encode(&buf, im, d); err != nil {
			t.Fatalf("derived container does not encode the image: %v", err)
		}
	})
}
