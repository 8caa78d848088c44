package hub_test

import (
	"bytes"
	"context"
	"encoding/binary"
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
	cmd := exec.Command(bin, append(append([]string{"-aet", "PACS", "-od", t.TempDir()}, args...), fmt.Sprint(port))...)
	var log bytes.Buffer
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		if t.Failed() {
			t.Logf("storescp:\n%s", log.String())
		}
	})
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			return addr
		}
		if time.Now().After(deadline) {
			t.Fatalf("storescp did not listen on %s:\n%s", addr, log.String())
		}
	}
}
