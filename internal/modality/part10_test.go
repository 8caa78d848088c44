package modality

import (
	"bufio"
	"bytes"
	"io"
	"os"
	"path/filepath"
	"testing"
)

func TestMetaRoundTrip(t *testing.T) {
	m := meta{SOPClassUID: secondaryCapture, SOPInstanceUID: "1.2.3", TransferSyntaxUID: ImplicitVRLittleEndian, SourceAE: "CART"}
	b := appendMeta(nil, m)
	got, err := readMeta(bufio.NewReader(bytes.NewReader(b)))
	if err != nil || got != m {
		t.Fatalf("%+v %v", got, err)
	}
	// dcmdump reads the meta this package writes.
	p := filepath.Join(t.TempDir(), "m.dcm")
	m.TransferSyntaxUID = ExplicitVRLittleEndian
	os.WriteFile(p, append(appendMeta(nil, m), dataset(secondaryCapture, "1.2.3")...), 0o644)
	out, err := dcmtk(t, "dcmdump", "-q", p)
	if err != nil || !bytes.Contains([]byte(out), []byte("(0002,0010) UI =LittleEndianExplicit")) || !bytes.Contains([]byte(out), []byte("(0002,0016) AE [CART]")) {
		t.Fatalf("dcmdump: %v\n%s", err, out)
	}
}

func TestDatasetUIDs(t *testing.T) {
	ds := dataset(secondaryCapture, "1.2.3.4")
	for _, c := range []struct {
		name        string
		head        []byte
		whole       bool
		class, inst string
		ok          bool
	}{
		{"found", ds, true, secondaryCapture, "1.2.3.4", true},
		{"cut, not whole", ds[:20], false, "", "", false},
		{"cut, whole", ds[:20], true, "", "", true},
		{"empty", nil, true, "", "", true},
		{"undefined length first", append([]byte{8, 0, 6, 0, 'S', 'Q', 0, 0, 0xFF, 0xFF, 0xFF, 0xFF}, ds...), true, "", "", false},
	} {
		class, inst, ok := datasetUIDs(c.head, ExplicitVRLittleEndian, c.whole)
		if ok != c.ok || (ok && (class != c.class || inst != c.inst)) {
			t.Errorf("%s: %q %q %v", c.name, class, inst, ok)
		}
	}
}

// FuzzPart10 reads any file as the watch folder does: meta, then the start
// of the data set; no panic, and no meta group larger than the limit read.
func FuzzPart10(f *testing.F) {
	f.Add(append(appendMeta(nil, meta{SOPClassUID: secondaryCapture, SOPInstanceUID: "1.2.3", TransferSyntaxUID: ExplicitVRLittleEndian}), dataset(secondaryCapture, "1.2.3")...))
	f.Add(append(appendMeta(nil, meta{SOPClassUID: secondaryCapture, SOPInstanceUID: "1.2.3", TransferSyntaxUID: ImplicitVRLittleEndian}), 8, 0, 0x18, 0, 2, 0, 0, 0, '1', 0))
	f.Fuzz(func(t *testing.T, b []byte) {
		br := bufio.NewReader(bytes.NewReader(b))
		m, err := readMeta(br)
		if err != nil {
			return
		}
		rest, _ := io.ReadAll(br)
		datasetUIDs(rest, m.TransferSyntaxUID, true)
		datasetUIDs(rest, m.TransferSyntaxUID, false)
	})
}
