package dimse

import (
	"errors"
	"strings"
	"testing"
)

func TestParseStoreRequest(t *testing.T) {
	b := (&Request{Field: CStoreRQ, MessageID: 7, AffectedSOPClassUID: "1.2.840.10008.5.1.4.1.1.7", AffectedSOPInstanceUID: "1.2.3", DataSetType: 0}).Marshal()
	c, err := Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	if c.Field != CStoreRQ || c.MessageID != 7 || c.AffectedSOPInstanceUID != "1.2.3" || !c.HasDataSet() || !c.Has(0x0700) {
		t.Fatalf("%+v", c)
	}
	for name, mutate := range map[string]func([]byte) []byte{
		"trailing bytes":   func(b []byte) []byte { return append(b, 0, 0, 0, 0) },
		"cut short":        func(b []byte) []byte { return b[:len(b)-3] },
		"group length off": func(b []byte) []byte { b[8]--; return b },
		"other group":      func(b []byte) []byte { b[12] = 8; return b },
		"US of 4 bytes": func([]byte) []byte {
			e := appendHead(nil, tagCommandField, 4)
			e = append(e, 1, 0, 0, 0)
			e = appendUS(e, tagDataSetType, NoDataSet)
			b := appendHead(nil, tagGroupLength, 4)
			return append(append(b, byte(len(e)), 0, 0, 0), e...)
		},
	} {
		_, err := Parse(mutate(append([]byte(nil), b...)))
		var fe *FormatError
		if !errors.As(err, &fe) {
			t.Errorf("%s: err %v", name, err)
		}
	}
}

func TestResponseErrorComment(t *testing.T) {
	r := &Response{Field: CStoreRSP, MessageIDRespondedTo: 3, AffectedSOPClassUID: "1.2", AffectedSOPInstanceUID: "1.2.3",
		Status: StatusOutOfResources, ErrorComment: "disk full\\\n" + strings.Repeat("x", 100)}
	c, err := Parse(r.Marshal())
	if err != nil {
		t.Fatal(err)
	}
	if c.Status != 0xA700 || c.MessageIDRespondedTo != 3 || len(c.ErrorComment) > 64 || strings.ContainsAny(c.ErrorComment, "\\\n") || !strings.HasPrefix(c.ErrorComment, "disk full") {
		t.Fatalf("%+v", c)
	}
}
