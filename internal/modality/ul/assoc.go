package ul

import (
	"encoding/binary"
	"strings"
)

// ApplicationContext is the DICOM application context name (PS3.7 A.2.1).
const ApplicationContext = "1.2.840.10008.3.1.1.1"

// Item types of the variable part of A-ASSOCIATE-RQ/AC (PS3.8 9.3.2, 9.3.3).
const (
	itemAppContext     = 0x10
	itemPresContextRQ  = 0x20
	itemPresContextAC  = 0x21
	itemAbstractSyntax = 0x30
	itemTransferSyntax = 0x40
	itemUserInfo       = 0x50
	subMaxLength       = 0x51
	subImplClassUID    = 0x52
	subImplVersion     = 0x55
)

// Limits on what an A-ASSOCIATE-RQ may hold.
const (
	MaxContexts         = 128 // PS3.8 9.3.2.2: context IDs are odd 1..255
	MaxTransferSyntaxes = 64  // per presentation context; more is not a real requester
	maxUID              = 64  // PS3.5 9.1
	maxVersionName      = 16  // PS3.7 D.3.3.2
	aeLen               = 16
	rqFixed             = 68 // version, reserved, called AE, calling AE, 32 reserved
)

// PresentationContext is one context an association requester proposes.
type PresentationContext struct {
	ID               byte
	AbstractSyntax   string
	TransferSyntaxes []string
}

// AssociateRQ is a parsed A-ASSOCIATE-RQ.
type AssociateRQ struct {
	ProtocolVersion        uint16
	CalledAE, CallingAE    string // leading and trailing spaces removed
	ApplicationContext     string
	Contexts               []PresentationContext
	MaxPDULength           uint32 // the most the requester receives in one P-DATA-TF; 0: no limit
	ImplementationClassUID string
	ImplementationVersion  string
}

// ParseAssociateRQ parses the body of an A-ASSOCIATE-RQ (what follows the
// 6-byte PDU header). Every item length is checked against the bytes left
// before it is used; nothing is allocated beyond the strings it returns.
func ParseAssociateRQ(b []byte) (*AssociateRQ, error) {
	if len(b) < rqFixed {
		return nil, protoErr(AbortInvalidParam, "A-ASSOCIATE-RQ of %d bytes, shorter than its %d fixed bytes", len(b), rqFixed)
	}
	rq := &AssociateRQ{
		ProtocolVersion: binary.BigEndian.Uint16(b[0:2]),
		CalledAE:        aeTitle(b[4:20]),
		CallingAE:       aeTitle(b[20:36]),
	}
	seenCtx := map[byte]bool{}
	app, _, err := associateItems(b[rqFixed:], itemPresContextRQ, rq, func(v []byte, off int) error {
		pc, err := parsePresContext(v, off)
		if err != nil {
			return err
		}
		if seenCtx[pc.ID] {
			return protoErr(AbortInvalidParam, "presentation context ID %d proposed twice (byte %d)", pc.ID, off)
		}
		if len(rq.Contexts) == MaxContexts {
			return protoErr(AbortInvalidParam, "more than %d presentation contexts", MaxContexts)
		}
		seenCtx[pc.ID] = true
		rq.Contexts = append(rq.Contexts, pc)
		return nil
	})
	if err != nil {
		return nil, err
	}
	rq.ApplicationContext = app
	haveApp := app != ""
	if !haveApp {
		return nil, protoErr(AbortInvalidParam, "A-ASSOCIATE-RQ has no application context item")
	}
	if len(rq.Contexts) == 0 {
		return nil, protoErr(AbortInvalidParam, "A-ASSOCIATE-RQ proposes no presentation context")
	}
	return rq, nil
}

// associateItems walks the variable items of an A-ASSOCIATE-RQ or -AC:
// at most one application context item, whose name it returns; the
// presentation context items of type ctxItem, each given to onContext; at
// most one user information item, parsed into ui. Items of other types
// are ignored (PS3.8 9.3.1).
func associateItems(b []byte, ctxItem byte, ui *AssociateRQ, onContext func(v []byte, off int) error) (app string, haveUser bool, err error) {
	haveApp := false
	err = walkItems(b, rqFixed, func(typ byte, v []byte, off int) error {
		switch typ {
		case itemAppContext:
			if haveApp {
				return protoErr(AbortUnexpectedParam, "second application context item at byte %d", off)
			}
			haveApp = true
			s, err := uid(v, off, "application context name")
			if err != nil {
				return err
			}
			app = s
		case ctxItem:
			return onContext(v, off)
		case itemUserInfo:
			if haveUser {
				return protoErr(AbortUnexpectedParam, "second user information item at byte %d", off)
			}
			haveUser = true
			return parseUserInfo(ui, v, off)
		}
		return nil
	})
	return app, haveUser, err
}

