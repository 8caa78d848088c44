package modality

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"edge/internal/modality/dimse"
	"edge/internal/modality/ul"
)

var update = flag.Bool("update", false, "record the dcmtk exchanges under testdata/ and rewrite the fuzz seeds under testdata/fuzz")

// scriptConn is a connection whose peer is a recorded byte stream: reads
// come from the stream (then io.EOF), writes are kept.
type scriptConn struct {
	r   io.Reader
	out bytes.Buffer
}

func (c *scriptConn) Read(p []byte) (int, error)  { return c.r.Read(p) }
func (c *scriptConn) Write(p []byte) (int, error) { return c.out.Write(p) }
func (c *scriptConn) Close() error                { return nil }
func (c *scriptConn) LocalAddr() net.Addr         { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 104} }
func (c *scriptConn) RemoteAddr() net.Addr {
	return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 50000}
}
func (c *scriptConn) SetDeadline(t time.Time) error      { return nil }
func (c *scriptConn) SetReadDeadline(t time.Time) error  { return nil }
func (c *scriptConn) SetWriteDeadline(t time.Time) error { return nil }

// replay runs one association whose requester's side is stream and returns
// what the provider sent.
func replay(srv *Server, stream []byte) []byte {
	c := &scriptConn{r: bytes.NewReader(stream)}
	newAssociation(srv, c).run(context.Background())
	return c.out.Bytes()
}

// recorder is a TCP proxy that keeps what the requester sends.
type recorder struct {
	l    net.Listener
	mu   sync.Mutex
	sent bytes.Buffer
	wg   sync.WaitGroup
}

