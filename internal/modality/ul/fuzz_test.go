package ul

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// FuzzReader reads any stream as PDUs and parses each as its type says: no
// panic, no read past a limit, and every failure a *ProtocolError or a short
// stream.
func FuzzReader(f *testing.F) {
	f.Add(Abort(2, 1))
	f.Add(append(ReleaseRQ(), ReleaseRP()...))
	f.Fuzz(func(t *testing.T, stream []byte) {
		const limit = 16 << 10
		rd := NewReader(bytes.NewReader(stream))
		for {
			typ, body, err := rd.Next(limit)
			if err != nil {
				var pe *ProtocolError
				if !errors.As(err, &pe) && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
					t.Fatalf("unexpected error %v", err)
				}
				return
			}
			if len(body) > limit {
				t.Fatalf("%v body of %d bytes past the limit", typ, len(body))
			}
			switch typ {
			case TypeAssociateRQ:
				ParseAssociateRQ(body)
			case TypeAssociateAC:
				ParseAssociateAC(body)
			case TypeAssociateRJ:
				ParseAssociateRJ(body)
			case TypePData:
				n := 0
				EachPDV(body, func(p PDV) error {
					n += len(p.Data)
					return nil
				})
				if n > len(body) {
					t.Fatalf("PDVs hold %d bytes of a %d-byte PDU", n, len(body))
				}
			case TypeAbort:
				ParseAbort(body)
			}
		}
	})
}

// FuzzAssociateRQ parses any A-ASSOCIATE-RQ body; one that parses encodes
// and parses again to the same request.
func FuzzAssociateRQ(f *testing.F) {
	f.Fuzz(func(t *testing.T, body []byte) {
		rq, err := ParseAssociateRQ(body)
		if err != nil {
			var pe *ProtocolError
			if !errors.As(err, &pe) {
				t.Fatalf("error %v is not a *ProtocolError", err)
			}
			return
		}
		if len(rq.Contexts) == 0 || len(rq.Contexts) > MaxContexts {
			t.Fatalf("%d contexts", len(rq.Contexts))
		}
		again, err := ParseAssociateRQ(rq.Marshal()[HeaderLen:])
		if err != nil {
			t.Fatalf("re-encoded request does not parse: %v", err)
		}
		// Marshal pads AE titles to 16 characters and drops what is longer.
		if len(rq.CalledAE) > 16 || len(rq.CallingAE) > 16 {
			t.Fatalf("AE title longer than 16: %q %q", rq.CalledAE, rq.CallingAE)
		}
		if !reflect.DeepEqual(again.Contexts, rq.Contexts) || again.MaxPDULength != rq.MaxPDULength || again.CallingAE != rq.CallingAE {
			t.Fatalf("round trip: %+v != %+v", again, rq)
		}
	})
}

// FuzzAssociateAC parses any A-ASSOCIATE-AC body; one that parses encodes
// and parses again to the same answer, and every failure is a
// *ProtocolError.
func FuzzAssociateAC(f *testing.F) {
	ac := &AssociateAC{CalledAE: "PACS", CallingAE: "EDGE", MaxPDULength: 16384, ImplementationClassUID: "1.2.3", ImplementationVersion: "V1",
		Results: []ContextResult{{ID: 1, Result: ResultAcceptance, TransferSyntax: "1.2.840.10008.1.2.1"}, {ID: 3, Result: ResultAbstractSyntaxNotSupported}}}
	f.Add(ac.Marshal()[HeaderLen:])
	f.Fuzz(func(t *testing.T, body []byte) {
		ac, err := ParseAssociateAC(body)
		if err != nil {
			var pe *ProtocolError
			if !errors.As(err, &pe) {
				t.Fatalf("error %v is not a *ProtocolError", err)
			}
			return
		}
		if len(ac.Results) > MaxContexts {
			t.Fatalf("%d results", len(ac.Results))
		}
		for _, r := range ac.Results {
			if (r.Result == ResultAcceptance) != (r.TransferSyntax != "") {
				t.Fatalf("result %+v", r)
			}
		}
		again, err := ParseAssociateAC(ac.Marshal()[HeaderLen:])
		if err != nil {
			t.Fatalf("re-encoded answer does not parse: %v", err)
		}
		if !reflect.DeepEqual(again.Results, ac.Results) || again.MaxPDULength != ac.MaxPDULength {
			t.Fatalf("round trip: %+v != %+v", again, ac)
		}
	})
}

// FuzzAssociateRJ parses any A-ASSOCIATE-RJ body: a *ProtocolError or a
// rejection whose message names its source.
func FuzzAssociateRJ(f *testing.F) {
	f.Add(AssociateRJ(RejectPermanent, RejectSourceUser, RejectCalledAE)[HeaderLen:])
	f.Fuzz(func(t *testing.T, body []byte) {
		rj, err := ParseAssociateRJ(body)
		if err != nil {
			var pe *ProtocolError
			if !errors.As(err, &pe) {
				t.Fatalf("error %v is not a *ProtocolError", err)
			}
			return
		}
		if rj.Error() == "" || rj.Transient() != (body[1] == RejectTransient) {
			t.Fatalf("%+v", rj)
		}
	})
}

var update = flag.Bool("update", false, "rewrite the fuzz seeds under testdata/fuzz")

// TestFuzzSeeds keeps the generated seeds of the requester's parsers in
// testdata/fuzz in step with their generator.
func TestFuzzSeeds(t *testing.T) {
	ac := &AssociateAC{CalledAE: "PACS", CallingAE: "EDGE", MaxPDULength: 16384, ImplementationClassUID: "1.2.3", ImplementationVersion: "V1",
		Results: []ContextResult{{ID: 1, Result: ResultAcceptance, TransferSyntax: "1.2.840.10008.1.2.1"}, {ID: 3, Result: ResultAbstractSyntaxNotSupported}}}
	seeds := map[string][]byte{
		"FuzzAssociateAC/seed-0": ac.Marshal()[HeaderLen:],
		"FuzzAssociateRJ/seed-0": AssociateRJ(RejectPermanent, RejectSourceUser, RejectCalledAE)[HeaderLen:],
		"FuzzAssociateRJ/seed-1": AssociateRJ(RejectTransient, RejectSourcePresentation, RejectTemporaryCongested)[HeaderLen:],
		"FuzzReader/seed-ac":     append(ac.Marshal(), AssociateRJ(RejectPermanent, RejectSourceACSE, RejectProtocolVersion)...),
	}
	for name, b := range seeds {
		path := filepath.Join("testdata", "fuzz", name)
		want := fmt.Appendf(nil, "go test fuzz v1\n[]byte(%q)\n", b)
		if *update {
			os.MkdirAll(filepath.Dir(path), 0o755)
			if err := os.WriteFile(path, want, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		got, err := os.ReadFile(path)
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s differs from its generator (run go test -run TestFuzzSeeds -update): %v", path, err)
		}
	}
}
