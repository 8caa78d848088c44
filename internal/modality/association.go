package modality

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"time"

	"edge/internal/modality/dimse"
	"edge/internal/modality/ul"
)

// The acceptor's states of the PS3.8 9.2 state machine. A requester's states
// (Sta4, Sta5) and the release collision states never occur on this side:
// the provider never requests an association or a release.
type state int

const (
	sta1  state = iota // idle: the connection is closed
	sta2               // transport connection open, awaiting A-ASSOCIATE-RQ (ARTIM running)
	sta6               // association established, ready for data transfer
	sta13              // awaiting the peer's close (ARTIM running)
	numStates
)

// Events: a PDU received (by type), one that could not be read as PS3.8
// says (evInvalid), a read deadline passed (ARTIM in Sta2/Sta13, the idle
// timeout in Sta6) and the connection closed by the peer.
type event int

const (
	evAssociateRQ event = iota
	evAssociateAC
	evAssociateRJ
	evPData
	evReleaseRQ
	evReleaseRP
	evAbort
	evInvalid
	evTimeout
	evClosed
	numEvents
)

// action is one of PS3.8 9.2's actions; it returns the next state.
type action func(a *association, ctx context.Context, body []byte) state

// acceptorTable is PS3.8 table 9-10 for the states an acceptor passes
// through, named by the standard's action names.
var acceptorTable = [numStates][numEvents]action{
	sta2: {
		evAssociateRQ: ae6,
		evAssociateAC: aa1, evAssociateRJ: aa1, evPData: aa1, evReleaseRQ: aa1, evReleaseRP: aa1,
		evAbort:   aa2,
		evInvalid: aa1,
		evTimeout: aa2,
		evClosed:  aa5,
	},
	sta6: {
		evPData:       dt2,
		evReleaseRQ:   ar2,
		evAssociateRQ: aa8, evAssociateAC: aa8, evAssociateRJ: aa8, evReleaseRP: aa8,
		evAbort:   aa3,
		evInvalid: aa8,
		evTimeout: idle,
		evClosed:  aa4,
	},
	sta13: {
		evAssociateRQ: aa7,
		evAssociateAC: aa6, evAssociateRJ: aa6, evPData: aa6, evReleaseRQ: aa6, evReleaseRP: aa6,
		evAbort:   aa2,
		evInvalid: aa2,
		evTimeout: aa2,
		evClosed:  ar5,
	},
}

var pduEvents = map[ul.Type]event{
	ul.TypeAssociateRQ: evAssociateRQ,
	ul.TypeAssociateAC: evAssociateAC,
	ul.TypeAssociateRJ: evAssociateRJ,
	ul.TypePData:       evPData,
	ul.TypeReleaseRQ:   evReleaseRQ,
	ul.TypeReleaseRP:   evReleaseRP,
	ul.TypeAbort:       evAbort,
}

// accepted is a presentation context this side accepted.
type accepted struct {
	abstract, ts string
}

type association struct {
	s    *Server
	conn net.Conn
	rd   *ul.Reader
	log  *slog.Logger
	addr string

	lastErr error     // the reason of the last evInvalid
	artim   time.Time // when ARTIM expires in Sta2 and Sta13
	counted bool      // holds one of the MaxAssociations places

	rq       *ul.AssociateRQ
	contexts map[byte]accepted
	peerMax  uint32
	wbuf     []byte

	// DIMSE message being received.
	cmdBuf []byte
	cmdCtx byte
	inCmd  bool
	op     *storeOp
}

// storeOp is a C-STORE whose data set is arriving.
type storeOp struct {
	ctx     byte
	cmd     *dimse.Command
	ts      string
	spool   *spoolFile // nil once the object is refused; then fragments are drained
	n       int64
	status  uint16
	comment string
}

func newAssociation(s *Server, conn net.Conn) *association {
	addr := conn.RemoteAddr().String()
	return &association{
		s:    s,
		conn: conn,
		rd:   ul.NewReader(bufio.NewReaderSize(conn, 32<<10)),
		log:  s.log.With("addr", addr),
		addr: addr,
	}
}

