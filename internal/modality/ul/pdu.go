package ul

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// Type is a PDU type (PS3.8 9.3.1).
type Type byte

// The PDU types of PS3.8 table 9-11.
const (
	TypeAssociateRQ Type = 0x01
	TypeAssociateAC Type = 0x02
	TypeAssociateRJ Type = 0x03
	TypePData       Type = 0x04
	TypeReleaseRQ   Type = 0x05
	TypeReleaseRP   Type = 0x06
	TypeAbort       Type = 0x07
)

func (t Type) String() string {
	switch t {
	case TypeAssociateRQ:
		return "A-ASSOCIATE-RQ"
	case TypeAssociateAC:
		return "A-ASSOCIATE-AC"
	case TypeAssociateRJ:
		return "A-ASSOCIATE-RJ"
	case TypePData:
		return "P-DATA-TF"
	case TypeReleaseRQ:
		return "A-RELEASE-RQ"
	case TypeReleaseRP:
		return "A-RELEASE-RP"
	case TypeAbort:
		return "A-ABORT"
	}
	return fmt.Sprintf("PDU type 0x%02x", byte(t))
}

// AbortReason is the reason/diag field of an A-ABORT sent by the service
// provider (PS3.8 9.3.8).
type AbortReason byte

// Reasons an A-ABORT from the service provider gives.
const (
	AbortNotSpecified      AbortReason = 0
	AbortUnrecognizedPDU   AbortReason = 1
	AbortUnexpectedPDU     AbortReason = 2
	AbortUnrecognizedParam AbortReason = 4
	AbortUnexpectedParam   AbortReason = 5
	AbortInvalidParam      AbortReason = 6
)

// Sources of an A-ABORT (PS3.8 9.3.8).
const (
	AbortSourceUser     byte = 0
	AbortSourceProvider byte = 2
)

// ProtocolError is a PDU that breaks PS3.8: the association is aborted with
// Reason.
type ProtocolError struct {
	Reason AbortReason
	Msg    string
}

func (e *ProtocolError) Error() string { return "ul: " + e.Msg }

func protoErr(reason AbortReason, format string, args ...any) error {
	return &ProtocolError{Reason: reason, Msg: fmt.Sprintf(format, args...)}
}

// HeaderLen is the length of the fixed PDU header: type, reserved, length.
const HeaderLen = 6

// fixedLen is the length of the PDUs whose body is four bytes: A-ASSOCIATE-RJ,
// A-RELEASE-RQ/RP and A-ABORT.
const fixedLen = 4

// Reader reads whole PDUs from a stream into one buffer it reuses, never
// larger than the limit the caller gives for the PDU it expects.
type Reader struct {
	r   io.Reader
	hdr [HeaderLen]byte
	buf []byte
}

// NewReader reads PDUs from r; r should be buffered.
func NewReader(r io.Reader) *Reader { return &Reader{r: r} }

// Next reads one PDU and returns its type and body. The body is valid until
// the next call. A PDU whose declared length exceeds limit, or whose type is
// not one of PS3.8's, is a *ProtocolError and its body is not read. A stream
// that ends inside a PDU is io.ErrUnexpectedEOF; one that ends before a PDU
// starts is io.EOF.
func (r *Reader) Next(limit uint32) (Type, []byte, error) {
	if _, err := io.ReadFull(r.r, r.hdr[:]); err != nil {
		return 0, nil, err
	}
	t := Type(r.hdr[0])
	n := binary.BigEndian.Uint32(r.hdr[2:])
	switch t {
	case TypeAssociateRQ, TypeAssociateAC, TypePData:
		if n > limit {
			return t, nil, protoErr(AbortInvalidParam, "%v of %d bytes, more than the %d allowed", t, n, limit)
		}
	case TypeAssociateRJ, TypeReleaseRQ, TypeReleaseRP, TypeAbort:
		if n != fixedLen {
			return t, nil, protoErr(AbortInvalidParam, "%v of %d bytes, want %d", t, n, fixedLen)
		}
	default:
		return t, nil, protoErr(AbortUnrecognizedPDU, "unrecognized PDU type 0x%02x", byte(t))
	}
	if uint32(cap(r.buf)) < n {
		r.buf = make([]byte, n)
	}
	b := r.buf[:n]
	if _, err := io.ReadFull(r.r, b); err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return t, nil, fmt.Errorf("ul: read %v body of %d bytes: %w", t, n, err)
	}
	return t, b, nil
}

// appendHeader appends a PDU header for a body of n bytes.
func appendHeader(b []byte, t Type, n int) []byte {
	b = append(b, byte(t), 0)
	return binary.BigEndian.AppendUint32(b, uint32(n))
}

// Abort is an A-ABORT PDU.
func Abort(source byte, reason AbortReason) []byte {
	b := appendHeader(make([]byte, 0, HeaderLen+fixedLen), TypeAbort, fixedLen)
	return append(b, 0, 0, source, byte(reason))
}

// ReleaseRP is the A-RELEASE-RP PDU.
func ReleaseRP() []byte {
	b := appendHeader(make([]byte, 0, HeaderLen+fixedLen), TypeReleaseRP, fixedLen)
	return append(b, 0, 0, 0, 0)
}

// ReleaseRQ is the A-RELEASE-RQ PDU.
func ReleaseRQ() []byte {
	b := appendHeader(make([]byte, 0, HeaderLen+fixedLen), TypeReleaseRQ, fixedLen)
	return append(b, 0, 0, 0, 0)
}

// Results, sources and reasons of an A-ASSOCIATE-RJ (PS3.8 9.3.4).
const (
	RejectPermanent byte = 1
	RejectTransient byte = 2

	RejectSourceUser         byte = 1 // service-user
	RejectSourceACSE         byte = 2 // service-provider, ACSE related function
	RejectSourcePresentation byte = 3 // service-provider, presentation related function

	// Source 1.
	RejectNoReason           byte = 1
	RejectAppContext         byte = 2
	RejectCallingAE          byte = 3
	RejectCalledAE           byte = 7
	RejectProtocolVersion    byte = 2 // source 2
	RejectTemporaryCongested byte = 1 // source 3
	RejectLocalLimitExceeded byte = 2 // source 3
)

// AssociateRJ is an A-ASSOCIATE-RJ PDU.
func AssociateRJ(result, source, reason byte) []byte {
	b := appendHeader(make([]byte, 0, HeaderLen+fixedLen), TypeAssociateRJ, fixedLen)
	return append(b, 0, result, source, reason)
}

// ParseAbort returns the source and reason of an A-ABORT body.
func ParseAbort(body []byte) (source byte, reason AbortReason) {
	if len(body) < fixedLen {
		return 0, 0
	}
	return body[2], AbortReason(body[3])
}
