package hub_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"edge/internal/hub"
	"edge/internal/hub/orthanc/orthanctest"
	"edge/internal/medimg"
	"edge/internal/modality/scu"
	"edge/internal/modality/ul"
	"edge/internal/testenv"
	"edge/internal/uplink"
	"edge/internal/uplink/tus"
	"edge/internal/uplink/uplinktest"
)

// countLog counts log records with a message, and passes them all to the test log.
type countLog struct {
	slog.Handler
	mu   *sync.Mutex
	msgs map[string]int
	last map[string]string // message → its err attribute, last seen
}

func newCountLog(t testing.TB) *countLog {
	return &countLog{Handler: slog.NewTextHandler(tlog{t}, nil), mu: new(sync.Mutex), msgs: map[string]int{}, last: map[string]string{}}
}

func (c *countLog) Handle(ctx context.Context, r slog.Record) error {
	c.mu.Lock()
	c.msgs[r.Message]++
	r.Attrs(func(a slog.Attr) bool {
		if a.Key == "err" {
			c.last[r.Message] = a.Value.String()
		}
		return true
	})
	c.mu.Unlock()
	return c.Handler.Handle(ctx, r)
}

func (c *countLog) count(msg string) (int, string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.msgs[msg], c.last[msg]
}

const retryMsg = "hub: forward to the PACS failed; retrying"

// pixelData returns the value of the top-level Pixel Data (7FE0,0010) of a
// Part 10 file in explicit VR little endian, found from the end as an OB or
// OW header whose length fits the data set (or is undefined, for
// encapsulated frames).
func pixelData(t testing.TB, file []byte) []byte {
	t.Helper()
	f, err := scu.ParseFile(file)
	if err != nil {
		t.Fatal(err)
	}
	ds := f.DataSet
	for end := len(ds); ; {
		i := bytes.LastIndex(ds[:end], []byte{0xE0, 0x7F, 0x10, 0x00})
		if i < 0 {
			t.Fatal("no Pixel Data element")
		}
		if h := ds[i:]; len(h) >= 12 && (string(h[4:6]) == "OB" || string(h[4:6]) == "OW") && h[6] == 0 && h[7] == 0 {
			if n := binary.LittleEndian.Uint32(h[8:]); n == 0xFFFFFFFF {
				return h[12:]
			} else if int64(n) <= int64(len(h)-12) {
				return h[12 : 12+n]
			}
		}
		end = i
	}
}