func (a *association) run(ctx context.Context) {
	stop := context.AfterFunc(ctx, func() { a.conn.SetReadDeadline(time.Now()) })
	defer func() {
		stop()
		a.dropOp()
		if a.counted {
			a.s.established.Add(-1)
		}
		a.conn.Close()
	}()
	a.artim = time.Now().Add(a.s.cfg.ARTIMTimeout)
	for st := sta2; st != sta1; {
		ev, body := a.next(ctx, st)
		if ctx.Err() != nil {
			// Shutting down: an established association is aborted (its
			// object, if one is arriving, is not stored); any other is closed.
			if st == sta6 {
				a.log.Info("modality: association aborted, shutting down")
				// A short deadline: a peer that reads nothing must not hold
				// the shutdown up.
				a.conn.SetWriteDeadline(time.Now().Add(time.Second))
				a.conn.Write(ul.Abort(ul.AbortSourceUser, 0))
			}
			return
		}
		next := acceptorTable[st][ev](a, ctx, body)
		if next == sta13 && st != sta13 {
			// ARTIM runs from the moment this side waits for the close; PDUs
			// the peer goes on sending do not restart it.
			a.artim = time.Now().Add(a.s.cfg.ARTIMTimeout)
		}
		st = next
	}
}

// next reads the next PDU with the deadline and size limit of state st.
func (a *association) next(ctx context.Context, st state) (event, []byte) {
	deadline, limit := a.artim, uint32(maxAssociateRQ)
	if st == sta6 {
		deadline, limit = time.Now().Add(a.s.cfg.IdleTimeout), a.s.cfg.MaxPDULength
	}
	a.conn.SetReadDeadline(deadline)
	if ctx.Err() != nil {
		// The shutdown's own deadline may have been set just before this
		// one replaced it.
		a.conn.SetReadDeadline(time.Now())
	}
	t, body, err := a.rd.Next(limit)
	if err == nil {
		return pduEvents[t], body
	}
	var pe *ul.ProtocolError
	var ne net.Error
	switch {
	case errors.As(err, &pe):
		a.lastErr = err
		return evInvalid, nil
	case errors.As(err, &ne) && ne.Timeout():
		return evTimeout, nil
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		if errors.Is(err, io.ErrUnexpectedEOF) {
			a.lastErr = err
		}
		return evClosed, nil
	}
	a.lastErr = err
	return evClosed, nil
}

func (a *association) send(pdu []byte) bool {
	a.conn.SetWriteDeadline(time.Now().Add(a.s.cfg.IdleTimeout))
	if _, err := a.conn.Write(pdu); err != nil {
		a.log.Warn("modality: write failed", "err", err)
		return false
	}
	return true
}

func abortReason(err error) ul.AbortReason {
	var pe *ul.ProtocolError
	if errors.As(err, &pe) {
		return pe.Reason
	}
	return ul.AbortNotSpecified
}

// AA-1: a PDU other than A-ASSOCIATE-RQ, or an invalid one, before the
// association: A-ABORT, then wait for the close.
func aa1(a *association, _ context.Context, _ []byte) state {
	reason := ul.AbortUnexpectedPDU
	if a.lastErr != nil {
		reason = abortReason(a.lastErr)
	}
	a.log.Warn("modality: aborted before association", "err", a.lastErr)
	if !a.send(ul.Abort(ul.AbortSourceProvider, reason)) {
		return sta1
	}
	return sta13
}

// AA-2: close the connection.
func aa2(*association, context.Context, []byte) state { return sta1 }

// AA-3: the peer aborted the association.
func aa3(a *association, _ context.Context, body []byte) state {
	src, reason := ul.ParseAbort(body)
	a.log.Warn("modality: association aborted by peer", "source", src, "reason", reason)
	return sta1
}

// AA-4: the connection closed without release.
func aa4(a *association, _ context.Context, _ []byte) state {
	a.log.Warn("modality: connection lost", "err", a.lastErr)
	return sta1
}

// AA-5: the connection closed before an A-ASSOCIATE-RQ.
func aa5(*association, context.Context, []byte) state { return sta1 }

// AA-6: ignore the PDU while waiting for the close.
func aa6(*association, context.Context, []byte) state { return sta13 }

// AA-7: an A-ASSOCIATE-RQ while waiting for the close: A-ABORT.
func aa7(a *association, _ context.Context, _ []byte) state {
	if !a.send(ul.Abort(ul.AbortSourceProvider, ul.AbortUnexpectedPDU)) {
		return sta1
	}
	return sta13
}

// AA-8: an unexpected or invalid PDU (or DIMSE message) during the
// association: A-ABORT, then wait for the close.
func aa8(a *association, _ context.Context, _ []byte) state {
	reason := ul.AbortUnexpectedPDU
	if a.lastErr != nil {
		reason = abortReason(a.lastErr)
	}
	a.log.Warn("modality: association aborted", "err", a.lastErr)
	a.dropOp()
	if !a.send(ul.Abort(ul.AbortSourceProvider, reason)) {
		return sta1
	}
	return sta13
}

