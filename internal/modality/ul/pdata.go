package ul

import (
	"encoding/binary"
	"fmt"
	"io"
)

// PDV is one presentation data value item of a P-DATA-TF (PS3.8 9.3.5, E.2).
type PDV struct {
	Context byte
	Command bool // a fragment of a command set; otherwise of a data set
	Last    bool // the last fragment of its command or data set
	Data    []byte
}

const (
	pdvHeader  = 6 // 4-byte item length, context ID, message control header
	mchCommand = 0x01
	mchLast    = 0x02
)

// EachPDV calls fn for each PDV of a P-DATA-TF body, in order. Data slices
// point into body. A body without a PDV, an item length under 2 or past the
// PDU, or reserved bits set in the message control header is a
// *ProtocolError.
func EachPDV(body []byte, fn func(PDV) error) error {
	if len(body) == 0 {
		return protoErr(AbortInvalidParam, "P-DATA-TF without a PDV")
	}
	for off := 0; off < len(body); {
		if len(body)-off < pdvHeader {
			return protoErr(AbortInvalidParam, "PDV header cut short at byte %d of %d", off, len(body))
		}
		n := binary.BigEndian.Uint32(body[off:])
		if n < 2 || uint64(n) > uint64(len(body)-off-4) {
			return protoErr(AbortInvalidParam, "PDV at byte %d declares %d bytes, %d left", off, n, len(body)-off-4)
		}
		mch := body[off+5]
		if mch&^(mchCommand|mchLast) != 0 {
			return protoErr(AbortInvalidParam, "PDV at byte %d has message control header 0x%02x", off, mch)
		}
		p := PDV{
			Context: body[off+4],
			Command: mch&mchCommand != 0,
			Last:    mch&mchLast != 0,
			Data:    body[off+pdvHeader : off+4+int(n)],
		}
		if err := fn(p); err != nil {
			return err
		}
		off += 4 + int(n)
	}
	return nil
}

// fragmentCap is the fragment size used when the peer sets no limit.
const fragmentCap = 1 << 20

// WritePData sends msg (a whole command or data set) on context ctx in
// P-DATA-TF PDUs of one PDV each, none longer than maxPDU (the peer's
// maximum length; 0 means no limit). buf is scratch space reused between
// calls; the grown buffer is returned.
func WritePData(w io.Writer, ctx byte, command bool, msg []byte, maxPDU uint32, buf []byte) ([]byte, error) {
	frag := fragmentCap
	if maxPDU != 0 && int64(maxPDU)-pdvHeader < int64(frag) {
		frag = max(int(maxPDU)-pdvHeader, 1)
	}
	for first := true; first || len(msg) > 0; first = false {
		n := min(frag, len(msg))
		mch := byte(0)
		if command {
			mch |= mchCommand
		}
		if n == len(msg) {
			mch |= mchLast
		}
		buf = appendHeader(buf[:0], TypePData, pdvHeader+n)
		buf = binary.BigEndian.AppendUint32(buf, uint32(2+n))
		buf = append(buf, ctx, mch)
		buf = append(buf, msg[:n]...)
		if _, err := w.Write(buf); err != nil {
			return buf, fmt.Errorf("ul: write P-DATA-TF: %w", err)
		}
		msg = msg[n:]
	}
	return buf, nil
}
