package modality

import (
	"bufio"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"edge/internal/modality/dimse"
	"edge/internal/modality/ul"
)

// rawPeer is a requester written against PS3.8 byte by byte, for what
// dcmtk's tools never send: malformed PDUs, odd fragmentations, mismatched
// UIDs.
type rawPeer struct {
	t    *testing.T
	conn net.Conn
	rd   *ul.Reader
}

func dial(t *testing.T, ts *testServer) *rawPeer {
	t.Helper()
	c, err := net.DialTimeout("tcp", ts.addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &rawPeer{t: t, conn: c, rd: ul.NewReader(bufio.NewReader(c))}
}

func (p *rawPeer) send(b []byte) {
	p.t.Helper()
	p.conn.SetWriteDeadline(time.Now().Add(5 * time.Second))
	if _, err := p.conn.Write(b); err != nil {
		p.t.Fatalf("send: %v", err)
	}
}

// next reads one PDU, failing the test after 5 s.
func (p *rawPeer) next() (ul.Type, []byte) {
	p.t.Helper()
	p.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	typ, body, err := p.rd.Next(1 << 20)
	if err != nil {
		p.t.Fatalf("read PDU: %v", err)
	}
	return typ, append([]byte(nil), body...)
}

func (p *rawPeer) expect(want ul.Type) []byte {
	p.t.Helper()
	typ, body := p.next()
	if typ != want {
		p.t.Fatalf("got %v %x, want %v", typ, body, want)
	}
	return body
}

// expectClosed checks that the provider closes the connection.
func (p *rawPeer) expectClosed() {
	p.t.Helper()
	p.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	var b [1]byte
	for {
		_, err := p.conn.Read(b[:])
		if errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed) || isReset(err) {
			return
		}
		if err != nil {
			p.t.Fatalf("connection not closed: %v", err)
		}
	}
}

func isReset(err error) bool { return err != nil && strings.Contains(err.Error(), "reset by peer") }

func stdRQ(called, calling string, contexts ...ul.PresentationContext) *ul.AssociateRQ {
	if len(contexts) == 0 {
		contexts = []ul.PresentationContext{
			{ID: 1, AbstractSyntax: VerificationSOPClass, TransferSyntaxes: []string{ImplicitVRLittleEndian}},
			{ID: 3, AbstractSyntax: secondaryCapture, TransferSyntaxes: []string{ExplicitVRLittleEndian, ImplicitVRLittleEndian}},
		}
	}
	return &ul.AssociateRQ{
		ProtocolVersion: 1, CalledAE: called, CallingAE: calling, ApplicationContext: ul.ApplicationContext,
		Contexts: contexts, MaxPDULength: 16384, ImplementationClassUID: "1.2.3.4",
	}
}

// acResults parses the presentation context items of an A-ASSOCIATE-AC.
func acResults(t *testing.T, body []byte) map[byte]ul.ContextResult {
	t.Helper()
	res := map[byte]ul.ContextResult{}
	b := body[68:]
	for len(b) >= 4 {
		n := int(binary.BigEndian.Uint16(b[2:]))
		if b[0] == 0x21 {
			v := b[4 : 4+n]
			r := ul.ContextResult{ID: v[0], Result: v[2]}
			if len(v) > 8 {
				r.TransferSyntax = strings.TrimRight(string(v[8:]), "\x00")
			}
			res[v[0]] = r
		}
		b = b[4+n:]
	}
	return res
}

func (p *rawPeer) associate(rq *ul.AssociateRQ) map[byte]ul.ContextResult {
	p.t.Helper()
	p.send(rq.Marshal())
	return acResults(p.t, p.expect(ul.TypeAssociateAC))
}

// response reads one whole command set.
func (p *rawPeer) response() *dimse.Command {
	p.t.Helper()
	var cmd []byte
	for {
		body := p.expect(ul.TypePData)
		last := false
		ul.EachPDV(body, func(v ul.PDV) error {
			cmd = append(cmd, v.Data...)
			last = v.Last
			return nil
		})
		if last {
			break
		}
	}
	c, err := dimse.Parse(cmd)
	if err != nil {
		p.t.Fatalf("response: %v", err)
	}
	return c
}

