package scu

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"time"

	"edge/internal/modality"
	"edge/internal/modality/dimse"
	"edge/internal/modality/ul"
)

// Defaults of Client.
const (
	DefaultConnectTimeout = 10 * time.Second
	DefaultTimeout        = 60 * time.Second
	DefaultMaxPDULength   = 64 << 10
	// maxAssociateAC bounds the acceptor's answer: one context result and
	// user information are far below it.
	maxAssociateAC = 64 << 10
)

// Warning statuses of C-STORE (PS3.4 B.2.3) taken as success.
const (
	StatusCoercion        uint16 = 0xB000
	StatusDataSetMismatch uint16 = 0xB007
	StatusElementsDropped uint16 = 0xB006
)

const ctxID = 1 // the one presentation context proposed

// Client stores files on one storage SCP. The zero value of each duration and
// of MaxPDULength means its default.
type Client struct {
	Addr                string // host:port of the PACS's DICOM service
	CalledAE, CallingAE string // the PACS's AE title and this side's
	// ConnectTimeout bounds the TCP connect with association negotiation,
	// and the release.
	ConnectTimeout time.Duration
	// Timeout bounds one Store from connect to release.
	Timeout time.Duration
	// MaxPDULength is the most this side receives in one P-DATA-TF.
	MaxPDULength uint32
	Log          *slog.Logger // nil: slog.Default()
}

// Result is what the PACS answered a successful store.
type Result struct {
	SOPInstanceUID string
	Status         uint16 // 0000 or a warning
	ErrorComment   string
}

// StatusError is a C-STORE the PACS answered with a failure status.
type StatusError struct {
	SOPInstanceUID string
	Status         uint16
	Comment        string
}

func (e *StatusError) Error() string {
	s := fmt.Sprintf("scu: C-STORE of %s refused with status 0x%04X (%s)", e.SOPInstanceUID, e.Status, statusClass(e.Status))
	if e.Comment != "" {
		s += ": " + e.Comment
	}
	return s
}

// FileRefused reports whether the status refuses the file for what it is:
// its SOP class, its instance or a data set the PACS cannot take. Sending
// it again cannot help, while "out of resources" and a processing failure
// speak of the PACS's own state and may pass.
func (e *StatusError) FileRefused() bool {
	s := e.Status
	return s == dimse.StatusSOPClassNotSupport || s == statusInvalidInstance ||
		s&0xFF00 == 0xA900 || s&0xF000 == 0xC000
}

// statusInvalidInstance is C-STORE's "Invalid SOP Instance" (PS3.7 C.4).
const statusInvalidInstance = 0x0117

// ContextRefusedError is a presentation context the PACS did not accept:
// it takes no file of this SOP class in this transfer syntax.
type ContextRefusedError struct {
	SOPClassUID, TransferSyntaxUID string
	Result                         byte
}

func (e *ContextRefusedError) Error() string {
	return fmt.Sprintf("the PACS refused SOP class %s in transfer syntax %s: %s", e.SOPClassUID, e.TransferSyntaxUID, contextResult(e.Result))
}

// FileRefused is true: the refusal is of the file's kind, whatever the
// PACS's state.
func (e *ContextRefusedError) FileRefused() bool { return true }

func statusClass(s uint16) string {
	switch {
	case s&0xFF00 == 0xA700:
		return "out of resources"
	case s&0xFF00 == 0xA900:
		return "data set does not match SOP class"
	case s&0xF000 == 0xC000:
		return "cannot understand"
	case s == dimse.StatusSOPClassNotSupport:
		return "SOP class not supported"
	}
	return "failure"
}

// AbortError is an A-ABORT the PACS sent.
type AbortError struct {
	Source byte
	Reason ul.AbortReason
}

func (e *AbortError) Error() string {
	return fmt.Sprintf("scu: the PACS aborted the association (source %d, reason %d)", e.Source, e.Reason)
}