func record(t *testing.T, upstream string) *recorder {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := &recorder{l: l}
	r.wg.Go(func() {
		c, err := l.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		u, err := net.Dial("tcp", upstream)
		if err != nil {
			return
		}
		defer u.Close()
		var wg sync.WaitGroup
		wg.Go(func() { io.Copy(c, u) })
		io.Copy(io.MultiWriter(u, &lockedWriter{&r.mu, &r.sent}), c)
		u.(*net.TCPConn).CloseWrite()
		wg.Wait()
	})
	return r
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func (r *recorder) port() string { return fmt.Sprint(r.l.Addr().(*net.TCPAddr).Port) }

func (r *recorder) bytes() []byte {
	r.wg.Wait()
	r.l.Close()
	return r.sent.Bytes()
}

// exchanges are what dcmtk's tools sent, recorded with -update against this
// provider: an echo, and two synthetic objects in 4 KiB PDUs.
var exchanges = []string{"echoscu.bin", "storescu.bin"}

// TestRecordExchanges records what the installed dcmtk's echoscu and
// storescu send to this provider and replays each fresh recording as
// TestReplayExchanges does the committed ones; -update commits them.
func TestRecordExchanges(t *testing.T) {
	ts := startServer(t, nil, nil)
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a.dcm"), filepath.Join(dir, "b.dcm")
	synthObject(t, a, secondaryCapture, "1.2.3.10.1", 10000)
	synthObject(t, b, secondaryCapture, "1.2.3.10.2", 300)
	for _, name := range exchanges {
		r := record(t, ts.addr)
		var out string
		var err error
		if name == "echoscu.bin" {
			out, err = dcmtk(t, "echoscu", "-aet", "MODALITY", "-aec", testAE, "127.0.0.1", r.port())
		} else {
			out, err = dcmtk(t, "storescu", "-pdu", "4096", "-aet", "MODALITY", "-aec", testAE, "127.0.0.1", r.port(), a, b)
		}
		if err != nil {
			t.Fatalf("%s: %v\n%s", name, err, out)
		}
		stream := r.bytes()
		t.Run(name, func(t *testing.T) { checkReplay(t, name, stream) })
		if *update {
			if err := os.WriteFile(filepath.Join("testdata", name), stream, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// pdus splits a stream into whole PDUs.
func pdus(t testing.TB, stream []byte) (types []ul.Type, bodies [][]byte) {
	rd := ul.NewReader(bytes.NewReader(stream))
	for {
		typ, body, err := rd.Next(1 << 20)
		if err == io.EOF {
			return types, bodies
		}
		if err != nil {
			t.Fatalf("recorded stream: %v", err)
		}
		types = append(types, typ)
		bodies = append(bodies, append([]byte(nil), body...))
	}
}

func readExchange(t testing.TB, name string) []byte {
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatalf("%v (record with go test -run TestRecordExchanges -update)", err)
	}
	return b
}

// TestReplayExchanges plays the recorded requesters against the provider and
// checks each answer.
func TestReplayExchanges(t *testing.T) {
	for _, name := range exchanges {
		t.Run(name, func(t *testing.T) { checkReplay(t, name, readExchange(t, name)) })
	}
}

// checkReplay plays one recorded requester, stream, against the provider
// and checks each answer.
func checkReplay(t *testing.T, name string, stream []byte) {
	dir := t.TempDir()
	srv, err := NewServer(Config{AETitle: testAE, SpoolDir: filepath.Join(dir, "spool")}, &DirStore{Dir: dir}, nil)
	if err != nil {
		t.Fatal(err)
	}
	os.MkdirAll(filepath.Join(dir, "spool"), 0o700)
	types, bodies := pdus(t, replay(srv, stream))
	var statuses []uint16
	var cmd []byte
	for i, typ := range types {
		if typ != ul.TypePData {
			continue
		}
		ul.EachPDV(bodies[i], func(p ul.PDV) error {
			cmd = append(cmd, p.Data...)
			if p.Last {
				c, err := dimse.Parse(cmd)
				if err != nil {
					t.Fatal(err)
				}
				statuses = append(statuses, c.Status)
				cmd = nil
			}
			return nil
		})
	}
	want := []uint16{0}
	if name == "storescu.bin" {
		want = []uint16{0, 0}
		// Each stored file is its meta, then exactly the data set
		// fragments storescu sent, in order.
		sent := dataSets(t, stream)
		for i, uid := range []string{"1.2.3.10.1", "1.2.3.10.2"} {
			b, err := os.ReadFile(filepath.Join(dir, FileName(uid)))
			if err != nil {
				t.Fatalf("not stored: %v", err)
			}
			m := fileMeta(t, filepath.Join(dir, FileName(uid)))
			head := appendMeta(nil, m)
			if !bytes.Equal(b[:min(len(b), len(head))], head) || !bytes.Equal(b[len(head):], sent[i]) {
				t.Errorf("%s: stored data set is not the %d bytes storescu sent", uid, len(sent[i]))
			}
		}
	}
	if len(types) == 0 || types[0] != ul.TypeAssociateAC || types[len(types)-1] != ul.TypeReleaseRP || fmt.Sprint(statuses) != fmt.Sprint(want) {
		t.Errorf("answers %v, statuses %v", types, statuses)
	}
}

// discardStore accepts every object without keeping it.
type discardStore struct{}

func (discardStore) Store(context.Context, *Object) error { return nil }

func fuzzSpool(f *testing.F) string {
	base := ""
	if st, err := os.Stat("/dev/shm"); err == nil && st.IsDir() {
		base = "/dev/shm"
	}
	d, err := os.MkdirTemp(base, "modality-fuzz")
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { os.RemoveAll(d) })
	return d
}

// FuzzAssociation plays any byte stream as a requester: whatever it is, the
// association ends (the stream's end closes it), without a panic, and leaves
// nothing in the spool folder.
func FuzzAssociation(f *testing.F) {
	for _, name := range exchanges {
		if b, err := os.ReadFile(filepath.Join("testdata", name)); err == nil {
			f.Add(b)
		}
	}
	// Short streams that reach each state and each DIMSE path, for the
	// mutator to start from.
	rq := stdRQ(testAE, "CART").Marshal()
	echo := (&dimse.Request{Field: dimse.CEchoRQ, MessageID: 1, AffectedSOPClassUID: VerificationSOPClass, DataSetType: dimse.NoDataSet}).Marshal()
	ds := dataset(secondaryCapture, "1.2.3.9")
	join := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
	f.Add(join(rq, pdata(1, true, true, echo), ul.ReleaseRQ()))
	f.Add(join(rq, pdata(3, true, true, storeRQ(1, "1.2.3.9")), pdata(3, false, false, ds[:7]), pdata(3, false, true, ds[7:]), ul.ReleaseRQ()))
	f.Add(join(rq, pdata(3, true, false, storeRQ(1, "1.2.3.9")[:9]), pdata(3, true, true, storeRQ(1, "1.2.3.9")[9:]), pdata(3, false, true, ds)))
	f.Add(join(rq, pdata(3, true, true, storeRQ(1, "1.2.3.9")), pdata(3, false, false, ds), ul.Abort(0, 0)))
	f.Add(join(stdRQ("OTHER", "CART").Marshal(), ul.ReleaseRQ()))
	spool := fuzzSpool(f)
	srv, err := NewServer(Config{AETitle: testAE, SpoolDir: spool, MaxPDULength: 4096, MaxObjectSize: 1 << 20}, discardStore{}, nil)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, stream []byte) {
		out := replay(srv, stream)
		rd := ul.NewReader(bytes.NewReader(out))
		for {
			_, _, err := rd.Next(1 << 20)
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("provider sent a malformed PDU: %v", err)
			}
		}
		if ents, _ := os.ReadDir(spool); len(ents) != 0 {
			t.Fatalf("spool holds %s", ents[0].Name())
		}
	})
}