// walkItems calls fn for each item (type, reserved, 2-byte length, value) of
// b; base is b's offset in the PDU body, for messages.
func walkItems(b []byte, base int, fn func(typ byte, v []byte, off int) error) error {
	for off := 0; off < len(b); {
		if len(b)-off < 4 {
			return protoErr(AbortInvalidParam, "item header cut short at byte %d", base+off)
		}
		typ := b[off]
		n := int(binary.BigEndian.Uint16(b[off+2:]))
		if n > len(b)-off-4 {
			return protoErr(AbortInvalidParam, "item 0x%02x at byte %d declares %d bytes, only %d left", typ, base+off, n, len(b)-off-4)
		}
		if err := fn(typ, b[off+4:off+4+n], base+off); err != nil {
			return err
		}
		off += 4 + n
	}
	return nil
}

func parsePresContext(v []byte, off int) (PresentationContext, error) {
	var pc PresentationContext
	if len(v) < 4 {
		return pc, protoErr(AbortInvalidParam, "presentation context item at byte %d has %d bytes, fewer than 4", off, len(v))
	}
	pc.ID = v[0]
	if pc.ID%2 == 0 {
		return pc, protoErr(AbortInvalidParam, "presentation context ID %d at byte %d is even", pc.ID, off)
	}
	var haveAbs bool
	err := walkItems(v[4:], off+8, func(typ byte, s []byte, soff int) error {
		switch typ {
		case itemAbstractSyntax:
			if haveAbs {
				return protoErr(AbortUnexpectedParam, "second abstract syntax in presentation context %d (byte %d)", pc.ID, soff)
			}
			haveAbs = true
			u, err := uid(s, soff, "abstract syntax")
			if err != nil {
				return err
			}
			pc.AbstractSyntax = u
		case itemTransferSyntax:
			if len(pc.TransferSyntaxes) == MaxTransferSyntaxes {
				return protoErr(AbortInvalidParam, "more than %d transfer syntaxes in presentation context %d", MaxTransferSyntaxes, pc.ID)
			}
			u, err := uid(s, soff, "transfer syntax")
			if err != nil {
				return err
			}
			pc.TransferSyntaxes = append(pc.TransferSyntaxes, u)
		default:
			return protoErr(AbortUnrecognizedParam, "sub-item 0x%02x in presentation context %d (byte %d)", typ, pc.ID, soff)
		}
		return nil
	})
	if err != nil {
		return pc, err
	}
	if !haveAbs {
		return pc, protoErr(AbortInvalidParam, "presentation context %d (byte %d) has no abstract syntax", pc.ID, off)
	}
	if len(pc.TransferSyntaxes) == 0 {
		return pc, protoErr(AbortInvalidParam, "presentation context %d (byte %d) has no transfer syntax", pc.ID, off)
	}
	return pc, nil
}

func parseUserInfo(rq *AssociateRQ, v []byte, off int) error {
	return walkItems(v, off+4, func(typ byte, s []byte, soff int) error {
		switch typ {
		case subMaxLength:
			if len(s) != 4 {
				return protoErr(AbortInvalidParam, "maximum length sub-item at byte %d has %d bytes, want 4", soff, len(s))
			}
			rq.MaxPDULength = binary.BigEndian.Uint32(s)
		case subImplClassUID:
			u, err := uid(s, soff, "implementation class UID")
			if err != nil {
				return err
			}
			rq.ImplementationClassUID = u
		case subImplVersion:
			if len(s) > maxVersionName {
				return protoErr(AbortInvalidParam, "implementation version name at byte %d has %d bytes, more than %d", soff, len(s), maxVersionName)
			}
			rq.ImplementationVersion = printable(s)
		default:
			// Asynchronous operations window, role selection, extended
			// negotiation, user identity: not answered, so the defaults of
			// PS3.7 D.3.3 apply (one operation at a time, requester is SCU).
		}
		return nil
	})
}

func uid(b []byte, off int, what string) (string, error) {
	s := strings.TrimRight(string(b), "\x00 ")
	if len(s) == 0 || len(s) > maxUID {
		return "", protoErr(AbortInvalidParam, "%s at byte %d has %d characters, want 1 to %d", what, off, len(s), maxUID)
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < '0' || c > '9') && c != '.' {
			return "", protoErr(AbortInvalidParam, "%s at byte %d is not a UID: %q", what, off, s)
		}
	}
	return s, nil
}