func pdata(ctx byte, command, last bool, data []byte) []byte {
	mch := byte(0)
	if command {
		mch |= 1
	}
	if last {
		mch |= 2
	}
	b := []byte{byte(ul.TypePData), 0}
	b = binary.BigEndian.AppendUint32(b, uint32(6+len(data)))
	b = binary.BigEndian.AppendUint32(b, uint32(2+len(data)))
	b = append(b, ctx, mch)
	return append(b, data...)
}

// dataset is a small data set in explicit VR little endian.
func dataset(class, inst string) []byte {
	var b []byte
	el := func(elem uint16, vr string, v []byte) {
		b = binary.LittleEndian.AppendUint16(b, 0x0008)
		b = binary.LittleEndian.AppendUint16(b, elem)
		b = append(b, vr...)
		b = binary.LittleEndian.AppendUint16(b, uint16(len(v)))
		b = append(b, v...)
	}
	el(0x0016, "UI", padUID(class))
	el(0x0018, "UI", padUID(inst))
	el(0x0060, "CS", []byte("OT"))
	return b
}

func storeRQ(id uint16, inst string) []byte {
	return (&dimse.Request{Field: dimse.CStoreRQ, MessageID: id, AffectedSOPClassUID: secondaryCapture, AffectedSOPInstanceUID: inst, DataSetType: 0}).Marshal()
}

func TestRejections(t *testing.T) {
	ts := startServer(t, func(c *Config) { c.AllowCallingAE = []string{"CART1", "CART2"} }, nil)
	for _, c := range []struct {
		name                   string
		rq                     *ul.AssociateRQ
		result, source, reason byte
	}{
		{"calling AE not allowed", stdRQ(testAE, "INTRUDER"), ul.RejectPermanent, ul.RejectSourceUser, ul.RejectCallingAE},
		{"wrong called AE", stdRQ("PACS", "CART1"), ul.RejectPermanent, ul.RejectSourceUser, ul.RejectCalledAE},
		{"application context", func() *ul.AssociateRQ { r := stdRQ(testAE, "CART1"); r.ApplicationContext = "1.2.3"; return r }(), ul.RejectPermanent, ul.RejectSourceUser, ul.RejectAppContext},
		{"protocol version", func() *ul.AssociateRQ { r := stdRQ(testAE, "CART1"); r.ProtocolVersion = 2; return r }(), ul.RejectPermanent, ul.RejectSourceACSE, ul.RejectProtocolVersion},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := dial(t, ts)
			p.send(c.rq.Marshal())
			body := p.expect(ul.TypeAssociateRJ)
			if body[1] != c.result || body[2] != c.source || body[3] != c.reason {
				t.Errorf("A-ASSOCIATE-RJ result %d source %d reason %d, want %d %d %d", body[1], body[2], body[3], c.result, c.source, c.reason)
			}
			p.conn.Close()
		})
	}
	// The same through dcmtk.
	out, err := dcmtk(t, "echoscu", "-aet", "INTRUDER", "-aec", testAE, "127.0.0.1", ts.port)
	if err == nil || !strings.Contains(out, "Calling AE Title Not Recognized") {
		t.Errorf("echoscu with a calling AE not allowed: %v\n%s", err, out)
	}
	out, err = dcmtk(t, "echoscu", "-aet", "CART1", "-aec", "PACS", "127.0.0.1", ts.port)
	if err == nil || !strings.Contains(out, "Called AE Title Not Recognized") {
		t.Errorf("echoscu with a wrong called AE: %v\n%s", err, out)
	}
	if out, err := dcmtk(t, "echoscu", "-aet", "CART2", "-aec", testAE, "127.0.0.1", ts.port); err != nil {
		t.Errorf("echoscu from an allowed AE: %v\n%s", err, out)
	}
}

