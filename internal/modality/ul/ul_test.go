package ul

import (
	"bytes"
	"errors"
	"testing"
)

func TestWritePDataFragmentsAtPeerLimit(t *testing.T) {
	msg := bytes.Repeat([]byte("0123456789"), 50)
	for _, maxPDU := range []uint32{0, 7, 20, 506, 4096} {
		var w bytes.Buffer
		if _, err := WritePData(&w, 3, true, msg, maxPDU, nil); err != nil {
			t.Fatal(err)
		}
		rd := NewReader(&w)
		var got []byte
		last := false
		for w.Len() > 0 {
			typ, body, err := rd.Next(1 << 20)
			if err != nil || typ != TypePData {
				t.Fatalf("max %d: %v %v", maxPDU, typ, err)
			}
			if maxPDU != 0 && uint32(len(body)) > maxPDU {
				t.Fatalf("max %d: PDU of %d bytes", maxPDU, len(body))
			}
			if last {
				t.Fatalf("max %d: fragment after the last", maxPDU)
			}
			EachPDV(body, func(p PDV) error {
				if p.Context != 3 || !p.Command {
					t.Fatalf("PDV %+v", p)
				}
				got = append(got, p.Data...)
				last = p.Last
				return nil
			})
		}
		if !last || !bytes.Equal(got, msg) {
			t.Fatalf("max %d: reassembled %d bytes, last %v", maxPDU, len(got), last)
		}
	}
}

func TestReaderRefusesBeforeReading(t *testing.T) {
	// A 4 GiB P-DATA-TF header with nothing behind it: refused from the
	// header alone, nothing allocated for the body.
	rd := NewReader(bytes.NewReader([]byte{4, 0, 0xFF, 0xFF, 0xFF, 0xFF}))
	_, _, err := rd.Next(16384)
	var pe *ProtocolError
	if !errors.As(err, &pe) || pe.Reason != AbortInvalidParam || cap(rd.buf) != 0 {
		t.Fatalf("err %v, buffer %d", err, cap(rd.buf))
	}
}

func TestAssociateRQRoundTrip(t *testing.T) {
	rq := &AssociateRQ{ProtocolVersion: 1, CalledAE: "EDGE", CallingAE: "CART 1", ApplicationContext: ApplicationContext,
		Contexts:     []PresentationContext{{ID: 1, AbstractSyntax: "1.2.840.10008.1.1", TransferSyntaxes: []string{"1.2.840.10008.1.2"}}},
		MaxPDULength: 32768, ImplementationClassUID: "1.2.3", ImplementationVersion: "V1"}
	got, err := ParseAssociateRQ(rq.Marshal()[HeaderLen:])
	if err != nil {
		t.Fatal(err)
	}
	if got.CallingAE != "CART 1" || got.CalledAE != "EDGE" || got.MaxPDULength != 32768 || got.ImplementationVersion != "V1" || got.Contexts[0].TransferSyntaxes[0] != "1.2.840.10008.1.2" {
		t.Fatalf("%+v", got)
	}
	for _, bad := range []func(*AssociateRQ){
		func(r *AssociateRQ) { r.Contexts[0].ID = 2 },
		func(r *AssociateRQ) { r.Contexts[0].TransferSyntaxes = nil },
		func(r *AssociateRQ) { r.Contexts[0].AbstractSyntax = "1.2.x" },
		func(r *AssociateRQ) { r.Contexts = append(r.Contexts, r.Contexts[0]) },
		func(r *AssociateRQ) { r.Contexts = nil },
	} {
		c := *rq
		c.Contexts = append([]PresentationContext(nil), rq.Contexts...)
		bad(&c)
		if _, err := ParseAssociateRQ(c.Marshal()[HeaderLen:]); err == nil {
			t.Errorf("accepted %+v", c)
		}
	}
}