// idle: no PDU within the idle timeout. PS3.8 leaves this to the
// implementation; the association is aborted and closed.
func idle(a *association, _ context.Context, _ []byte) state {
	a.log.Warn("modality: association idle, aborted", "timeout", a.s.cfg.IdleTimeout)
	a.dropOp()
	a.send(ul.Abort(ul.AbortSourceProvider, ul.AbortNotSpecified))
	return sta1
}

// AR-2/AR-4: release requested; answered at once (no operation is
// outstanding: one runs at a time and is answered before the next PDU is
// read), then wait for the close.
func ar2(a *association, ctx context.Context, body []byte) state {
	if a.op != nil || a.inCmd {
		a.lastErr = &ul.ProtocolError{Reason: ul.AbortUnexpectedPDU, Msg: "A-RELEASE-RQ in the middle of a DIMSE message"}
		return aa8(a, ctx, body)
	}
	a.log.Info("modality: association released")
	if !a.send(ul.ReleaseRP()) {
		return sta1
	}
	return sta13
}

// AR-5: the peer closed while this side waited for it to.
func ar5(*association, context.Context, []byte) state { return sta1 }

// AE-6: an A-ASSOCIATE-RQ arrived; accept it (AE-7) or reject it (AE-8).
func ae6(a *association, ctx context.Context, body []byte) state {
	rq, err := ul.ParseAssociateRQ(body)
	if err != nil {
		a.lastErr = err
		return aa1(a, ctx, body)
	}
	a.rq = rq
	log := a.log.With("calling_ae", rq.CallingAE, "called_ae", rq.CalledAE)
	reject := func(result, source, reason byte, why string) state {
		log.Warn("modality: association rejected", "reason", why)
		if !a.send(ul.AssociateRJ(result, source, reason)) {
			return sta1
		}
		return sta13
	}
	cfg := &a.s.cfg
	switch {
	case rq.ProtocolVersion&1 == 0:
		return reject(ul.RejectPermanent, ul.RejectSourceACSE, ul.RejectProtocolVersion, fmt.Sprintf("protocol version 0x%04x", rq.ProtocolVersion))
	case rq.ApplicationContext != ul.ApplicationContext:
		return reject(ul.RejectPermanent, ul.RejectSourceUser, ul.RejectAppContext, "application context "+rq.ApplicationContext)
	case rq.CalledAE != cfg.AETitle:
		return reject(ul.RejectPermanent, ul.RejectSourceUser, ul.RejectCalledAE, "called AE title not this provider's")
	case !a.s.callingAllowed(rq.CallingAE):
		return reject(ul.RejectPermanent, ul.RejectSourceUser, ul.RejectCallingAE, "calling AE title not on the allow-list")
	case !a.s.sourceAllowed(a.conn.RemoteAddr()):
		return reject(ul.RejectPermanent, ul.RejectSourceUser, ul.RejectNoReason, "source address not allowed")
	}
	if a.s.established.Add(1) > int64(cfg.MaxAssociations) {
		a.s.established.Add(-1)
		return reject(ul.RejectTransient, ul.RejectSourcePresentation, ul.RejectLocalLimitExceeded, fmt.Sprintf("%d associations already open", cfg.MaxAssociations))
	}
	a.counted = true
	a.peerMax = rq.MaxPDULength
	a.contexts = map[byte]accepted{}
	ac := &ul.AssociateAC{
		CalledAE:               rq.CalledAE,
		CallingAE:              rq.CallingAE,
		MaxPDULength:           cfg.MaxPDULength,
		ImplementationClassUID: ImplementationClassUID,
		ImplementationVersion:  ImplementationVersion,
	}
	nAccepted := 0
	for _, pc := range rq.Contexts {
		r := negotiate(pc)
		if r.Result == ul.ResultAcceptance {
			a.contexts[pc.ID] = accepted{abstract: pc.AbstractSyntax, ts: r.TransferSyntax}
			nAccepted++
		} else {
			log.Debug("modality: presentation context refused", "id", pc.ID, "abstract_syntax", pc.AbstractSyntax, "result", r.Result)
		}
		ac.Results = append(ac.Results, r)
	}
	log.Info("modality: association accepted", "contexts", len(rq.Contexts), "accepted", nAccepted, "peer_max_pdu", rq.MaxPDULength)
	a.log = log
	if !a.send(ac.Marshal()) {
		return sta1
	}
	return sta6
}

