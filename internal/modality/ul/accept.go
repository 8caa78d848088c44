package ul

import (
	"encoding/binary"
	"fmt"
)

// ParseAssociateAC reads the body of an A-ASSOCIATE-AC (PS3.8 9.3.3), the
// requester's side of negotiation. The AE titles are kept as sent but, as
// PS3.8 says, not tested. Each presentation context result must have an odd
// ID and a result of 0 to 4; an accepted one must name exactly one transfer
// syntax, while a refused one's transfer syntax is not significant and may
// be absent. Every failure is a *ProtocolError.
func ParseAssociateAC(b []byte) (*AssociateAC, error) {
	if len(b) < rqFixed {
		return nil, protoErr(AbortInvalidParam, "A-ASSOCIATE-AC of %d bytes, shorter than its %d fixed bytes", len(b), rqFixed)
	}
	if v := binary.BigEndian.Uint16(b[0:2]); v&1 == 0 {
		return nil, protoErr(AbortInvalidParam, "A-ASSOCIATE-AC protocol version 0x%04x lacks version 1", v)
	}
	ac := &AssociateAC{CalledAE: aeTitle(b[4:20]), CallingAE: aeTitle(b[20:36])}
	seen := map[byte]bool{}
	var ui AssociateRQ
	app, haveUser, err := associateItems(b[rqFixed:], itemPresContextAC, &ui, func(v []byte, off int) error {
		r, err := parseContextResult(v, off)
		if err != nil {
			return err
		}
		if seen[r.ID] {
			return protoErr(AbortInvalidParam, "presentation context ID %d answered twice (byte %d)", r.ID, off)
		}
		if len(ac.Results) == MaxContexts {
			return protoErr(AbortInvalidParam, "more than %d presentation context results", MaxContexts)
		}
		seen[r.ID] = true
		ac.Results = append(ac.Results, r)
		return nil
	})
	if err != nil {
		return nil, err
	}
	haveApp := app != ""
	if haveApp && app != ApplicationContext {
		return nil, protoErr(AbortInvalidParam, "application context %q is not DICOM's", app)
	}
	ac.MaxPDULength, ac.ImplementationClassUID, ac.ImplementationVersion = ui.MaxPDULength, ui.ImplementationClassUID, ui.ImplementationVersion
	if !haveApp {
		return nil, protoErr(AbortInvalidParam, "A-ASSOCIATE-AC has no application context item")
	}
	if !haveUser {
		return nil, protoErr(AbortInvalidParam, "A-ASSOCIATE-AC has no user information item")
	}
	return ac, nil
}

func parseContextResult(v []byte, off int) (ContextResult, error) {
	var r ContextResult
	if len(v) < 4 {
		return r, protoErr(AbortInvalidParam, "presentation context result at byte %d has %d bytes, fewer than 4", off, len(v))
	}
	r.ID, r.Result = v[0], v[2]
	if r.ID%2 == 0 {
		return r, protoErr(AbortInvalidParam, "presentation context ID %d at byte %d is even", r.ID, off)
	}
	if r.Result > ResultTransferSyntaxNotSupported {
		return r, protoErr(AbortInvalidParam, "presentation context %d (byte %d) has result %d", r.ID, off, r.Result)
	}
	n := 0
	err := walkItems(v[4:], off+8, func(typ byte, s []byte, soff int) error {
		if typ != itemTransferSyntax {
			return protoErr(AbortUnrecognizedParam, "sub-item 0x%02x in presentation context result %d (byte %d)", typ, r.ID, soff)
		}
		if n++; n > 1 {
			return protoErr(AbortInvalidParam, "second transfer syntax in presentation context result %d (byte %d)", r.ID, soff)
		}
		if r.Result != ResultAcceptance {
			return nil
		}
		u, err := uid(s, soff, "transfer syntax")
		if err != nil {
			return err
		}
		r.TransferSyntax = u
		return nil
	})
	if err != nil {
		return r, err
	}
	if r.Result == ResultAcceptance && r.TransferSyntax == "" {
		return r, protoErr(AbortInvalidParam, "accepted presentation context %d (byte %d) names no transfer syntax", r.ID, off)
	}
	return r, nil
}

// Rejection is a parsed A-ASSOCIATE-RJ (PS3.8 9.3.4). As an error it says
// who refused and why, in the standard's words.
type Rejection struct {
	Result, Source, Reason byte
}

// ParseAssociateRJ reads the 4-byte body of an A-ASSOCIATE-RJ; a result or
// source outside PS3.8's values is a *ProtocolError.
func ParseAssociateRJ(b []byte) (*Rejection, error) {
	if len(b) != fixedLen {
		return nil, protoErr(AbortInvalidParam, "A-ASSOCIATE-RJ of %d bytes, want %d", len(b), fixedLen)
	}
	rj := &Rejection{Result: b[1], Source: b[2], Reason: b[3]}
	if rj.Result != RejectPermanent && rj.Result != RejectTransient {
		return nil, protoErr(AbortInvalidParam, "A-ASSOCIATE-RJ result %d, want 1 or 2", rj.Result)
	}
	if rj.Source < RejectSourceUser || rj.Source > RejectSourcePresentation {
		return nil, protoErr(AbortInvalidParam, "A-ASSOCIATE-RJ source %d, want 1 to 3", rj.Source)
	}
	return rj, nil
}

// Transient reports whether the acceptor said trying again later may work.
func (rj *Rejection) Transient() bool { return rj.Result == RejectTransient }

func (rj *Rejection) Error() string {
	kind := "permanently"
	if rj.Transient() {
		kind = "transiently"
	}
	return fmt.Sprintf("ul: association rejected %s by the %s: %s (result %d, source %d, reason %d)",
		kind, rejectSource(rj.Source), rejectReason(rj.Source, rj.Reason), rj.Result, rj.Source, rj.Reason)
}

func rejectSource(s byte) string {
	switch s {
	case RejectSourceUser:
		return "service user"
	case RejectSourceACSE:
		return "service provider (ACSE)"
	}
	return "service provider (presentation)"
}

// rejectReason names a reason as PS3.8 Table 9-21 does for its source.
func rejectReason(source, reason byte) string {
	switch source {
	case RejectSourceUser:
		switch reason {
		case RejectNoReason:
			return "no reason given"
		case RejectAppContext:
			return "application context name not supported"
		case RejectCallingAE:
			return "calling AE title not recognized"
		case RejectCalledAE:
			return "called AE title not recognized"
		}
	case RejectSourceACSE:
		switch reason {
		case RejectNoReason:
			return "no reason given"
		case RejectProtocolVersion:
			return "protocol version not supported"
		}
	case RejectSourcePresentation:
		switch reason {
		case RejectTemporaryCongested:
			return "temporary congestion"
		case RejectLocalLimitExceeded:
			return "local limit exceeded"
		}
	}
	return "reserved reason"
}
