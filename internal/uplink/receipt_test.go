package uplink

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

func goodReceipt() *Receipt {
	return &Receipt{
		UploadID:   "0123456789abcdef-" + strings.Repeat("ab", 16) + "-0011223344556677",
		EnvelopeID: strings.Repeat("ab", 16),
		Outcome:    OutcomeRejected,
		Reason:     "uplink: envelope signature invalid: damaged or forged",
		Received:   time.Date(2026, 12, 1, 6, 0, 0, 0, time.UTC),
	}
}

func TestReceiptRoundTrip(t *testing.T) {
	r := goodReceipt()
	h, err := EncodeReceiptHeader(r)
	if err != nil {
		t.Fatal(err)
	}
	back, err := ParseReceiptHeader(h)
	if err != nil || *back != *r {
		t.Fatalf("round trip: %+v, %v", back, err)
	}
}

func TestReceiptRefused(t *testing.T) {
	for _, tc := range []struct{ name, json string }{
		{"unknown key", `{"upload_id":"a","envelope_id":"` + strings.Repeat("ab", 16) + `","outcome":"stored","received":"2026-01-01T00:00:00Z","extra":1}`},
		{"bad outcome", `{"upload_id":"a","envelope_id":"` + strings.Repeat("ab", 16) + `","outcome":"maybe","received":"2026-01-01T00:00:00Z"}`},
		{"rejected without reason", `{"upload_id":"a","envelope_id":"` + strings.Repeat("ab", 16) + `","outcome":"rejected","received":"2026-01-01T00:00:00Z"}`},
		{"upper hex id", `{"upload_id":"a","envelope_id":"` + strings.Repeat("AB", 16) + `","outcome":"stored","received":"2026-01-01T00:00:00Z"}`},
		{"slash in upload id", `{"upload_id":"a/b","envelope_id":"` + strings.Repeat("ab", 16) + `","outcome":"stored","received":"2026-01-01T00:00:00Z"}`},
		{"two objects", `{"upload_id":"a","envelope_id":"` + strings.Repeat("ab", 16) + `","outcome":"stored","received":"2026-01-01T00:00:00Z"}{}`},
		{"huge", `{"reason":"` + strings.Repeat("x", MaxReceipt) + `"}`},
		{"not json", `stored`},
	} {
		if _, err := ParseReceipt([]byte(tc.json)); !errors.Is(err, ErrReceipt) {
			t.Errorf("%s: %v, want ErrReceipt", tc.name, err)
		}
	}
	if _, err := ParseReceiptHeader("!!"); !errors.Is(err, ErrReceipt) {
		t.Errorf("bad base64: %v", err)
	}
}

// FuzzParseReceipt feeds what a device reads from the hub (or from anyone
// on the path, before the pin is checked) to the receipt parser: no panic,
// and anything accepted re-encodes to a receipt that parses the same.
func FuzzParseReceipt(f *testing.F) {
	f.Fuzz(func(t *testing.T, in []byte) {
		r, err := ParseReceipt(in)
		if err != nil {
			if !errors.Is(err, ErrReceipt) {
				t.Fatalf("error not an ErrReceipt: %v", err)
			}
			return
		}
		again, err := MarshalReceipt(r)
		if err != nil {
			t.Fatalf("accepted receipt does not re-encode: %v", err)
		}
		r2, err := ParseReceipt(again)
		if err != nil || r2.Outcome != r.Outcome || r2.EnvelopeID != r.EnvelopeID || r2.UploadID != r.UploadID || r2.Reason != r.Reason {
			t.Fatalf("re-encoded receipt differs: %+v vs %+v (%v)", r2, r, err)
		}
	})
}

// FuzzParseReceiptHeader is the same for the Edge-Receipt header.
func FuzzParseReceiptHeader(f *testing.F) {
	f.Fuzz(func(t *testing.T, in string) {
		if _, err := ParseReceiptHeader(in); err != nil && !errors.Is(err, ErrReceipt) {
			t.Fatalf("error not an ErrReceipt: %v", err)
		}
	})
}

func receiptSeeds(t *testing.T) (receipts [][]byte, headers []string) {
	b, err := MarshalReceipt(goodReceipt())
	if err != nil {
		t.Fatal(err)
	}
	stored := goodReceipt()
	stored.Outcome, stored.Reason = OutcomeStored, ""
	sb, _ := MarshalReceipt(stored)
	h, _ := EncodeReceiptHeader(stored)
	return [][]byte{b, sb, []byte(`{"outcome":"duplicate"}`), []byte(`[]`)}, []string{h, "e30", ""}
}

// TestReceiptFuzzSeeds keeps testdata/fuzz/FuzzParseReceipt* in step with
// receiptSeeds; -update rewrites them.
func TestReceiptFuzzSeeds(t *testing.T) {
	rs, hs := receiptSeeds(t)
	files := map[string][]byte{}
	for i, r := range rs {
		files[filepath.Join("FuzzParseReceipt", "seed-"+strconv.Itoa(i))] = fmt.Appendf(nil, "go test fuzz v1\n[]byte(%q)\n", r)
	}
	for i, h := range hs {
		files[filepath.Join("FuzzParseReceiptHeader", "seed-"+strconv.Itoa(i))] = fmt.Appendf(nil, "go test fuzz v1\nstring(%q)\n", h)
	}
	for name, want := range files {
		path := filepath.Join("testdata", "fuzz", name)
		if *update {
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, want, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		got, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (run go test -run TestReceiptFuzzSeeds -update)", err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs from receiptSeeds (run with -update)", path)
		}
	}
}
