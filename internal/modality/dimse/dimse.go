package dimse

import (
	"encoding/binary"
	"fmt"
	"strings"
)

// Command fields (PS3.7 E.1).
const (
	CStoreRQ  uint16 = 0x0001
	CStoreRSP uint16 = 0x8001
	CEchoRQ   uint16 = 0x0030
	CEchoRSP  uint16 = 0x8030
)

// NoDataSet is the Command Data Set Type that says no data set follows;
// DataSetPresent, like any other value, says one does.
const (
	NoDataSet      uint16 = 0x0101
	DataSetPresent uint16 = 0x0000
)

// Status codes this provider answers with (PS3.7 C, B.2.3, 9.1.2.1.5).
const (
	StatusSuccess             uint16 = 0x0000
	StatusSOPClassNotSupport  uint16 = 0x0122
	StatusOutOfResources      uint16 = 0xA700
	StatusDataSetMismatch     uint16 = 0xA900
	StatusCannotUnderstand    uint16 = 0xC000
	StatusUnrecognizedOperate uint16 = 0x0211
)

// Tags of the command set (group 0000).
const (
	tagGroupLength     = 0x0000
	tagAffectedSOP     = 0x0002
	tagCommandField    = 0x0100
	tagMessageID       = 0x0110
	tagMessageIDRsp    = 0x0120
	tagMoveOriginAE    = 0x1030
	tagMoveOriginMsgID = 0x1031
	tagPriority        = 0x0700
	tagDataSetType     = 0x0800
	tagStatus          = 0x0900
	tagErrorComment    = 0x0902
	tagAffectedInst    = 0x1000
)

// MaxCommandLen bounds a command set; real ones are a few hundred bytes.
const MaxCommandLen = 16 << 10

// Command is a parsed DIMSE command set.
type Command struct {
	Field                  uint16
	MessageID              uint16
	MessageIDRespondedTo   uint16
	AffectedSOPClassUID    string
	AffectedSOPInstanceUID string
	Priority               uint16
	DataSetType            uint16
	Status                 uint16
	ErrorComment           string
	MoveOriginatorAE       string
	MoveOriginatorMsgID    uint16

	has map[uint16]bool
}

// Has reports whether the command set held the element (0000,elem).
func (c *Command) Has(elem uint16) bool { return c.has[elem] }

// HasDataSet reports whether a data set follows the command.
func (c *Command) HasDataSet() bool { return c.DataSetType != NoDataSet }

// FormatError is a command set that breaks PS3.7 E.
type FormatError struct {
	Offset int
	Msg    string
}

func (e *FormatError) Error() string {
	return fmt.Sprintf("dimse: malformed command set at byte %d: %s", e.Offset, e.Msg)
}

func formatErr(off int, format string, args ...any) error {
	return &FormatError{Offset: off, Msg: fmt.Sprintf(format, args...)}
}

// Parse reads a command set: implicit VR little endian elements of group
// 0000 in ascending order, starting with Command Group Length, whose value
// must be the exact number of bytes after it. Anything after those bytes,
// an element of another group, a length past the end or a value of the wrong
// size for its element is a *FormatError.
func Parse(b []byte) (*Command, error) {
	if len(b) > MaxCommandLen {
		return nil, formatErr(0, "%d bytes, more than %d", len(b), MaxCommandLen)
	}
	c := &Command{has: map[uint16]bool{}}
	prev := -1
	for off := 0; off < len(b); {
		if len(b)-off < 8 {
			return nil, formatErr(off, "element header cut short")
		}
		group := binary.LittleEndian.Uint16(b[off:])
		elem := binary.LittleEndian.Uint16(b[off+2:])
		n := binary.LittleEndian.Uint32(b[off+4:])
		if group != 0 {
			return nil, formatErr(off, "element (%04X,%04X) outside the command group", group, elem)
		}
		if int(elem) <= prev {
			return nil, formatErr(off, "element (0000,%04X) out of order", elem)
		}
		prev = int(elem)
		if uint64(n) > uint64(len(b)-off-8) {
			return nil, formatErr(off, "element (0000,%04X) declares %d bytes, %d left", elem, n, len(b)-off-8)
		}
		v := b[off+8 : off+8+int(n)]
		if off == 0 {
			if elem != tagGroupLength {
				return nil, formatErr(off, "first element (0000,%04X), want Command Group Length (0000,0000)", elem)
			}
		}
		if err := c.set(elem, v, off); err != nil {
			return nil, err
		}
		if elem == tagGroupLength {
			gl := binary.LittleEndian.Uint32(v)
			if rest := len(b) - off - 12; uint64(gl) != uint64(rest) {
				return nil, formatErr(off, "Command Group Length says %d bytes, %d follow", gl, rest)
			}
		}
		c.has[elem] = true
		off += 8 + int(n)
	}
	if !c.has[tagGroupLength] {
		return nil, formatErr(0, "empty command set")
	}
	if !c.has[tagCommandField] {
		return nil, formatErr(0, "no Command Field (0000,0100)")
	}
	if !c.has[tagDataSetType] {
		return nil, formatErr(0, "no Command Data Set Type (0000,0800)")
	}
	return c, nil
}