// Store sends one DICOM Part 10 file with C-STORE and returns the PACS's
// answer; see the package comment for the steps.
func (c *Client) Store(ctx context.Context, file []byte) (*Result, error) {
	f, err := ParseFile(file)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, or(c.Timeout, DefaultTimeout))
	defer cancel()
	connect := or(c.ConnectTimeout, DefaultConnectTimeout)
	d := net.Dialer{Timeout: connect}
	conn, err := d.DialContext(ctx, "tcp", c.Addr)
	if err != nil {
		return nil, fmt.Errorf("scu: connect to %s: %w", c.Addr, err)
	}
	return c.storeOn(ctx, conn, f, connect)
}

// storeOn runs one association on conn, which it closes.
func (c *Client) storeOn(ctx context.Context, conn net.Conn, f *File, connect time.Duration) (*Result, error) {
	defer conn.Close()
	// Closing the connection is what unblocks a read or write when ctx ends.
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	a := &assoc{c: c, conn: conn, rd: ul.NewReader(bufio.NewReader(conn)), f: f, log: c.log()}
	res, err := a.run(connect)
	if err != nil && ctx.Err() != nil {
		return nil, fmt.Errorf("scu: store %s on %s: %w (%w)", f.SOPInstanceUID, c.Addr, ctx.Err(), err)
	}
	if err != nil {
		return nil, fmt.Errorf("scu: store %s on %s: %w", f.SOPInstanceUID, c.Addr, err)
	}
	return res, nil
}

func (c *Client) log() *slog.Logger {
	if c.Log != nil {
		return c.Log
	}
	return slog.Default()
}

func (c *Client) maxPDU() uint32 {
	if c.MaxPDULength == 0 {
		return DefaultMaxPDULength
	}
	return c.MaxPDULength
}

