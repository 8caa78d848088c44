package sensor

import (
	"encoding/binary"
	"fmt"
)

// Packet identifiers.
const (
	PIDCommand byte = 0x01
	PIDData    byte = 0x02
	PIDAck     byte = 0x07
	PIDEnd     byte = 0x08
)

// DefaultAddress is the address every module answers to until it is changed.
const DefaultAddress uint32 = 0xFFFFFFFF

const (
	headerLen = 9 // start code, address, pid, length
	// MaxPayload is the largest payload accepted from the wire: a 256-byte
	// data packet is the biggest thing any supported module sends.
	MaxPayload = 256
	// MaxFrame is the largest encoded packet.
	MaxFrame = headerLen + MaxPayload + 2
)

// Frame is one decoded packet.
type Frame struct {
	Address uint32
	PID     byte
	Payload []byte
}

// checksum is the module's 16-bit sum over the PID, the length and the payload.
func checksum(pid byte, length uint16, payload []byte) uint16 {
	s := uint16(pid) + length>>8 + length&0xFF
	for _, b := range payload {
		s += uint16(b)
	}
	return s
}

// AppendFrame appends the encoded packet to dst. It panics only on a payload
// larger than MaxPayload, which is a programming error: the driver never
// builds one.
func AppendFrame(dst []byte, f Frame) []byte {
	if len(f.Payload) > MaxPayload {
		panic(fmt.Sprintf("sensor: payload of %d bytes, more than %d", len(f.Payload), MaxPayload))
	}
	n := uint16(len(f.Payload) + 2)
	dst = append(dst, 0xEF, 0x01)
	dst = binary.BigEndian.AppendUint32(dst, f.Address)
	dst = append(dst, f.PID)
	dst = binary.BigEndian.AppendUint16(dst, n)
	dst = append(dst, f.Payload...)
	return binary.BigEndian.AppendUint16(dst, checksum(f.PID, n, f.Payload))
}

// FrameError says why bytes are not a packet; Offset is where in the buffer
// handed to ParseFrame the fault was found.
type FrameError struct {
	Offset int
	Reason string
}

func (e *FrameError) Error() string {
	return fmt.Sprintf("sensor: bad packet at byte %d: %s", e.Offset, e.Reason)
}

// ErrTruncated is returned by ParseFrame when b holds the start of a packet that
// may yet turn out valid once more bytes arrive.
var ErrTruncated error = &FrameError{Reason: "truncated"}

// ParseFrame decodes the packet at the start of b. It returns the packet and
// its encoded length, ErrTruncated when b ends before the packet does, or a
// *FrameError. The payload aliases b.
func ParseFrame(b []byte) (Frame, int, error) {
	if len(b) >= 1 && b[0] != 0xEF || len(b) >= 2 && b[1] != 0x01 {
		return Frame{}, 0, &FrameError{0, fmt.Sprintf("start code % x, want ef 01", b[:min(2, len(b))])}
	}
	if len(b) < headerLen {
		return Frame{}, 0, ErrTruncated
	}
	f := Frame{Address: binary.BigEndian.Uint32(b[2:6]), PID: b[6]}
	switch f.PID {
	case PIDCommand, PIDData, PIDAck, PIDEnd:
	default:
		return Frame{}, 0, &FrameError{6, fmt.Sprintf("packet identifier %#02x", f.PID)}
	}
	n := binary.BigEndian.Uint16(b[7:9])
	if n < 2 || int(n) > MaxPayload+2 {
		return Frame{}, 0, &FrameError{7, fmt.Sprintf("length %d, want 2 to %d", n, MaxPayload+2)}
	}
	end := headerLen + int(n)
	if len(b) < end {
		return Frame{}, 0, ErrTruncated
	}
	f.Payload = b[headerLen : end-2]
	got := binary.BigEndian.Uint16(b[end-2 : end])
	if want := checksum(f.PID, n, f.Payload); got != want {
		return Frame{}, 0, &FrameError{end - 2, fmt.Sprintf("checksum %#04x, computed %#04x", got, want)}
	}
	return f, end, nil
}
