package scu

import (
	"bytes"
	"context"
	"errors"
	"net"
	"strconv"
	"testing"
	"time"

	"edge/internal/modality/dimse"
	"edge/internal/modality/ul"
)

// peerStreams are what an acceptor may send: a full good exchange, a
// rejection, an abort, a refused context and a response to another message.
func peerStreams() [][]byte {
	ac := &ul.AssociateAC{CalledAE: testCalled, CallingAE: testCalling, MaxPDULength: 4096,
		Results: []ul.ContextResult{{ID: 1, TransferSyntax: explicitLE}}}
	rsp := func(id uint16, st uint16) []byte {
		var b bytes.Buffer
		ul.WritePData(&b, 1, true, (&dimse.Response{Field: dimse.CStoreRSP, MessageIDRespondedTo: id,
			AffectedSOPClassUID: ctImage, AffectedSOPInstanceUID: testInst, Status: st}).Marshal(), 0, nil)
		return b.Bytes()
	}
	good := append(append(ac.Marshal(), rsp(1, 0)...), ul.ReleaseRP()...)
	refused := *ac
	refused.Results = []ul.ContextResult{{ID: 1, Result: ul.ResultTransferSyntaxNotSupported}}
	return [][]byte{
		good,
		ul.AssociateRJ(ul.RejectTransient, ul.RejectSourcePresentation, ul.RejectLocalLimitExceeded),
		append(ac.Marshal(), ul.Abort(ul.AbortSourceProvider, ul.AbortInvalidParam)...),
		append(refused.Marshal(), ul.ReleaseRP()...),
		append(append(ac.Marshal(), rsp(2, 0xB000)...), ul.ReleaseRP()...),
	}
}

func TestFuzzSeeds(t *testing.T) {
	for i, s := range peerStreams() {
		seedFile(t, "FuzzAssociation", "seed-"+strconv.Itoa(i), s)
	}
	seedFile(t, "FuzzParseFile", "seed-0", synthFile(64))
	seedFile(t, "FuzzParseFile", "seed-1", part10(ctImage, testInst, implicitLE, []byte{8, 0, 0x16, 0, 2, 0, 0, 0, '1', 0}))
}

// FuzzAssociation runs a Store against an acceptor that sends any bytes:
// Store must end (no hang past its timeouts), never panic, and succeed only
// after a C-STORE-RSP of success or warning for the instance it sent.
func FuzzAssociation(f *testing.F) {
	f.Fuzz(func(t *testing.T, stream []byte) {
		file := synthFile(5000)
		cl := &streamConn{r: bytes.NewReader(stream)}
		c := &Client{CalledAE: testCalled, CallingAE: testCalling, MaxPDULength: 16384, ConnectTimeout: time.Second, Timeout: 2 * time.Second}
		parsed, _ := ParseFile(file)
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		res, err := c.storeOn(ctx, cl, parsed, time.Second)
		if err != nil {
			var se *StatusError
			if errors.As(err, &se) && (se.Status == 0 || se.Status == StatusCoercion || se.Status == StatusDataSetMismatch || se.Status == StatusElementsDropped) {
				t.Fatalf("success status %04X as an error", se.Status)
			}
			return
		}
		if res.SOPInstanceUID != testInst {
			t.Fatalf("result %+v", res)
		}
		switch res.Status {
		case 0, StatusCoercion, StatusDataSetMismatch, StatusElementsDropped:
		default:
			t.Fatalf("status %04X taken as success", res.Status)
		}
	})
}

// FuzzParseFile splits any bytes as a Part 10 file: an error, or UIDs and a
// data set that lie within the input.
func FuzzParseFile(f *testing.F) {
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := ParseFile(b)
		if err != nil {
			return
		}
		if !isUID(p.SOPClassUID) || !isUID(p.SOPInstanceUID) || !isUID(p.TransferSyntaxUID) || len(p.DataSet) == 0 || len(p.DataSet) > len(b)-preambleLen-4 {
			t.Fatalf("%+v from %d bytes", p, len(b))
		}
	})
}

// TestPeerStreams checks the seeds do what they stand for.
func TestPeerStreams(t *testing.T) {
	for i, s := range peerStreams() {
		cl := &streamConn{r: bytes.NewReader(s)}
		f, _ := ParseFile(synthFile(5000))
		c := &Client{CalledAE: testCalled, CallingAE: testCalling}
		res, err := c.storeOn(context.Background(), cl, f, time.Second)
		if (i == 0) != (err == nil) {
			t.Errorf("stream %d: %+v, %v", i, res, err)
		}
	}
}

// streamConn is a peer that has sent stream and half-closed: reads give the
// stream then EOF, writes are taken and dropped.
type streamConn struct {
	r *bytes.Reader
	net.Conn
}

func (c *streamConn) Read(p []byte) (int, error)       { return c.r.Read(p) }
func (c *streamConn) Write(p []byte) (int, error)      { return len(p), nil }
func (c *streamConn) Close() error                     { return nil }
func (c *streamConn) SetDeadline(time.Time) error      { return nil }
func (c *streamConn) SetReadDeadline(time.Time) error  { return nil }
func (c *streamConn) SetWriteDeadline(time.Time) error { return nil }