func (c *Command) set(elem uint16, v []byte, off int) error {
	us := func(dst *uint16) error {
		if len(v) != 2 {
			return formatErr(off, "(0000,%04X) of %d bytes, want 2", elem, len(v))
		}
		*dst = binary.LittleEndian.Uint16(v)
		return nil
	}
	str := func(dst *string, maxLen int) error {
		if len(v) > maxLen {
			return formatErr(off, "(0000,%04X) of %d bytes, more than %d", elem, len(v), maxLen)
		}
		*dst = strings.TrimRight(string(v), "\x00 ")
		return nil
	}
	switch elem {
	case tagGroupLength:
		if len(v) != 4 {
			return formatErr(off, "Command Group Length of %d bytes, want 4", len(v))
		}
		return nil
	case tagAffectedSOP:
		return str(&c.AffectedSOPClassUID, 64)
	case tagAffectedInst:
		return str(&c.AffectedSOPInstanceUID, 64)
	case tagCommandField:
		return us(&c.Field)
	case tagMessageID:
		return us(&c.MessageID)
	case tagMessageIDRsp:
		return us(&c.MessageIDRespondedTo)
	case tagPriority:
		return us(&c.Priority)
	case tagDataSetType:
		return us(&c.DataSetType)
	case tagStatus:
		return us(&c.Status)
	case tagErrorComment:
		return str(&c.ErrorComment, 64)
	case tagMoveOriginAE:
		return str(&c.MoveOriginatorAE, 16)
	case tagMoveOriginMsgID:
		return us(&c.MoveOriginatorMsgID)
	}
	// Other command elements (retired ones, those of services this provider
	// does not offer) are stepped over: their lengths were checked.
	return nil
}

// Response is a C-ECHO-RSP or C-STORE-RSP to send.
type Response struct {
	Field                  uint16
	MessageIDRespondedTo   uint16
	AffectedSOPClassUID    string
	AffectedSOPInstanceUID string // C-STORE only
	Status                 uint16
	ErrorComment           string // sent when not empty, cut to 64 characters
}

// Marshal encodes a response command set in implicit VR little endian.
func (r *Response) Marshal() []byte {
	var e []byte
	e = appendStr(e, tagAffectedSOP, r.AffectedSOPClassUID, 0)
	e = appendUS(e, tagCommandField, r.Field)
	e = appendUS(e, tagMessageIDRsp, r.MessageIDRespondedTo)
	e = appendUS(e, tagDataSetType, NoDataSet)
	e = appendUS(e, tagStatus, r.Status)
	if r.ErrorComment != "" {
		e = appendStr(e, tagErrorComment, Comment(r.ErrorComment), ' ')
	}
	if r.AffectedSOPInstanceUID != "" {
		e = appendStr(e, tagAffectedInst, r.AffectedSOPInstanceUID, 0)
	}
	b := make([]byte, 0, 12+len(e))
	b = appendHead(b, tagGroupLength, 4)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(e)))
	return append(b, e...)
}

// Request is a C-ECHO-RQ or C-STORE-RQ to send; tests and fuzz seeds speak as
// a requester with it.
type Request struct {
	Field                  uint16
	MessageID              uint16
	AffectedSOPClassUID    string
	AffectedSOPInstanceUID string
	DataSetType            uint16
}

// Marshal encodes a request command set in implicit VR little endian.
func (r *Request) Marshal() []byte {
	var e []byte
	e = appendStr(e, tagAffectedSOP, r.AffectedSOPClassUID, 0)
	e = appendUS(e, tagCommandField, r.Field)
	e = appendUS(e, tagMessageID, r.MessageID)
	if r.Field == CStoreRQ {
		e = appendUS(e, tagPriority, 0)
	}
	e = appendUS(e, tagDataSetType, r.DataSetType)
	if r.AffectedSOPInstanceUID != "" {
		e = appendStr(e, tagAffectedInst, r.AffectedSOPInstanceUID, 0)
	}
	b := appendHead(nil, tagGroupLength, 4)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(e)))
	return append(b, e...)
}

// Comment makes s fit an Error Comment (LO, 64 characters, no backslash or
// control characters).
func Comment(s string) string {
	r := []byte(s)
	for i, c := range r {
		if c < 0x20 || c > 0x7e || c == '\\' {
			r[i] = ' '
		}
	}
	if len(r) > 64 {
		r = r[:64]
	}
	return strings.TrimRight(string(r), " ")
}

func appendHead(b []byte, elem uint16, n int) []byte {
	b = binary.LittleEndian.AppendUint16(b, 0)
	b = binary.LittleEndian.AppendUint16(b, elem)
	return binary.LittleEndian.AppendUint32(b, uint32(n))
}

func appendUS(b []byte, elem uint16, v uint16) []byte {
	b = appendHead(b, elem, 2)
	return binary.LittleEndian.AppendUint16(b, v)
}

func appendStr(b []byte, elem uint16, s string, pad byte) []byte {
	v := []byte(s)
	if len(v)%2 == 1 {
		v = append(v, pad)
	}
	b = appendHead(b, elem, len(v))
	return append(b, v...)
}
