package ul

import (
	"bytes"
	"errors"
	"strings"
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

func TestAssociateACRoundTrip(t *testing.T) {
	ac := &AssociateAC{CalledAE: "PACS", CallingAE: "EDGE", MaxPDULength: 4096, ImplementationClassUID: "1.2.3",
		Results: []ContextResult{{ID: 1, Result: ResultAcceptance, TransferSyntax: "1.2.840.10008.1.2.1"},
			{ID: 3, Result: ResultTransferSyntaxNotSupported, TransferSyntax: "1.2.840.10008.1.2"}}}
	got, err := ParseAssociateAC(ac.Marshal()[HeaderLen:])
	if err != nil {
		t.Fatal(err)
	}
	if got.MaxPDULength != 4096 || got.CalledAE != "PACS" || len(got.Results) != 2 ||
		got.Results[0] != ac.Results[0] || got.Results[1].Result != ResultTransferSyntaxNotSupported || got.Results[1].TransferSyntax != "" {
		t.Fatalf("%+v", got)
	}
	for name, bad := range map[string]func(*AssociateAC){
		"even id":         func(a *AssociateAC) { a.Results[0].ID = 2 },
		"result 5":        func(a *AssociateAC) { a.Results[0].Result = 5 },
		"accepted, no ts": func(a *AssociateAC) { a.Results[0].TransferSyntax = "" },
		"not a uid":       func(a *AssociateAC) { a.Results[0].TransferSyntax = "1.2.x" },
		"id twice":        func(a *AssociateAC) { a.Results[1].ID = 1 },
	} {
		c := *ac
		c.Results = append([]ContextResult(nil), ac.Results...)
		bad(&c)
		var pe *ProtocolError
		if _, err := ParseAssociateAC(c.Marshal()[HeaderLen:]); !errors.As(err, &pe) {
			t.Errorf("%s: err %v", name, err)
		}
	}
	if _, err := ParseAssociateAC(ac.Marshal()[HeaderLen : HeaderLen+40]); err == nil {
		t.Error("accepted a cut answer")
	}
}

func TestAssociateRJ(t *testing.T) {
	rj, err := ParseAssociateRJ(AssociateRJ(RejectPermanent, RejectSourceUser, RejectCalledAE)[HeaderLen:])
	if err != nil {
		t.Fatal(err)
	}
	if rj.Transient() || !strings.Contains(rj.Error(), "called AE title not recognized") || !strings.Contains(rj.Error(), "permanently") {
		t.Fatalf("%v", rj)
	}
	rj, err = ParseAssociateRJ(AssociateRJ(RejectTransient, RejectSourcePresentation, RejectLocalLimitExceeded)[HeaderLen:])
	if err != nil || !rj.Transient() || !strings.Contains(rj.Error(), "local limit exceeded") {
		t.Fatalf("%v %v", rj, err)
	}
	for _, b := range [][]byte{{0, 3, 1, 1}, {0, 1, 0, 1}, {0, 1, 4, 1}, {0, 1, 1}} {
		if _, err := ParseAssociateRJ(b); err == nil {
			t.Errorf("accepted %v", b)
		}
	}
}