func or(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

// assoc is one association's requester state.
type assoc struct {
	c    *Client
	conn net.Conn
	rd   *ul.Reader
	f    *File
	log  *slog.Logger
}

func (a *assoc) run(connect time.Duration) (*Result, error) {
	a.conn.SetDeadline(time.Now().Add(connect))
	ac, err := a.associate()
	if err != nil {
		return nil, err
	}
	a.conn.SetDeadline(time.Time{})
	rsp, err := a.store(ac.MaxPDULength)
	if err != nil {
		return nil, err
	}
	a.conn.SetDeadline(time.Now().Add(connect))
	if err := a.release(); err != nil {
		// The PACS answered the C-STORE; a failed release does not undo it.
		a.log.Warn("scu: release after C-STORE failed", "pacs", a.c.Addr, "sop_instance", a.f.SOPInstanceUID, "err", err)
	}
	switch rsp.Status {
	case dimse.StatusSuccess:
	case StatusCoercion, StatusDataSetMismatch, StatusElementsDropped:
		a.log.Warn("scu: PACS stored with a warning", "pacs", a.c.Addr, "sop_instance", a.f.SOPInstanceUID,
			"status", fmt.Sprintf("0x%04X", rsp.Status), "comment", rsp.ErrorComment)
	default:
		return nil, &StatusError{SOPInstanceUID: a.f.SOPInstanceUID, Status: rsp.Status, Comment: rsp.ErrorComment}
	}
	return &Result{SOPInstanceUID: a.f.SOPInstanceUID, Status: rsp.Status, ErrorComment: rsp.ErrorComment}, nil
}

// abort sends A-ABORT for a protocol error of the peer and returns err.
func (a *assoc) abort(err error) error {
	reason := ul.AbortNotSpecified
	var pe *ul.ProtocolError
	if errors.As(err, &pe) {
		reason = pe.Reason
	}
	a.conn.SetWriteDeadline(time.Now().Add(time.Second))
	a.conn.Write(ul.Abort(ul.AbortSourceProvider, reason))
	return err
}

func (a *assoc) associate() (*ul.AssociateAC, error) {
	rq := &ul.AssociateRQ{
		ProtocolVersion: 1, CalledAE: a.c.CalledAE, CallingAE: a.c.CallingAE, ApplicationContext: ul.ApplicationContext,
		Contexts:               []ul.PresentationContext{{ID: ctxID, AbstractSyntax: a.f.SOPClassUID, TransferSyntaxes: []string{a.f.TransferSyntaxUID}}},
		MaxPDULength:           a.c.maxPDU(),
		ImplementationClassUID: modality.ImplementationClassUID, ImplementationVersion: modality.ImplementationVersion,
	}
	if _, err := a.conn.Write(rq.Marshal()); err != nil {
		return nil, fmt.Errorf("send A-ASSOCIATE-RQ: %w", err)
	}
	typ, body, err := a.rd.Next(maxAssociateAC)
	if err != nil {
		return nil, a.readErr("A-ASSOCIATE-AC", err)
	}
	switch typ {
	case ul.TypeAssociateAC:
	case ul.TypeAssociateRJ:
		rj, err := ul.ParseAssociateRJ(body)
		if err != nil {
			return nil, err // the acceptor has closed its side; nothing to abort
		}
		return nil, rj
	case ul.TypeAbort:
		return nil, a.peerAbort(body)
	default:
		return nil, a.abort(&ul.ProtocolError{Reason: ul.AbortUnexpectedPDU, Msg: fmt.Sprintf("%v in answer to A-ASSOCIATE-RQ", typ)})
	}
	ac, err := ul.ParseAssociateAC(body)
	if err != nil {
		return nil, a.abort(err)
	}
	for _, r := range ac.Results {
		if r.ID != ctxID {
			continue
		}
		if r.Result != ul.ResultAcceptance {
			err := &ContextRefusedError{SOPClassUID: a.f.SOPClassUID, TransferSyntaxUID: a.f.TransferSyntaxUID, Result: r.Result}
			if rerr := a.release(); rerr != nil {
				a.log.Warn("scu: release after a refused context failed", "pacs", a.c.Addr, "err", rerr)
			}
			return nil, err
		}
		if r.TransferSyntax != a.f.TransferSyntaxUID {
			return nil, a.abort(&ul.ProtocolError{Reason: ul.AbortInvalidParam, Msg: fmt.Sprintf("accepted transfer syntax %s, proposed %s", r.TransferSyntax, a.f.TransferSyntaxUID)})
		}
		return ac, nil
	}
	return nil, a.abort(&ul.ProtocolError{Reason: ul.AbortInvalidParam, Msg: "A-ASSOCIATE-AC does not answer the proposed presentation context"})
}

func contextResult(r byte) string {
	switch r {
	case ul.ResultUserRejection:
		return "user rejection"
	case ul.ResultProviderRejection:
		return "no reason (provider rejection)"
	case ul.ResultAbstractSyntaxNotSupported:
		return "abstract syntax not supported"
	}
	return "transfer syntaxes not supported"
}

func (a *assoc) peerAbort(body []byte) error {
	src, reason := ul.ParseAbort(body)
	return &AbortError{Source: src, Reason: reason}
}

// readErr wraps a failed read: a protocol error is aborted, a closed
// connection said as such.
func (a *assoc) readErr(want string, err error) error {
	var pe *ul.ProtocolError
	if errors.As(err, &pe) {
		return a.abort(err)
	}
	if errors.Is(err, io.EOF) {
		return fmt.Errorf("the PACS closed the connection while %s was awaited", want)
	}
	return fmt.Errorf("read %s: %w", want, err)
}

func (a *assoc) store(peerMax uint32) (*dimse.Command, error) {
	rq := &dimse.Request{Field: dimse.CStoreRQ, MessageID: 1, AffectedSOPClassUID: a.f.SOPClassUID,
		AffectedSOPInstanceUID: a.f.SOPInstanceUID, DataSetType: dimse.DataSetPresent}
	buf, err := ul.WritePData(a.conn, ctxID, true, rq.Marshal(), peerMax, nil)
	if err != nil {
		return nil, a.writeErr(err)
	}
	if _, err := ul.WritePData(a.conn, ctxID, false, a.f.DataSet, peerMax, buf); err != nil {
		return nil, a.writeErr(err)
	}
	var cmd []byte
	for done := false; !done; {
		typ, body, err := a.rd.Next(a.c.maxPDU())
		if err != nil {
			return nil, a.readErr("C-STORE-RSP", err)
		}
		switch typ {
		case ul.TypePData:
		case ul.TypeAbort:
			return nil, a.peerAbort(body)
		default:
			return nil, a.abort(&ul.ProtocolError{Reason: ul.AbortUnexpectedPDU, Msg: fmt.Sprintf("%v while C-STORE-RSP was awaited", typ)})
		}
		err = ul.EachPDV(body, func(p ul.PDV) error {
			switch {
			case done:
				return &ul.ProtocolError{Reason: ul.AbortUnexpectedPDU, Msg: "PDV after the last fragment of C-STORE-RSP"}
			case p.Context != ctxID:
				return &ul.ProtocolError{Reason: ul.AbortInvalidParam, Msg: fmt.Sprintf("PDV of presentation context %d, not proposed", p.Context)}
			case !p.Command:
				return &ul.ProtocolError{Reason: ul.AbortUnexpectedPDU, Msg: "data set fragment in answer to C-STORE-RQ"}
			case len(cmd)+len(p.Data) > dimse.MaxCommandLen:
				return &ul.ProtocolError{Reason: ul.AbortInvalidParam, Msg: fmt.Sprintf("C-STORE-RSP longer than %d bytes", dimse.MaxCommandLen)}
			}
			cmd = append(cmd, p.Data...)
			done = p.Last
			return nil
		})
		if err != nil {
			return nil, a.abort(err)
		}
	}
	rsp, err := dimse.Parse(cmd)
	if err != nil {
		return nil, a.abort(&ul.ProtocolError{Reason: ul.AbortInvalidParam, Msg: err.Error()})
	}
	switch {
	case rsp.Field != dimse.CStoreRSP:
		err = fmt.Errorf("command 0x%04X in answer to C-STORE-RQ", rsp.Field)
	case rsp.MessageIDRespondedTo != 1:
		err = fmt.Errorf("C-STORE-RSP to message %d, sent 1", rsp.MessageIDRespondedTo)
	case rsp.HasDataSet():
		err = errors.New("C-STORE-RSP announces a data set")
	case !rsp.Has(0x0900):
		err = errors.New("C-STORE-RSP has no status")
	case rsp.AffectedSOPInstanceUID != "" && rsp.AffectedSOPInstanceUID != a.f.SOPInstanceUID:
		err = fmt.Errorf("C-STORE-RSP for instance %s, sent %s", rsp.AffectedSOPInstanceUID, a.f.SOPInstanceUID)
	}
	if err != nil {
		return nil, a.abort(&ul.ProtocolError{Reason: ul.AbortInvalidParam, Msg: err.Error()})
	}
	return rsp, nil
}

func (a *assoc) writeErr(err error) error {
	// An acceptor that aborts mid-data-set closes; its A-ABORT may be readable.
	a.conn.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
	// The limit 0 lets only the fixed-length PDUs through.
	if typ, body, rerr := a.rd.Next(0); rerr == nil && typ == ul.TypeAbort {
		return a.peerAbort(body)
	}
	return err
}

func (a *assoc) release() error {
	if _, err := a.conn.Write(ul.ReleaseRQ()); err != nil {
		return fmt.Errorf("send A-RELEASE-RQ: %w", err)
	}
	for {
		typ, body, err := a.rd.Next(a.c.maxPDU())
		if err != nil {
			return a.readErr("A-RELEASE-RP", err)
		}
		switch typ {
		case ul.TypeReleaseRP:
			return nil
		case ul.TypeAbort:
			return a.peerAbort(body)
		case ul.TypePData:
			// PS3.8 state 7: P-DATA may still arrive while awaiting the
			// release answer; nothing more is expected, so it is dropped.
		default:
			return a.abort(&ul.ProtocolError{Reason: ul.AbortUnexpectedPDU, Msg: fmt.Sprintf("%v while A-RELEASE-RP was awaited", typ)})
		}
	}
}
