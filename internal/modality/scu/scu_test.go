package scu

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"edge/internal/modality"
	"edge/internal/modality/dimse"
	"edge/internal/modality/ul"
)

// acceptor is a scripted storage SCP on the PDUs of package ul: it checks
// what the requester sends and answers as the test says.
type acceptor struct {
	maxPDU  uint32 // told to the requester
	result  byte   // for the proposed context
	status  uint16 // of the C-STORE-RSP
	comment string
	// answer, when set, replaces the A-ASSOCIATE-AC with these bytes.
	answer []byte

	rq       *ul.AssociateRQ
	longest  int // longest P-DATA-TF body received
	dataSet  []byte
	released bool
	aborted  bool
	err      error
}

func (a *acceptor) serve(t *testing.T) (string, <-chan struct{}) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer l.Close()
		c, err := l.Accept()
		if err != nil {
			a.err = err
			return
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(20 * time.Second))
		a.err = a.run(c)
	}()
	return l.Addr().String(), done
}

func (a *acceptor) run(c net.Conn) error {
	rd := ul.NewReader(c)
	typ, body, err := rd.Next(1 << 20)
	if err != nil || typ != ul.TypeAssociateRQ {
		return fmt.Errorf("want A-ASSOCIATE-RQ: %v %v", typ, err)
	}
	if a.rq, err = ul.ParseAssociateRQ(body); err != nil {
		return err
	}
	if a.answer != nil {
		c.Write(a.answer)
	} else {
		pc := a.rq.Contexts[0]
		ac := &ul.AssociateAC{CalledAE: a.rq.CalledAE, CallingAE: a.rq.CallingAE, MaxPDULength: a.maxPDU, ImplementationClassUID: "1.2.3",
			Results: []ul.ContextResult{{ID: pc.ID, Result: a.result, TransferSyntax: pc.TransferSyntaxes[0]}}}
		c.Write(ac.Marshal())
	}
	var cmd []byte
	var ctx byte
	for {
		typ, body, err := rd.Next(1 << 24)
		if err != nil {
			return fmt.Errorf("read: %w", err)
		}
		switch typ {
		case ul.TypeAbort:
			a.aborted = true
			return nil
		case ul.TypeReleaseRQ:
			a.released = true
			c.Write(ul.ReleaseRP())
			return nil
		case ul.TypePData:
		default:
			return fmt.Errorf("unexpected %v", typ)
		}
		a.longest = max(a.longest, len(body))
		last := false
		err = ul.EachPDV(body, func(p ul.PDV) error {
			ctx = p.Context
			if p.Command {
				cmd = append(cmd, p.Data...)
			} else {
				a.dataSet = append(a.dataSet, p.Data...)
				last = p.Last
			}
			return nil
		})
		if err != nil {
			return err
		}
		if !last {
			continue
		}
		rq, err := dimse.Parse(cmd)
		if err != nil {
			return err
		}
		if rq.Field != dimse.CStoreRQ || rq.AffectedSOPInstanceUID != a.rq.Contexts[0].AbstractSyntax && rq.AffectedSOPClassUID != a.rq.Contexts[0].AbstractSyntax {
			return fmt.Errorf("command %+v", rq)
		}
		rsp := &dimse.Response{Field: dimse.CStoreRSP, MessageIDRespondedTo: rq.MessageID, AffectedSOPClassUID: rq.AffectedSOPClassUID,
			AffectedSOPInstanceUID: rq.AffectedSOPInstanceUID, Status: a.status, ErrorComment: a.comment}
		if _, err := ul.WritePData(c, ctx, true, rsp.Marshal(), a.rq.MaxPDULength, nil); err != nil {
			return err
		}
	}
}

func client(addr string, t *testing.T) *Client {
	return &Client{Addr: addr, CalledAE: testCalled, CallingAE: testCalling, ConnectTimeout: 5 * time.Second, Timeout: 20 * time.Second, Log: testLog(t)}
}

func TestStoreHonoursPeerPDULengthAndWarning(t *testing.T) {
	file := synthFile(40_000)
	a := &acceptor{maxPDU: 4096, status: StatusDataSetMismatch, comment: "coerced"}
	addr, done := a.serve(t)
	res, err := client(addr, t).Store(context.Background(), file)
	<-done
	if err != nil || a.err != nil {
		t.Fatalf("store: %v; acceptor: %v", err, a.err)
	}
	if res.Status != StatusDataSetMismatch || res.SOPInstanceUID != testInst || res.ErrorComment != "coerced" {
		t.Fatalf("result %+v", res)
	}
	pc := a.rq.Contexts[0]
	if a.rq.CalledAE != testCalled || a.rq.CallingAE != testCalling || pc.AbstractSyntax != ctImage || len(pc.TransferSyntaxes) != 1 || pc.TransferSyntaxes[0] != explicitLE {
		t.Fatalf("request %+v", a.rq)
	}
	if a.longest > 4096 {
		t.Fatalf("a P-DATA-TF of %d bytes past the acceptor's 4096", a.longest)
	}
	f, _ := ParseFile(file)
	if !bytes.Equal(a.dataSet, f.DataSet) || !a.released {
		t.Fatalf("acceptor got %d of %d data set bytes, released %v", len(a.dataSet), len(f.DataSet), a.released)
	}
}