// TestFuzzSeeds writes the seeds of the ul and dimse fuzz targets from the
// recorded exchanges (-update) and otherwise checks they are in step.
func TestFuzzSeeds(t *testing.T) {
	seeds := map[string][][]byte{}
	for _, name := range exchanges {
		stream := readExchange(t, name)
		seeds["ul/testdata/fuzz/FuzzReader"] = append(seeds["ul/testdata/fuzz/FuzzReader"], stream)
		types, bodies := pdus(t, stream)
		var cmd []byte
		for i, typ := range types {
			switch typ {
			case ul.TypeAssociateRQ:
				seeds["ul/testdata/fuzz/FuzzAssociateRQ"] = append(seeds["ul/testdata/fuzz/FuzzAssociateRQ"], bodies[i])
			case ul.TypePData:
				ul.EachPDV(bodies[i], func(p ul.PDV) error {
					if p.Command {
						cmd = append(cmd, p.Data...)
						if p.Last {
							seeds["dimse/testdata/fuzz/FuzzParse"] = append(seeds["dimse/testdata/fuzz/FuzzParse"], cmd)
							cmd = nil
						}
					}
					return nil
				})
			}
		}
	}
	for dir, list := range seeds {
		for i, s := range list {
			path := filepath.Join(dir, fmt.Sprintf("dcmtk-%d", i))
			want := fmt.Appendf(nil, "go test fuzz v1\n[]byte(%q)\n", s)
			if *update {
				os.MkdirAll(filepath.Dir(path), 0o755)
				if err := os.WriteFile(path, want, 0o644); err != nil {
					t.Fatal(err)
				}
				continue
			}
			got, err := os.ReadFile(path)
			if err != nil || !bytes.Equal(got, want) {
				t.Errorf("%s is not in step with testdata/*.bin (go test -run 'TestRecordExchanges|TestFuzzSeeds' -update): %v", path, err)
			}
		}
	}
}

// FuzzNegotiate answers any A-ASSOCIATE-RQ that parses: every proposed
// context gets exactly one result in the A-ASSOCIATE-AC, acceptance only for
// a supported abstract syntax with a transfer syntax that was proposed and is
// supported, and the AC reads back with the same results.
func FuzzNegotiate(f *testing.F) {
	for _, name := range exchanges {
		if b, err := os.ReadFile(filepath.Join("testdata", name)); err == nil {
			types, bodies := pdus(f, b)
			if len(types) > 0 && types[0] == ul.TypeAssociateRQ {
				f.Add(bodies[0])
			}
		}
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		rq, err := ul.ParseAssociateRQ(body)
		if err != nil {
			return
		}
		ac := &ul.AssociateAC{CalledAE: rq.CalledAE, CallingAE: rq.CallingAE, MaxPDULength: 16384,
			ImplementationClassUID: ImplementationClassUID, ImplementationVersion: ImplementationVersion}
		for _, pc := range rq.Contexts {
			r := negotiate(pc)
			if r.ID != pc.ID {
				t.Fatalf("result for context %d answers %d", pc.ID, r.ID)
			}
			supported := pc.AbstractSyntax == VerificationSOPClass || IsStorageClass(pc.AbstractSyntax)
			switch r.Result {
			case ul.ResultAcceptance:
				if !supported || !IsTransferSyntax(r.TransferSyntax) || !slicesContains(pc.TransferSyntaxes, r.TransferSyntax) {
					t.Fatalf("accepted %+v with %s", pc, r.TransferSyntax)
				}
			case ul.ResultAbstractSyntaxNotSupported:
				if supported {
					t.Fatalf("refused supported abstract syntax %s", pc.AbstractSyntax)
				}
			case ul.ResultTransferSyntaxNotSupported:
				for _, ts := range pc.TransferSyntaxes {
					if supported && IsTransferSyntax(ts) {
						t.Fatalf("refused %+v though %s is supported", pc, ts)
					}
				}
			default:
				t.Fatalf("result %d", r.Result)
			}
			ac.Results = append(ac.Results, r)
		}
		pdu := ac.Marshal()
		if len(pdu) > maxAssociateRQ+ul.HeaderLen {
			t.Fatalf("A-ASSOCIATE-AC of %d bytes", len(pdu))
		}
		back := acResults(t, pdu[ul.HeaderLen:])
		if len(back) != len(rq.Contexts) {
			t.Fatalf("AC carries %d results for %d contexts", len(back), len(rq.Contexts))
		}
		for _, r := range ac.Results {
			if b := back[r.ID]; b.Result != r.Result || (r.Result == ul.ResultAcceptance && b.TransferSyntax != r.TransferSyntax) {
				t.Fatalf("context %d: AC says %+v, negotiated %+v", r.ID, b, r)
			}
		}
	})
}

func slicesContains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// dataSets joins the data set fragments of each object in a recorded
// requester stream.
func dataSets(t *testing.T, stream []byte) [][]byte {
	types, bodies := pdus(t, stream)
	var out [][]byte
	var cur []byte
	for i, typ := range types {
		if typ != ul.TypePData {
			continue
		}
		ul.EachPDV(bodies[i], func(p ul.PDV) error {
			if !p.Command {
				cur = append(cur, p.Data...)
				if p.Last {
					out = append(out, cur)
					cur = nil
				}
			}
			return nil
		})
	}
	return out
}
