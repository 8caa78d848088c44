package modality

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"edge/internal/medimg"
	"edge/internal/testenv"
)

// sampleFiles lists the DICOM samples, split into those the provider takes
// and those whose transfer syntax it refuses.
func sampleFiles(t *testing.T) (supported, refused []string) {
	t.Helper()
	dir := testenv.Path(t, "medical")
	paths, _ := filepath.Glob(filepath.Join(dir, "*.dcm"))
	if len(paths) == 0 {
		t.Skipf("no DICOM samples in %s", dir)
	}
	for _, p := range paths {
		m := fileMeta(t, p)
		if IsTransferSyntax(m.TransferSyntaxUID) {
			supported = append(supported, p)
		} else {
			refused = append(refused, p)
		}
	}
	return supported, refused
}

func fileMeta(t testing.TB, path string) meta {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	m, err := readMeta(bufio.NewReader(f))
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return m
}

// dump is dcmdump's listing of every attribute of a file's data set, pixel
// data in full, without the file meta group (which the receiver writes
// anew).
func dump(t *testing.T, path string) string {
	t.Helper()
	out, err := dcmtk(t, "dcmdump", "-q", "+L", "+U8", path)
	if err != nil {
		t.Fatalf("dcmdump %s: %v\n%s", path, err, out)
	}
	// storescu itself re-encodes on the way: it drops Data Set Trailing
	// Padding (FFFC,FFFC), which is no attribute, and may give sequences and
	// items defined lengths. Tags, VRs and values are compared; encoded
	// lengths and the delimiters that go with them are not.
	var keep []string
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, "(0002,") || strings.HasPrefix(l, "# ") || strings.TrimSpace(l) == "" ||
			strings.Contains(l, "(fffc,fffc)") || strings.Contains(l, "Delimitation") {
			continue
		}
		if i := strings.LastIndex(l, " # "); i >= 0 {
			l = strings.TrimRight(l[:i], " ")
		}
		l = strings.NewReplacer(" with undefined length", "", " with explicit length", "").Replace(l)
		keep = append(keep, l)
	}
	return strings.Join(keep, "\n")
}

func storescu(t *testing.T, ts *testServer, args ...string) (string, error) {
	t.Helper()
	a := append([]string{"-v", "-nh", "-aet", "MODALITY", "-aec", testAE}, args...)
	a = slices.Insert(a, len(a)-countFiles(args), "127.0.0.1", ts.port)
	return dcmtk(t, "storescu", a...)
}

// countFiles counts the trailing arguments that are files.
func countFiles(args []string) int {
	n := 0
	for i := len(args) - 1; i >= 0; i-- {
		if _, err := os.Stat(args[i]); err != nil {
			break
		}
		n++
	}
	return n
}

func TestStoreSCUSamplesUnchanged(t *testing.T) {
	supported, _ := sampleFiles(t)
	ts := startServer(t, nil, nil)
	out, err := storescu(t, ts, supported...)
	if err != nil {
		t.Fatalf("storescu: %v\n%s", err, out)
	}
	if n := strings.Count(out, "Received Store Response (Success)"); n != len(supported) {
		t.Fatalf("%d successes for %d files:\n%s", n, len(supported), out)
	}
	for _, p := range supported {
		m := fileMeta(t, p)
		got := filepath.Join(ts.out, FileName(m.SOPInstanceUID))
		gm := fileMeta(t, got)
		if gm.SOPInstanceUID != m.SOPInstanceUID || gm.SOPClassUID != m.SOPClassUID || gm.SourceAE != "MODALITY" || !IsTransferSyntax(gm.TransferSyntaxUID) {
			t.Errorf("%s: stored meta %+v", filepath.Base(p), gm)
		}
		if d0, d1 := dump(t, p), dump(t, got); d0 != d1 {
			t.Errorf("%s: dcmdump of the stored object differs from the original:\n%s", filepath.Base(p), firstDiff(d0, d1))
		}
		// The protect pipeline reads what was stored, and sees the same pixels.
		im0, _, err0 := medimg.ReadFile(p)
		im1, _, err1 := medimg.ReadFile(got)
		if (err0 == nil) != (err1 == nil) {
			t.Errorf("%s: medimg reads the original (%v) and the stored object (%v) differently", filepath.Base(p), err0, err1)
		} else if err0 == nil && !slices.Equal(im0.Pix, im1.Pix) {
			t.Errorf("%s: pixels differ after storing", filepath.Base(p))
		}
	}
	if logs := ts.logs.String(); strings.Count(logs, "outcome=stored") != len(supported) || !strings.Contains(logs, "calling_ae=MODALITY") {
		t.Errorf("log does not name each stored object and the calling AE:\n%s", logs)
	}
}