// TestStoreFailureStatus: every failure status is a *StatusError; those
// that refuse the file for what it is say so (the hub then goes on to the
// next file), those of the PACS's state do not (the hub retries).
func TestStoreFailureStatus(t *testing.T) {
	for st, refused := range map[uint16]bool{
		0xA701: false, 0x0110: false, 0xB001: false,
		0xA900: true, 0xC123: true, dimse.StatusSOPClassNotSupport: true, 0x0117: true,
	} {
		a := &acceptor{status: st, comment: "no room"}
		addr, done := a.serve(t)
		_, err := client(addr, t).Store(context.Background(), synthFile(100))
		<-done
		var se *StatusError
		if !errors.As(err, &se) || se.Status != st || !strings.Contains(err.Error(), fmt.Sprintf("0x%04X", st)) {
			t.Errorf("status %04X: err %v", st, err)
		} else if se.FileRefused() != refused {
			t.Errorf("status %04X: FileRefused %v", st, se.FileRefused())
		}
		if !a.released {
			t.Errorf("status %04X: not released (%v)", st, a.err)
		}
	}
}

func TestStoreContextRefused(t *testing.T) {
	a := &acceptor{result: ul.ResultAbstractSyntaxNotSupported}
	addr, done := a.serve(t)
	_, err := client(addr, t).Store(context.Background(), synthFile(100))
	<-done
	if err == nil || !strings.Contains(err.Error(), "abstract syntax not supported") || !a.released || a.dataSet != nil {
		t.Fatalf("err %v, released %v, %d bytes sent", err, a.released, len(a.dataSet))
	}
	var ce *ContextRefusedError
	if !errors.As(err, &ce) || !ce.FileRefused() || ce.SOPClassUID != ctImage {
		t.Fatalf("err %v is not a file refusal of %s", err, ctImage)
	}
}

func TestStoreAbortsOnProtocolError(t *testing.T) {
	for name, answer := range map[string][]byte{
		"P-DATA instead of AC":     append([]byte{4, 0, 0, 0, 0, 8, 0, 0, 0, 4, 1, 3}, "ab"...),
		"AC without user info":     append([]byte{2, 0, 0, 0, 0, 68 + 25}, append(append([]byte{0, 1}, make([]byte, 66)...), append([]byte{0x10, 0, 0, 21}, ul.ApplicationContext...)...)...),
		"AC answering context 3":   (&ul.AssociateAC{MaxPDULength: 1 << 14, Results: []ul.ContextResult{{ID: 3, TransferSyntax: explicitLE}}}).Marshal(),
		"AC in another syntax":     (&ul.AssociateAC{MaxPDULength: 1 << 14, Results: []ul.ContextResult{{ID: 1, TransferSyntax: implicitLE}}}).Marshal(),
		"AC longer than the limit": {2, 0, 0x7f, 0, 0, 0},
	} {
		a := &acceptor{answer: answer}
		addr, done := a.serve(t)
		_, err := client(addr, t).Store(context.Background(), synthFile(100))
		<-done
		var pe *ul.ProtocolError
		if !errors.As(err, &pe) || !a.aborted {
			t.Errorf("%s: err %v, aborted %v (%v)", name, err, a.aborted, a.err)
		}
	}
}

func TestStoreRejected(t *testing.T) {
	a := &acceptor{answer: ul.AssociateRJ(ul.RejectPermanent, ul.RejectSourceUser, ul.RejectCalledAE)}
	addr, done := a.serve(t)
	_, err := client(addr, t).Store(context.Background(), synthFile(100))
	<-done
	var rj *ul.Rejection
	if !errors.As(err, &rj) || !strings.Contains(err.Error(), "called AE title not recognized") {
		t.Fatalf("err %v", err)
	}
}

func TestStoreCancelAndTimeout(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			defer c.Close() // accepts and says nothing
		}
	}()
	c := client(l.Addr().String(), t)
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	if _, err := c.Store(ctx, synthFile(100)); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled: %v", err)
	}
	c.ConnectTimeout = 100 * time.Millisecond
	var ne net.Error
	if _, err := c.Store(context.Background(), synthFile(100)); !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("silent acceptor: %v", err)
	}
}

