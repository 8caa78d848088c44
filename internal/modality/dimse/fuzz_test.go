package dimse

import (
	"errors"
	"testing"
)

// FuzzParse parses any command set: no panic, every failure a
// *FormatError, and a response built from what parsed parses again.
func FuzzParse(f *testing.F) {
	f.Add((&Request{Field: CEchoRQ, MessageID: 1, AffectedSOPClassUID: "1.2.840.10008.1.1", DataSetType: NoDataSet}).Marshal())
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := Parse(b)
		if err != nil {
			var fe *FormatError
			if !errors.As(err, &fe) {
				t.Fatalf("error %v is not a *FormatError", err)
			}
			return
		}
		r := &Response{Field: c.Field | 0x8000, MessageIDRespondedTo: c.MessageID, AffectedSOPClassUID: c.AffectedSOPClassUID,
			AffectedSOPInstanceUID: c.AffectedSOPInstanceUID, Status: StatusCannotUnderstand, ErrorComment: c.ErrorComment}
		back, err := Parse(r.Marshal())
		if err != nil {
			t.Fatalf("response does not parse: %v", err)
		}
		if back.MessageIDRespondedTo != c.MessageID || back.Status != StatusCannotUnderstand {
			t.Fatalf("response round trip: %+v", back)
		}
	})
}