func firstDiff(a, b string) string {
	la, lb := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := range max(len(la), len(lb)) {
		var x, y string
		if i < len(la) {
			x = la[i]
		}
		if i < len(lb) {
			y = lb[i]
		}
		if x != y {
			return fmt.Sprintf("line %d:\n- %.200s\n+ %.200s", i+1, x, y)
		}
	}
	return ""
}

// An association profile for storescu that proposes JPEG 2000 lossless
// only, so negotiation alone decides the refused file's fate.
const j2kOnlyProfile = `[[TransferSyntaxes]]
[J2K]
TransferSyntax1 = JPEG2000LosslessOnly

[[PresentationContexts]]
[CR]
PresentationContext1 = ComputedRadiographyImageStorage\J2K

[[Profiles]]
[J2KOnly]
PresentationContexts = CR
`

func TestStoreSCUCompressedRefusedInNegotiation(t *testing.T) {
	_, refused := sampleFiles(t)
	var j2k string
	for _, p := range refused {
		if fileMeta(t, p).TransferSyntaxUID == "1.2.840.10008.1.2.4.90" {
			j2k = p
		}
	}
	if j2k == "" {
		t.Skip("no JPEG 2000 sample")
	}
	ts := startServer(t, nil, nil)
	cfg := filepath.Join(t.TempDir(), "j2k.cfg")
	os.WriteFile(cfg, []byte(j2kOnlyProfile), 0o644)
	for _, args := range [][]string{
		{"-d", "-xf", cfg, "J2KOnly", j2k}, // only JPEG 2000 proposed
		{"-d", "-R", "-xv", j2k},           // JPEG 2000 and uncompressed in separate contexts
	} {
		out, _ := storescu(t, ts, args...)
		if !strings.Contains(out, "(Transfer Syntaxes Not Supported)") {
			t.Errorf("storescu %v: the JPEG 2000 context was not refused for its transfer syntax:\n%s", args, out)
		}
		if strings.Contains(out, "Received Store Response") {
			t.Errorf("storescu %v: a store request went through:\n%s", args, out)
		}
	}
	if ents, _ := os.ReadDir(ts.out); len(ents) != 1 || ents[0].Name() != ".incoming" {
		t.Errorf("stored %v for a refused object", ents)
	}
}

// countingStore counts how often each SOP instance is stored.
type countingStore struct {
	DirStore
	mu sync.Mutex
	n  map[string]int
}

func (c *countingStore) Store(ctx context.Context, obj *Object) error {
	if err := c.DirStore.Store(ctx, obj); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.n[obj.SOPInstanceUID]++
	return nil
}