func TestSourceAddressRejected(t *testing.T) {
	ts := startServer(t, func(c *Config) { c.AllowSources = []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")} }, nil)
	p := dial(t, ts)
	p.send(stdRQ(testAE, "CART").Marshal())
	if body := p.expect(ul.TypeAssociateRJ); body[1] != ul.RejectPermanent || body[2] != ul.RejectSourceUser || body[3] != ul.RejectNoReason {
		t.Errorf("A-ASSOCIATE-RJ %x", body)
	}
	ts2 := startServer(t, func(c *Config) { c.AllowSources = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")} }, nil)
	dial(t, ts2).associate(stdRQ(testAE, "CART"))
}

func TestAssociationLimit(t *testing.T) {
	ts := startServer(t, func(c *Config) { c.MaxAssociations = 1 }, nil)
	first := dial(t, ts)
	first.associate(stdRQ(testAE, "CART"))
	second := dial(t, ts)
	second.send(stdRQ(testAE, "CART").Marshal())
	if body := second.expect(ul.TypeAssociateRJ); body[1] != ul.RejectTransient || body[2] != ul.RejectSourcePresentation || body[3] != ul.RejectLocalLimitExceeded {
		t.Errorf("A-ASSOCIATE-RJ %x, want transient, presentation, local limit exceeded", body)
	}
	first.send(ul.ReleaseRQ())
	first.expect(ul.TypeReleaseRP)
	first.conn.Close()
	// Once the first is gone, a new one is accepted.
	deadline := time.Now().Add(5 * time.Second)
	for {
		p := dial(t, ts)
		p.send(stdRQ(testAE, "CART").Marshal())
		p.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		if typ, _, err := p.rd.Next(1 << 20); err == nil && typ == ul.TypeAssociateAC {
			break
		}
		p.conn.Close()
		if time.Now().After(deadline) {
			t.Fatal("association refused after the first was released")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestNegotiation(t *testing.T) {
	ts := startServer(t, nil, nil)
	res := dial(t, ts).associate(stdRQ(testAE, "CART",
		ul.PresentationContext{ID: 1, AbstractSyntax: "1.2.840.10008.5.1.4.1.1.481.3", TransferSyntaxes: []string{ImplicitVRLittleEndian}}, // RT Structure Set
		ul.PresentationContext{ID: 3, AbstractSyntax: "1.2.840.10008.5.1.4.1.1.1", TransferSyntaxes: []string{"1.2.840.10008.1.2.4.90"}},   // CR in JPEG 2000
		ul.PresentationContext{ID: 5, AbstractSyntax: "1.2.840.10008.5.1.4.1.1.1", TransferSyntaxes: []string{"1.2.840.10008.1.2.2", ImplicitVRLittleEndian, ExplicitVRLittleEndian}},
		ul.PresentationContext{ID: 7, AbstractSyntax: "1.2.840.10008.5.1.4.1.1.3.1", TransferSyntaxes: []string{ImplicitVRLittleEndian}},
		ul.PresentationContext{ID: 9, AbstractSyntax: "1.2.840.10008.5.1.4.1.1.1", TransferSyntaxes: []string{"1.2.840.10008.1.2.1.99"}}, // deflated
	))
	want := map[byte]ul.ContextResult{
		1: {ID: 1, Result: ul.ResultAbstractSyntaxNotSupported},
		3: {ID: 3, Result: ul.ResultTransferSyntaxNotSupported},
		5: {ID: 5, Result: ul.ResultAcceptance, TransferSyntax: ExplicitVRLittleEndian},
		7: {ID: 7, Result: ul.ResultAcceptance, TransferSyntax: ImplicitVRLittleEndian},
		9: {ID: 9, Result: ul.ResultTransferSyntaxNotSupported},
	}
	for id, w := range want {
		g := res[id]
		if g.Result != w.Result || (w.Result == ul.ResultAcceptance && g.TransferSyntax != w.TransferSyntax) {
			t.Errorf("context %d: %+v, want %+v", id, g, w)
		}
	}
}

func TestStoreKeepsDataSetBytes(t *testing.T) {
	ts := startServer(t, nil, nil)
	p := dial(t, ts)
	p.associate(stdRQ(testAE, "CART"))
	ds := dataset(secondaryCapture, "1.2.3.7.1")
	// Odd fragments, one byte at a time for the first ten.
	p.send(pdata(3, true, true, storeRQ(1, "1.2.3.7.1")))
	for i := range 10 {
		p.send(pdata(3, false, false, ds[i:i+1]))
	}
	p.send(pdata(3, false, true, ds[10:]))
	if r := p.response(); r.Field != dimse.CStoreRSP || r.Status != 0 || r.MessageIDRespondedTo != 1 || r.AffectedSOPInstanceUID != "1.2.3.7.1" {
		t.Fatalf("response %+v", r)
	}
	b, err := os.ReadFile(filepath.Join(ts.out, "1.2.3.7.1.dcm"))
	if err != nil {
		t.Fatal(err)
	}
	wantMeta := appendMeta(nil, meta{SOPClassUID: secondaryCapture, SOPInstanceUID: "1.2.3.7.1", TransferSyntaxUID: ExplicitVRLittleEndian, SourceAE: "CART"})
	if string(b) != string(wantMeta)+string(ds) {
		t.Errorf("stored file is not the meta followed by the data set as sent")
	}
	// C-ECHO on the same association.
	p.send(pdata(1, true, true, (&dimse.Request{Field: dimse.CEchoRQ, MessageID: 2, AffectedSOPClassUID: VerificationSOPClass, DataSetType: dimse.NoDataSet}).Marshal()))
	if r := p.response(); r.Field != dimse.CEchoRSP || r.Status != 0 || r.MessageIDRespondedTo != 2 {
		t.Fatalf("echo response %+v", r)
	}
	p.send(ul.ReleaseRQ())
	p.expect(ul.TypeReleaseRP)
}

func TestStoreRefusals(t *testing.T) {
	ts := startServer(t, func(c *Config) { c.MaxObjectSize = 1000 }, nil)
	p := dial(t, ts)
	p.associate(stdRQ(testAE, "CART"))
	for _, c := range []struct {
		name   string
		cmd    []byte
		ds     []byte
		status uint16
	}{
		{"instance UID differs", storeRQ(1, "1.2.3.8.1"), dataset(secondaryCapture, "1.2.3.8.2"), dimse.StatusDataSetMismatch},
		{"class UID differs", storeRQ(2, "1.2.3.8.3"), dataset("1.2.840.10008.5.1.4.1.1.2", "1.2.3.8.3"), dimse.StatusDataSetMismatch},
		{"empty data set", storeRQ(5, "1.2.3.8.6"), []byte{}, dimse.StatusDataSetMismatch},
		{"too large", storeRQ(3, "1.2.3.8.4"), append(dataset(secondaryCapture, "1.2.3.8.4"), make([]byte, 2000)...), dimse.StatusOutOfResources},
		{"SOP class not the context's", (&dimse.Request{Field: dimse.CStoreRQ, MessageID: 4, AffectedSOPClassUID: "1.2.840.10008.5.1.4.1.1.2", AffectedSOPInstanceUID: "1.2.3.8.5"}).Marshal(), dataset("1.2.840.10008.5.1.4.1.1.2", "1.2.3.8.5"), dimse.StatusSOPClassNotSupport},
	} {
		p.send(pdata(3, true, true, c.cmd))
		if len(c.ds) == 0 {
			p.send(pdata(3, false, true, nil))
		}
		for off := 0; off < len(c.ds); off += 500 {
			end := min(off+500, len(c.ds))
			p.send(pdata(3, false, end == len(c.ds), c.ds[off:end]))
		}
		r := p.response()
		rq, _ := dimse.Parse(c.cmd)
		if r.Status != c.status || r.MessageIDRespondedTo != rq.MessageID || r.ErrorComment == "" {
			t.Errorf("%s: status %04X comment %q, want %04X with a comment", c.name, r.Status, r.ErrorComment, c.status)
		}
	}
	ents, _ := os.ReadDir(ts.out)
	for _, e := range ents {
		if e.Name() != ".incoming" {
			t.Errorf("stored %s", e.Name())
		}
	}
	if ents, _ := os.ReadDir(ts.spool); len(ents) != 0 {
		t.Errorf("spool holds %s", ents[0].Name())
	}
}

// TestMalformedInput sends what breaks PS3.8 or PS3.7: each gets an A-ABORT
// and the connection closed, nothing stored.
func TestMalformedInput(t *testing.T) {
	ts := startServer(t, func(c *Config) { c.MaxPDULength = 4096; c.ARTIMTimeout = 300 * time.Millisecond }, nil)
	rq := stdRQ(testAE, "CART").Marshal()
	hdr := func(typ byte, n uint32) []byte {
		return binary.BigEndian.AppendUint32([]byte{typ, 0}, n)
	}
	cmd := storeRQ(1, "1.2.3.9.1")
	for _, c := range []struct {
		name      string
		associate bool
		send      [][]byte
		reason    ul.AbortReason
	}{
		{"unknown PDU type", false, [][]byte{append(hdr(0x09, 4), 0, 0, 0, 0)}, ul.AbortUnrecognizedPDU},
		{"P-DATA before association", false, [][]byte{pdata(1, true, true, cmd)}, ul.AbortUnexpectedPDU},
		{"A-ASSOCIATE-RQ of 4 GiB", false, [][]byte{hdr(0x01, 0xFFFFFFFF)}, ul.AbortInvalidParam},
		{"item past the PDU", false, [][]byte{func() []byte {
			b := append([]byte(nil), rq...)
			binary.BigEndian.PutUint16(b[6+68+2:], 0xFFF0)
			return b
		}()}, ul.AbortInvalidParam},
		{"release with a long body", false, [][]byte{append(hdr(0x05, 8), make([]byte, 8)...)}, ul.AbortInvalidParam},
		{"P-DATA past the maximum length", true, [][]byte{hdr(0x04, 4097)}, ul.AbortInvalidParam},
		{"PDV past the PDU", true, [][]byte{append(hdr(0x04, 8), 0, 0, 0, 100, 3, 3, 0, 0)}, ul.AbortInvalidParam},
		{"PDV of an unknown context", true, [][]byte{pdata(5, true, true, cmd)}, ul.AbortUnexpectedParam},
		{"data without a command", true, [][]byte{pdata(3, false, true, []byte{1, 2})}, ul.AbortUnexpectedParam},
		{"garbage after the command", true, [][]byte{pdata(3, true, true, append(append([]byte(nil), cmd...), 1, 2, 3, 4, 5, 6, 7, 8))}, ul.AbortInvalidParam},
		{"command group length wrong", true, [][]byte{func() []byte {
			b := append([]byte(nil), cmd...)
			b[8]++
			return pdata(3, true, true, b)
		}()}, ul.AbortInvalidParam},
		{"second A-ASSOCIATE-RQ", true, [][]byte{rq}, ul.AbortUnexpectedPDU},
		{"release in the middle of a data set", true, [][]byte{pdata(3, true, true, cmd), pdata(3, false, false, []byte{8, 0}), ul.ReleaseRQ()}, ul.AbortUnexpectedPDU},
		{"command while a data set arrives", true, [][]byte{pdata(3, true, true, cmd), pdata(3, false, false, []byte{8, 0}), pdata(3, true, true, cmd)}, ul.AbortUnexpectedParam},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := dial(t, ts)
			if c.associate {
				p.associate(stdRQ(testAE, "CART"))
			}
			for _, b := range c.send {
				p.send(b)
			}
			body := p.expect(ul.TypeAbort)
			if src, reason := ul.ParseAbort(body); src != ul.AbortSourceProvider || reason != c.reason {
				t.Errorf("A-ABORT source %d reason %d, want 2 %d", src, reason, c.reason)
			}
			p.expectClosed()
		})
	}
	t.Run("truncated PDU", func(t *testing.T) {
		p := dial(t, ts)
		p.send(rq[:len(rq)-10])
		p.conn.(*net.TCPConn).CloseWrite()
		p.expectClosed()
	})
	t.Run("silence until ARTIM", func(t *testing.T) {
		p := dial(t, ts)
		p.expectClosed()
	})
	if ents, _ := os.ReadDir(ts.spool); len(ents) != 0 {
		t.Errorf("spool holds %s", ents[0].Name())
	}
}

func TestIdleTimeout(t *testing.T) {
	ts := startServer(t, func(c *Config) { c.IdleTimeout = 300 * time.Millisecond }, nil)
	p := dial(t, ts)
	p.associate(stdRQ(testAE, "CART"))
	p.expect(ul.TypeAbort)
	p.expectClosed()
}

// TestARTIMNotRestartedByPDUs keeps sending PDUs after an A-ABORT: the
// provider still closes once ARTIM has run out.
func TestARTIMNotRestartedByPDUs(t *testing.T) {
	ts := startServer(t, func(c *Config) { c.ARTIMTimeout = 500 * time.Millisecond }, nil)
	p := dial(t, ts)
	p.send(pdata(1, true, true, []byte{0}))
	p.expect(ul.TypeAbort)
	start := time.Now()
	for time.Since(start) < 5*time.Second {
		p.conn.SetWriteDeadline(time.Now().Add(time.Second))
		if _, err := p.conn.Write(ul.ReleaseRQ()); err != nil {
			return // closed by the provider
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatal("connection still open 5 s after the A-ABORT, with ARTIM at 0.5 s")
}

// TestShutdownAbortsAssociations cancels the server's context with an
// association open and an object half received: the peer gets an A-ABORT
// and nothing is left in the spool.
func TestShutdownAbortsAssociations(t *testing.T) {
	ts := startServer(t, nil, nil)
	p := dial(t, ts)
	p.associate(stdRQ(testAE, "CART"))
	p.send(pdata(3, true, true, storeRQ(1, "1.2.3.22.1")))
	p.send(pdata(3, false, false, dataset(secondaryCapture, "1.2.3.22.1")))
	time.Sleep(100 * time.Millisecond)
	ts.cancel()
	p.expect(ul.TypeAbort)
	p.expectClosed()
	deadline := time.Now().Add(5 * time.Second)
	for {
		ents, _ := os.ReadDir(ts.spool)
		if len(ents) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("spool holds %s after shutdown", ents[0].Name())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestShutdownWhileStreaming cancels the server while a requester keeps
// sending data set fragments: the association is still aborted at once.
func TestShutdownWhileStreaming(t *testing.T) {
	ts := startServer(t, nil, nil)
	p := dial(t, ts)
	p.associate(stdRQ(testAE, "CART"))
	p.send(pdata(3, true, true, storeRQ(1, "1.2.3.24.1")))
	p.send(pdata(3, false, false, dataset(secondaryCapture, "1.2.3.24.1")))
	stop := make(chan struct{})
	go func() {
		frag := pdata(3, false, false, make([]byte, 8000))
		for {
			select {
			case <-stop:
				return
			default:
			}
			p.conn.SetWriteDeadline(time.Now().Add(time.Second))
			if _, err := p.conn.Write(frag); err != nil {
				return
			}
		}
	}()
	defer close(stop)
	time.Sleep(100 * time.Millisecond)
	ts.cancel()
	p.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	for {
		typ, _, err := p.rd.Next(1 << 20)
		if err != nil {
			t.Fatalf("no A-ABORT within 5 s of the shutdown: %v", err)
		}
		if typ == ul.TypeAbort {
			return
		}
	}
}