// canonical is a DICOM file's data set as dcmtk's dcmconv writes it with
// explicit lengths and no group lengths or padding, so that two encodings of
// the same attributes compare equal; the file meta is left out.
func canonical(t testing.TB, file []byte) []byte {
	t.Helper()
	bin := testenv.Tool(t, "dcmconv", "dcmtk")
	dir := t.TempDir()
	in, out := filepath.Join(dir, "in.dcm"), filepath.Join(dir, "out.dcm")
	if err := os.WriteFile(in, file, 0o600); err != nil {
		t.Fatal(err)
	}
	if b, err := exec.Command(bin, "+e", "-g", "-p", in, out).CombinedOutput(); err != nil {
		t.Fatalf("dcmconv: %v: %s", err, b)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	f, err := scu.ParseFile(b)
	if err != nil {
		t.Fatal(err)
	}
	return f.DataSet
}

// TestForwardByCStoreToOrthanc stores a real sample through the hub into
// Orthanc's DICOM port: there exactly once, pixel data byte for byte.
func TestForwardByCStoreToOrthanc(t *testing.T) {
	p := optionalSample("medical/CT_small.dcm")
	if p == "" {
		t.Skip("needs ../shared/data/medical/CT_small.dcm (set EDGE_DATA)")
	}
	im, cont, err := medimg.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	orig, _ := os.ReadFile(p)
	srv := orthanctest.Start(t)
	dev := uplinktest.DeviceKey(t, "a")
	dir := newHubDirWith(t, hub.InitOptions{PACSDICOM: srv.AET + "@" + srv.DICOMAddr}, dev)
	th := startHub(t, dir, hub.Options{})
	d := newDevice(t, th, dev)
	d.enqueue(t, seal(t, hubPub(t, dir), dev, im, cont))
	if _, err := d.drain(t); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := th.hub.ForwardPending(ctx); err != nil {
		t.Fatal(err)
	}
	r := audit(t, th)[0]
	want, _ := scu.ParseFile(orig)
	if r.Forward != "done" || r.PACSID != want.SOPInstanceUID {
		t.Fatalf("record %+v, want done as %s", r, want.SOPInstanceUID)
	}
	// A hub that died between the PACS's answer and marking the record
	// sends the file again; the PACS keeps one instance.
	again := &scu.Client{Addr: srv.DICOMAddr, CalledAE: srv.AET, CallingAE: hub.DefaultCallingAE}
	if _, err := again.Store(ctx, orig); err != nil {
		t.Fatalf("second store: %v", err)
	}
	uids, err := srv.SOPInstanceUIDs(ctx)
	if err != nil || len(uids) != 1 || uids[want.SOPInstanceUID] != 1 {
		t.Fatalf("Orthanc holds %v (%v)", uids, err)
	}
	id, err := srv.Lookup(ctx, r.PACSID)
	if err != nil {
		t.Fatal(err)
	}
	got, err := srv.File(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(pixelData(t, got), pixelData(t, orig)) {
		t.Fatalf("Orthanc's pixel data (%d bytes) differs from the original's (%d)", len(pixelData(t, got)), len(pixelData(t, orig)))
	}
	gf, _ := scu.ParseFile(got)
	t.Logf("Orthanc keeps %s in %s; data set identical to the original's: %v", gf.SOPInstanceUID, gf.TransferSyntaxUID, bytes.Equal(gf.DataSet, want.DataSet))
}

// TestForwardByCStoreRefused forwards to PACSs that refuse: Orthanc called
// by a wrong AE title, and storescp refusing every association. Each is an
// error naming the rejection, retried by the hub's loop, never marked done.
func TestForwardByCStoreRefused(t *testing.T) {
	p := optionalSample("medical/CT_small.dcm")
	if p == "" {
		t.Skip("needs ../shared/data/medical/CT_small.dcm (set EDGE_DATA)")
	}
	im, cont, err := medimg.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	storescp := testenv.Tool(t, "storescp", "dcmtk")
	srv := orthanctest.Start(t)
	for _, tc := range []struct {
		name, pacs, want string
	}{
		{"wrong called AE", "NOT_" + srv.AET + "@" + srv.DICOMAddr, "called AE title not recognized"},
		{"storescp --refuse", "PACS@" + startStorescp(t, storescp, "--refuse"), "rejected permanently"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dev := uplinktest.DeviceKey(t, "a")
			dir := newHubDirWith(t, hub.InitOptions{PACSDICOM: tc.pacs}, dev)
			lg := newCountLog(t)
			th := startHub(t, dir, hub.Options{Logger: slog.New(lg)})
			d := newDevice(t, th, dev)
			d.enqueue(t, seal(t, hubPub(t, dir), dev, im, cont))
			if _, err := d.drain(t); err != nil {
				t.Fatal(err)
			}
			err := th.hub.ForwardPending(context.Background())
			var rj *ul.Rejection
			if !errors.As(err, &rj) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("forward: %v, want a rejection saying %q", err, tc.want)
			}
			// The serving hub's own loop tried on storing and tries again after
			// its backoff (1 s, then 2 s).
			for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(50 * time.Millisecond) {
				n, last := lg.count(retryMsg)
				if n >= 2 && strings.Contains(last, tc.want) {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("the forward loop logged %d failures, last %q", n, last)
				}
			}
			if r := audit(t, th)[0]; r.Forward != "pending" || r.PACSID != "" {
				t.Fatalf("after refusals: %+v", r)
			}
		})
	}
	if ids, err := srv.Instances(context.Background()); err != nil || len(ids) != 0 {
		t.Fatalf("Orthanc holds %v (%v)", ids, err)
	}
}

// startStorescp runs dcmtk's storescp with args on a free loopback port.
func startStorescp(t testing.TB, bin string, args ...string) string {
	t.Helper()
	port := freePort(t)
	runStorescp(t, bin, port, t.TempDir(), args...)
	return fmt.Sprintf("127.0.0.1:%d", port)
}

// runStorescp runs storescp as AE PACS on port, writing what it receives to
// out, and returns once it listens; the function it returns stops it.
func runStorescp(t testing.TB, bin string, port int, out string, args ...string) (stop func()) {
	t.Helper()
	cmd := exec.Command(bin, append(append([]string{"-aet", "PACS", "-od", out}, args...), fmt.Sprint(port))...)
	var log bytes.Buffer
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cmd.Process.Kill()
			cmd.Wait()
			if t.Failed() {
				t.Logf("storescp %v:\n%s", args, log.String())
			}
		})
	}
	t.Cleanup(stop)
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			return stop
		}
		if time.Now().After(deadline) {
			t.Fatalf("storescp did not listen on %s:\n%s", addr, log.String())
		}
	}
}

// An association profile for storescp that takes MR images only, so that a
// CT's presentation context is refused for its SOP class.
const mrOnlyProfile = `[[TransferSyntaxes]]
[Uncompressed]
TransferSyntax1 = LittleEndianExplicit
TransferSyntax2 = LittleEndianImplicit

[[PresentationContexts]]
[MR]
PresentationContext1 = MRImageStorage\Uncompressed

[[Profiles]]
[MROnly]
PresentationContexts = MR
`