// negotiate answers one proposed presentation context: the abstract syntax
// must be Verification or a storage class this provider takes, and one of the
// proposed transfer syntaxes one it accepts, chosen in this side's order.
func negotiate(pc ul.PresentationContext) ul.ContextResult {
	r := ul.ContextResult{ID: pc.ID, TransferSyntax: pc.TransferSyntaxes[0]}
	if pc.AbstractSyntax != VerificationSOPClass && !IsStorageClass(pc.AbstractSyntax) {
		r.Result = ul.ResultAbstractSyntaxNotSupported
		return r
	}
	for _, ts := range transferSyntaxes {
		for _, p := range pc.TransferSyntaxes {
			if p == ts {
				r.Result, r.TransferSyntax = ul.ResultAcceptance, ts
				return r
			}
		}
	}
	r.Result = ul.ResultTransferSyntaxNotSupported
	return r
}

// dimseError is a DIMSE message that cannot be carried on: the association
// is aborted.
func dimseError(format string, args ...any) error {
	return &ul.ProtocolError{Reason: ul.AbortUnexpectedParam, Msg: fmt.Sprintf(format, args...)}
}

// DT-2: a P-DATA-TF; its PDVs carry command and data set fragments.
func dt2(a *association, ctx context.Context, body []byte) state {
	err := ul.EachPDV(body, func(p ul.PDV) error { return a.pdv(ctx, p) })
	if err != nil {
		if errors.Is(err, errWrite) {
			return sta1
		}
		a.lastErr = err
		return aa8(a, ctx, body)
	}
	return sta6
}

var errWrite = errors.New("modality: write to peer failed")

func (a *association) pdv(ctx context.Context, p ul.PDV) error {
	pc, ok := a.contexts[p.Context]
	if !ok {
		return dimseError("PDV for presentation context %d, which was not accepted", p.Context)
	}
	if p.Command {
		if a.op != nil {
			return dimseError("command fragment on context %d while a data set is arriving on context %d", p.Context, a.op.ctx)
		}
		if a.inCmd && p.Context != a.cmdCtx {
			return dimseError("command fragment on context %d continues one on context %d", p.Context, a.cmdCtx)
		}
		if len(a.cmdBuf)+len(p.Data) > dimse.MaxCommandLen {
			return dimseError("command set longer than %d bytes", dimse.MaxCommandLen)
		}
		a.inCmd, a.cmdCtx = true, p.Context
		a.cmdBuf = append(a.cmdBuf, p.Data...)
		if !p.Last {
			return nil
		}
		a.inCmd = false
		cmd, err := dimse.Parse(a.cmdBuf)
		a.cmdBuf = a.cmdBuf[:0]
		if err != nil {
			return &ul.ProtocolError{Reason: ul.AbortInvalidParam, Msg: err.Error()}
		}
		return a.command(ctx, p.Context, pc, cmd)
	}
	op := a.op
	if op == nil || a.inCmd {
		return dimseError("data set fragment on context %d without a command expecting one", p.Context)
	}
	if p.Context != op.ctx {
		return dimseError("data set fragment on context %d for a command on context %d", p.Context, op.ctx)
	}
	op.n += int64(len(p.Data))
	if op.spool != nil {
		if op.n > a.s.cfg.MaxObjectSize {
			op.refuse(dimse.StatusOutOfResources, fmt.Sprintf("object larger than %d bytes", a.s.cfg.MaxObjectSize))
		} else if err := op.spool.write(p.Data); err != nil {
			a.log.Error("modality: spool write failed", "sop_instance_uid", op.cmd.AffectedSOPInstanceUID, "err", err)
			op.refuse(failureStatus(err), "cannot write the object: "+errText(err))
		}
	}
	if !p.Last {
		return nil
	}
	a.op = nil
	return a.finishStore(ctx, op)
}

func (op *storeOp) refuse(status uint16, comment string) {
	if op.spool != nil {
		op.spool.discard()
		op.spool = nil
	}
	if op.status == dimse.StatusSuccess {
		op.status, op.comment = status, comment
	}
}

func (a *association) dropOp() {
	if a.op != nil && a.op.spool != nil {
		a.op.spool.discard()
	}
	a.op = nil
}