func TestParseFile(t *testing.T) {
	ds := synthDataSet(ctImage, testInst, 10)
	f, err := ParseFile(part10(ctImage, testInst, explicitLE, ds))
	if err != nil {
		t.Fatal(err)
	}
	if f.SOPClassUID != ctImage || f.SOPInstanceUID != testInst || f.TransferSyntaxUID != explicitLE || !bytes.Equal(f.DataSet, ds) {
		t.Fatalf("%+v", f)
	}
	good := part10(ctImage, testInst, explicitLE, ds)
	for name, b := range map[string][]byte{
		"short":           good[:100],
		"no DICM":         append(make([]byte, 132), good[132:]...),
		"meta past end":   good[:len(good)-len(ds)-4],
		"no instance":     part10(ctImage, "", explicitLE, ds),
		"bad ts":          part10(ctImage, testInst, "1.2.x", ds),
		"no data set":     part10(ctImage, testInst, explicitLE, nil),
		"huge meta group": append(append([]byte(nil), good[:140]...), 0xff, 0xff, 0xff, 0x7f),
	} {
		if _, err := ParseFile(b); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// consumer keeps what the in-repo storage SCP received, or fails as told.
type consumer struct {
	fail error
	got  []byte
}

func (c *consumer) Store(ctx context.Context, obj *modality.Object) error {
	if c.fail != nil {
		return c.fail
	}
	b, err := os.ReadFile(obj.Path)
	c.got = b
	return err
}

// TestStoreToModalityServer sends a real sample to this firmware's own
// C-STORE SCP, a second implementation of the other side.
func TestStoreToModalityServer(t *testing.T) {
	_, file := sample(t)
	for _, fail := range []error{nil, modality.ErrOutOfResources} {
		cons := &consumer{fail: fail}
		srv, err := modality.NewServer(modality.Config{AETitle: testCalled, SpoolDir: t.TempDir(), MaxPDULength: 4096}, cons, testLog(t))
		if err != nil {
			t.Fatal(err)
		}
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		served := make(chan error, 1)
		go func() { served <- srv.Serve(ctx, l) }()
		res, err := client(l.Addr().String(), t).Store(context.Background(), file)
		cancel()
		<-served
		if fail != nil {
			var se *StatusError
			if !errors.As(err, &se) || se.Status != dimse.StatusOutOfResources {
				t.Fatalf("failing consumer: %v", err)
			}
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		want, _ := ParseFile(file)
		got, err := ParseFile(cons.got)
		if err != nil {
			t.Fatal(err)
		}
		if res.Status != 0 || got.SOPInstanceUID != want.SOPInstanceUID || !bytes.Equal(got.DataSet, want.DataSet) {
			t.Fatalf("stored %+v, %d data set bytes of %d", res, len(got.DataSet), len(want.DataSet))
		}
	}
}

// TestStoreToStorescp stores a real sample on dcmtk's storescp, and checks
// the refusals dcmtk can make: the association, the presentation context,
// and an abort after the request.
func TestStoreToStorescp(t *testing.T) {
	_, file := sample(t)
	want, _ := ParseFile(file)
	dir := t.TempDir()
	// --bit-preserving: storescp writes the data set as it came, not re-encoded.
	res, err := client(storescp(t, dir, "--bit-preserving"), t).Store(context.Background(), file)
	if err != nil {
		t.Fatal(err)
	}
	paths, _ := filepath.Glob(filepath.Join(dir, "*"))
	if len(paths) != 1 || res.Status != 0 {
		t.Fatalf("storescp holds %v; result %+v", paths, res)
	}
	b, err := os.ReadFile(paths[0])
	if err != nil {
		t.Fatal(err)
	}
	got, err := ParseFile(b)
	if err != nil {
		t.Fatal(err)
	}
	if got.SOPInstanceUID != want.SOPInstanceUID || got.TransferSyntaxUID != want.TransferSyntaxUID || !bytes.Equal(got.DataSet, want.DataSet) {
		t.Fatalf("storescp keeps %s in %s, %d data set bytes of %d, equal %v", got.SOPInstanceUID, got.TransferSyntaxUID,
			len(got.DataSet), len(want.DataSet), bytes.Equal(got.DataSet, want.DataSet))
	}

	_, err = client(storescp(t, t.TempDir(), "--refuse"), t).Store(context.Background(), file)
	var rj *ul.Rejection
	if !errors.As(err, &rj) {
		t.Fatalf("storescp --refuse: %v", err)
	}
	t.Logf("storescp --refuse: %v", err)

	_, err = client(storescp(t, t.TempDir(), "+xi"), t).Store(context.Background(), file)
	if err == nil || !strings.Contains(err.Error(), "transfer syntaxes not supported") {
		t.Fatalf("storescp +xi (implicit VR only): %v", err)
	}

	_, err = client(storescp(t, t.TempDir(), "--abort-after"), t).Store(context.Background(), file)
	var ae *AbortError
	if !errors.As(err, &ae) {
		t.Fatalf("storescp --abort-after: %v", err)
	}
}