// aeTitle returns an AE title without the spaces that PS3.8 9.3.2 says are
// not significant; anything unprintable becomes '?', so a log line cannot be
// forged by a title.
func aeTitle(b []byte) string { return strings.TrimSpace(printable(b)) }

func printable(b []byte) string {
	r := []byte(strings.TrimRight(string(b), "\x00"))
	for i, c := range r {
		if c < 0x20 || c > 0x7e {
			r[i] = '?'
		}
	}
	return string(r)
}

// Presentation context results (PS3.8 9.3.3.2).
const (
	ResultAcceptance                 byte = 0
	ResultUserRejection              byte = 1
	ResultProviderRejection          byte = 2
	ResultAbstractSyntaxNotSupported byte = 3
	ResultTransferSyntaxNotSupported byte = 4
)

// ContextResult is the answer to one proposed presentation context.
type ContextResult struct {
	ID             byte
	Result         byte
	TransferSyntax string // the one accepted; for a refusal, the first proposed
}

// AssociateAC is an A-ASSOCIATE-AC to send.
type AssociateAC struct {
	CalledAE, CallingAE    string // echoed from the request (PS3.8 9.3.3)
	Results                []ContextResult
	MaxPDULength           uint32 // the most this side receives in one P-DATA-TF
	ImplementationClassUID string
	ImplementationVersion  string
}

// Marshal returns the whole PDU.
func (a *AssociateAC) Marshal() []byte {
	var body []byte
	body = binary.BigEndian.AppendUint16(body, 1)
	body = append(body, 0, 0)
	body = appendAE(body, a.CalledAE)
	body = appendAE(body, a.CallingAE)
	body = append(body, make([]byte, 32)...)
	body = appendItem(body, itemAppContext, []byte(ApplicationContext))
	for _, r := range a.Results {
		pc := []byte{r.ID, 0, r.Result, 0}
		pc = appendItem(pc, itemTransferSyntax, []byte(r.TransferSyntax))
		body = appendItem(body, itemPresContextAC, pc)
	}
	body = appendItem(body, itemUserInfo, userInfo(a.MaxPDULength, a.ImplementationClassUID, a.ImplementationVersion))
	return append(appendHeader(make([]byte, 0, HeaderLen+len(body)), TypeAssociateAC, len(body)), body...)
}

// Marshal returns the request as a whole PDU; tests and fuzz seeds use it to
// speak as a requester.
func (rq *AssociateRQ) Marshal() []byte {
	var body []byte
	body = binary.BigEndian.AppendUint16(body, rq.ProtocolVersion)
	body = append(body, 0, 0)
	body = appendAE(body, rq.CalledAE)
	body = appendAE(body, rq.CallingAE)
	body = append(body, make([]byte, 32)...)
	body = appendItem(body, itemAppContext, []byte(rq.ApplicationContext))
	for _, c := range rq.Contexts {
		pc := []byte{c.ID, 0, 0, 0}
		pc = appendItem(pc, itemAbstractSyntax, []byte(c.AbstractSyntax))
		for _, ts := range c.TransferSyntaxes {
			pc = appendItem(pc, itemTransferSyntax, []byte(ts))
		}
		body = appendItem(body, itemPresContextRQ, pc)
	}
	body = appendItem(body, itemUserInfo, userInfo(rq.MaxPDULength, rq.ImplementationClassUID, rq.ImplementationVersion))
	return append(appendHeader(make([]byte, 0, HeaderLen+len(body)), TypeAssociateRQ, len(body)), body...)
}

func userInfo(maxLen uint32, class, version string) []byte {
	var ui []byte
	ui = appendItem(ui, subMaxLength, binary.BigEndian.AppendUint32(nil, maxLen))
	if class != "" {
		ui = appendItem(ui, subImplClassUID, []byte(class))
	}
	if version != "" {
		ui = appendItem(ui, subImplVersion, []byte(version))
	}
	return ui
}

func appendAE(b []byte, ae string) []byte {
	var f [aeLen]byte
	for i := range f {
		f[i] = ' '
	}
	copy(f[:], ae)
	return append(b, f[:]...)
}

func appendItem(b []byte, typ byte, v []byte) []byte {
	b = append(b, typ, 0)
	b = binary.BigEndian.AppendUint16(b, uint16(len(v)))
	return append(b, v...)
}