// command acts on a complete command set.
func (a *association) command(ctx context.Context, id byte, pc accepted, cmd *dimse.Command) error {
	switch cmd.Field {
	case dimse.CEchoRQ:
		if cmd.HasDataSet() {
			return dimseError("C-ECHO-RQ announces a data set")
		}
		a.log.Info("modality: C-ECHO", "outcome", "success")
		return a.respond(id, &dimse.Response{
			Field: dimse.CEchoRSP, MessageIDRespondedTo: cmd.MessageID,
			AffectedSOPClassUID: VerificationSOPClass, Status: dimse.StatusSuccess,
		})
	case dimse.CStoreRQ:
		if !cmd.HasDataSet() {
			return dimseError("C-STORE-RQ without a data set")
		}
		op := &storeOp{ctx: id, cmd: cmd, ts: pc.ts}
		a.op = op
		switch {
		case cmd.AffectedSOPClassUID != pc.abstract:
			op.status, op.comment = dimse.StatusSOPClassNotSupport, "SOP class differs from the presentation context's"
			return nil
		case cmd.AffectedSOPInstanceUID == "":
			op.status, op.comment = dimse.StatusCannotUnderstand, "no Affected SOP Instance UID"
			return nil
		}
		sp, err := newSpoolFile(a.s.cfg.SpoolDir, meta{
			SOPClassUID: cmd.AffectedSOPClassUID, SOPInstanceUID: cmd.AffectedSOPInstanceUID,
			TransferSyntaxUID: pc.ts, SourceAE: a.rq.CallingAE,
		})
		if err != nil {
			a.log.Error("modality: spool failed", "sop_instance_uid", cmd.AffectedSOPInstanceUID, "err", err)
			op.status, op.comment = dimse.StatusOutOfResources, "cannot spool the object: "+errText(err)
			return nil
		}
		op.spool = sp
		return nil
	}
	return dimseError("DIMSE command 0x%04x is not offered here", cmd.Field)
}

// finishStore hands a complete object to the consumer and answers.
func (a *association) finishStore(ctx context.Context, op *storeOp) error {
	cmd := op.cmd
	log := a.log.With("sop_instance_uid", cmd.AffectedSOPInstanceUID, "sop_class_uid", cmd.AffectedSOPClassUID, "bytes", op.n)
	status, comment := op.status, op.comment
	if op.spool != nil {
		status, comment = a.store(ctx, op, log)
	}
	rsp := &dimse.Response{
		Field: dimse.CStoreRSP, MessageIDRespondedTo: cmd.MessageID,
		AffectedSOPClassUID: cmd.AffectedSOPClassUID, AffectedSOPInstanceUID: cmd.AffectedSOPInstanceUID,
		Status: status, ErrorComment: comment,
	}
	if status == dimse.StatusSuccess {
		log.Info("modality: C-STORE", "outcome", "stored")
	} else {
		log.Warn("modality: C-STORE", "outcome", "failed", "status", fmt.Sprintf("%04X", status), "comment", comment)
	}
	return a.respond(op.ctx, rsp)
}

func (a *association) store(ctx context.Context, op *storeOp, log *slog.Logger) (uint16, string) {
	cmd := op.cmd
	head, whole := op.spool.head, op.n <= int64(len(op.spool.head))
	path, size, err := op.spool.commit()
	op.spool = nil
	if err != nil {
		log.Error("modality: spool commit failed", "err", err)
		return failureStatus(err), "cannot write the object: " + errText(err)
	}
	defer os.Remove(path)
	if class, inst, ok := datasetUIDs(head, op.ts, whole); ok {
		if inst != cmd.AffectedSOPInstanceUID {
			return dimse.StatusDataSetMismatch, "SOP Instance UID in the data set differs from the command's"
		}
		if class != cmd.AffectedSOPClassUID {
			return dimse.StatusDataSetMismatch, "SOP Class UID in the data set differs from the command's"
		}
	}
	obj := &Object{
		CallingAE: a.rq.CallingAE, CalledAE: a.rq.CalledAE, RemoteAddr: a.addr,
		SOPClassUID: cmd.AffectedSOPClassUID, SOPInstanceUID: cmd.AffectedSOPInstanceUID,
		TransferSyntaxUID: op.ts, Path: path, Size: size,
	}
	if err := a.s.consumer.Store(ctx, obj); err != nil {
		log.Error("modality: consumer refused the object", "err", err)
		return failureStatus(err), errText(err)
	}
	return dimse.StatusSuccess, ""
}

func (a *association) respond(id byte, r *dimse.Response) error {
	a.conn.SetWriteDeadline(time.Now().Add(a.s.cfg.IdleTimeout))
	var err error
	a.wbuf, err = ul.WritePData(a.conn, id, true, r.Marshal(), a.peerMax, a.wbuf)
	if err != nil {
		a.log.Warn("modality: write response failed", "err", err)
		return errWrite
	}
	return nil
}

// errText is an error's message for an Error Comment.
func errText(err error) string { return dimse.Comment(err.Error()) }