func TestStoreSCUPDULengths(t *testing.T) {
	needTool(t, "storescu")
	dir := t.TempDir()
	var files []string
	for i, n := range []int{1, 4095, 4096 - 6, 300 << 10} {
		p := filepath.Join(dir, fmt.Sprintf("f%d.dcm", i))
		synthObject(t, p, secondaryCapture, fmt.Sprintf("1.2.3.4.%d", i+1), n)
		files = append(files, p)
	}
	var ref map[string][]byte
	for _, server := range []uint32{4096, 16384, 131072} {
		for _, client := range []int{4096, 16384, 65536, 131072} {
			t.Run(fmt.Sprintf("provider%d_requester%d", server, client), func(t *testing.T) {
				ts := startServer(t, func(c *Config) { c.MaxPDULength = server }, nil)
				out, err := storescu(t, ts, append([]string{"-pdu", fmt.Sprint(client)}, files...)...)
				if err != nil || strings.Count(out, "(Success)") != len(files) {
					t.Fatalf("storescu: %v\n%s", err, out)
				}
				got := map[string][]byte{}
				for i := range files {
					b, err := os.ReadFile(filepath.Join(ts.out, FileName(fmt.Sprintf("1.2.3.4.%d", i+1))))
					if err != nil {
						t.Fatal(err)
					}
					got[files[i]] = b
				}
				if ref == nil {
					ref = got
					return
				}
				for f, b := range got {
					if !bytes.Equal(b, ref[f]) {
						t.Errorf("%s stored differently than with the first PDU sizes", filepath.Base(f))
					}
				}
			})
		}
	}
}

// barrierStore holds each association's first object until objects from
// want associations are in, so the test proves they ran at once.
type barrierStore struct {
	*countingStore
	want    int
	mu      sync.Mutex
	seen    map[string]bool
	all     chan struct{}
	reached bool
}

func (b *barrierStore) Store(ctx context.Context, obj *Object) error {
	b.mu.Lock()
	first := !b.seen[obj.RemoteAddr]
	b.seen[obj.RemoteAddr] = true
	if len(b.seen) == b.want && !b.reached {
		b.reached = true
		close(b.all)
	}
	b.mu.Unlock()
	if first {
		select {
		case <-b.all:
		case <-time.After(20 * time.Second):
			return errors.New("the other associations never sent an object at the same time")
		}
	}
	return b.countingStore.Store(ctx, obj)
}

func TestStoreSCUConcurrentAssociations(t *testing.T) {
	needTool(t, "storescu")
	dir := t.TempDir()
	cs := &countingStore{n: map[string]int{}}
	ts := startServer(t, nil, &barrierStore{countingStore: cs, want: 4, seen: map[string]bool{}, all: make(chan struct{})})
	cs.Dir = ts.out
	const assocs, per = 4, 3
	var wg sync.WaitGroup
	errs := make([]error, assocs)
	outs := make([]string, assocs)
	for a := range assocs {
		var files []string
		for i := range per {
			p := filepath.Join(dir, fmt.Sprintf("a%d_%d.dcm", a, i))
			synthObject(t, p, secondaryCapture, fmt.Sprintf("1.2.3.5.%d.%d", a+1, i+1), 1<<20)
			files = append(files, p)
		}
		wg.Go(func() { outs[a], errs[a] = storescu(t, ts, files...) })
	}
	wg.Wait()
	for a := range assocs {
		if errs[a] != nil || strings.Count(outs[a], "(Success)") != per {
			t.Errorf("association %d: %v\n%s", a, errs[a], outs[a])
		}
	}
	if len(cs.n) != assocs*per {
		t.Errorf("%d objects stored, want %d", len(cs.n), assocs*per)
	}
	for uid, n := range cs.n {
		if n != 1 {
			t.Errorf("%s stored %d times", uid, n)
		}
	}
}

// failingStore refuses every object with err.
type failingStore struct{ err error }

func (f failingStore) Store(context.Context, *Object) error { return f.err }

var errNoSpace error = syscall.ENOSPC

type statusErr uint16

func (s statusErr) Error() string       { return fmt.Sprintf("status %04X", uint16(s)) }
func (s statusErr) DIMSEStatus() uint16 { return uint16(s) }