// TestForwardPassesRefusedFile: a PACS (storescp taking MR only) refuses
// the CT queued ahead of an MR for its SOP class. The CT is marked refused
// with the PACS's words and the MR behind it is forwarded; once the PACS
// takes CTs too, the hub's next start sends the CT.
func TestForwardPassesRefusedFile(t *testing.T) {
	storescp := testenv.Tool(t, "storescp", "dcmtk")
	ctPath, mrPath := testenv.Path(t, "medical/CT_small.dcm"), testenv.Path(t, "medical/MR_small.dcm")
	cfg := filepath.Join(t.TempDir(), "mr.cfg")
	if err := os.WriteFile(cfg, []byte(mrOnlyProfile), 0o600); err != nil {
		t.Fatal(err)
	}
	// No PACS listens while the two arrive, so both wait in the queue, the
	// CT first.
	port := freePort(t)
	out := t.TempDir()
	dev := uplinktest.DeviceKey(t, "a")
	dir := newHubDirWith(t, hub.InitOptions{PACSDICOM: fmt.Sprintf("PACS@127.0.0.1:%d", port)}, dev)
	lg := newCountLog(t)
	th := startHub(t, dir, hub.Options{Logger: slog.New(lg)})
	d := newDevice(t, th, dev)
	for _, p := range []string{ctPath, mrPath} {
		im, cont, err := medimg.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		d.enqueue(t, seal(t, hubPub(t, dir), dev, im, cont))
		if _, err := d.drain(t); err != nil {
			t.Fatal(err)
		}
	}
	stopPACS := runStorescp(t, storescp, port, out, "-xf", cfg, "MROnly")
	if err := th.hub.ForwardPending(context.Background()); err != nil {
		t.Fatalf("a pass with a refused file: %v", err)
	}
	ctUID, mrUID := sopInstance(t, ctPath), sopInstance(t, mrPath)
	ct, mr := recordOf(t, th, ctUID), recordOf(t, th, mrUID)
	if ct.Seq > mr.Seq {
		t.Fatalf("the CT (record %d) was not queued ahead of the MR (%d)", ct.Seq, mr.Seq)
	}
	if ct.Forward != "refused" || !strings.Contains(ct.ForwardError, "abstract syntax not supported") || ct.Refused.IsZero() || ct.PACSID != "" {
		t.Fatalf("CT record: %+v", ct)
	}
	if mr.Forward != "done" || mr.PACSID != mrUID {
		t.Fatalf("MR record beside the refused CT: %+v", mr)
	}
	if n, _ := lg.count("hub: the PACS refused a file; it stays stored here and goes on with the others"); n != 1 {
		t.Fatalf("%d refusals logged", n)
	}
	if got := storedFiles(t, out); got != 1 {
		t.Fatalf("the PACS holds %d files, want the MR", got)
	}
	if h := healthz(t, th, dev); h["forward_refused"] != 1.0 || h["forward_pending"] != 0.0 {
		t.Fatalf("healthz after the refusal: %v", h)
	}

	// The PACS is set up to take every storage class; the hub restarts.
	th.stop()
	stopPACS()
	runStorescp(t, storescp, port, out)
	th = startHub(t, dir, hub.Options{})
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if r := recordOf(t, th, ctUID); r.Forward == "done" {
			if r.PACSID != ctUID || r.ForwardError != "" {
				t.Fatalf("CT record after the restart: %+v", r)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the CT was not sent again after the restart: %+v", recordOf(t, th, ctUID))
		}
	}
	if got := storedFiles(t, out); got != 2 {
		t.Fatalf("the PACS holds %d files, want the MR and the CT", got)
	}
}

// healthz is the hub's /healthz, read with dev's certificate.
func healthz(t testing.TB, th *testHub, dev uplink.DeviceKey) map[string]any {
	t.Helper()
	cert, err := dev.TLSCertificate(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	hc, err := tus.NewHTTPClient(th.pin, cert)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := hc.Get(th.url + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var h map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&h); err != nil {
		t.Fatal(err)
	}
	return h
}

func sopInstance(t testing.TB, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	f, err := scu.ParseFile(b)
	if err != nil {
		t.Fatal(err)
	}
	return f.SOPInstanceUID
}

// recordOf is the audit record whose restored image is instance uid.
func recordOf(t testing.TB, th *testHub, uid string) hub.Record {
	t.Helper()
	for _, r := range audit(t, th) {
		if r.Path != "" && sopInstance(t, r.Path) == uid {
			return r
		}
	}
	t.Fatalf("no record of instance %s", uid)
	return hub.Record{}
}

// storedFiles counts the files storescp wrote to dir.
func storedFiles(t testing.TB, dir string) int {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range ents {
		if e.Type().IsRegular() {
			n++
		}
	}
	return n
}