func TestStoreSCUConsumerFailure(t *testing.T) {
	needTool(t, "storescu")
	p := filepath.Join(t.TempDir(), "x.dcm")
	synthObject(t, p, secondaryCapture, "1.2.3.6.1", 1000)
	for _, c := range []struct {
		err  error
		want string
	}{
		{fmt.Errorf("outbox full: %w", ErrOutOfResources), "0xa700"},
		{fmt.Errorf("outbox: %w", errors.Join(errors.New("write"), errNoSpace)), "0xa700"},
		{fmt.Errorf("protect: %w", ErrDataSetMismatch), "0xa900"},
		{errors.New("protect: cannot decode"), "0xc000"},
		{statusErr(0xA702), "0xa702"},
	} {
		t.Run(c.want, func(t *testing.T) {
			ts := startServer(t, nil, failingStore{c.err})
			out, _ := storescu(t, ts, "-d", p)
			if strings.Contains(out, "Received Store Response (Success)") || !strings.Contains(out, "Received Store Response") {
				t.Errorf("storescu did not report a failure:\n%s", out)
			}
			if !strings.Contains(strings.ToLower(out), "dimse status                  : "+c.want) {
				t.Errorf("storescu did not get status %s:\n%s", c.want, out)
			}
			if ents, _ := os.ReadDir(ts.spool); len(ents) != 0 {
				t.Errorf("left %s in the spool folder", ents[0].Name())
			}
			if !strings.Contains(ts.logs.String(), "outcome=failed") {
				t.Errorf("log does not say the object failed:\n%s", ts.logs.String())
			}
		})
	}
}

func TestStoreSCUUnknownSOPClassRefused(t *testing.T) {
	needTool(t, "storescu")
	p := filepath.Join(t.TempDir(), "rt.dcm")
	const rtStructureSet = "1.2.840.10008.5.1.4.1.1.481.3"
	synthObject(t, p, rtStructureSet, "1.2.3.18.1", 1000)
	ts := startServer(t, nil, nil)
	out, _ := storescu(t, ts, "-d", "-R", p)
	if !regexpMatch(`Context ID:\s+\d+ \(Abstract Syntax Not Supported\)\s+D:\s+Abstract Syntax: =RTStructureSetStorage`, out) {
		t.Errorf("the RT Structure Set context was not refused as abstract syntax not supported:\n%s", out)
	}
	if strings.Contains(out, "Received Store Response") {
		t.Errorf("a store request went through:\n%s", out)
	}
	if _, err := os.Stat(filepath.Join(ts.out, FileName("1.2.3.18.1"))); err == nil {
		t.Error("stored an object of a refused SOP class")
	}
}

func regexpMatch(re, s string) bool { return regexp.MustCompile(re).MatchString(s) }

// TestStoreSCUImplicitVR has storescu convert the samples to implicit VR
// little endian on the way: what is stored says so in its meta, and the
// protect pipeline reads the same pixels from it.
func TestStoreSCUImplicitVR(t *testing.T) {
	supported, _ := sampleFiles(t)
	ts := startServer(t, nil, nil)
	out, err := storescu(t, ts, append([]string{"-xi"}, supported...)...)
	if err != nil || strings.Count(out, "(Success)") != len(supported) {
		t.Fatalf("storescu -xi: %v\n%s", err, out)
	}
	for _, p := range supported {
		got := filepath.Join(ts.out, FileName(fileMeta(t, p).SOPInstanceUID))
		if ts := fileMeta(t, got).TransferSyntaxUID; ts != ImplicitVRLittleEndian {
			t.Errorf("%s stored in %s", filepath.Base(p), ts)
		}
		im0, _, err0 := medimg.ReadFile(p)
		im1, _, err1 := medimg.ReadFile(got)
		if err0 != nil {
			continue
		}
		if err1 != nil || !slices.Equal(im0.Pix, im1.Pix) {
			t.Errorf("%s: medimg on the implicit VR object: %v", filepath.Base(p), err1)
		}
	}
}
