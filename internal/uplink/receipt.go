package uplink

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"
	"unicode/utf8"
)

// Outcomes a hub answers for an uploaded envelope.
const (
	// OutcomeStored: verified, restored and durably stored; the device may forget it.
	OutcomeStored = "stored"
	// OutcomeDuplicate: the hub already stored this envelope id; the device may forget it.
	OutcomeDuplicate = "duplicate"
	// OutcomeRejected: it failed a check and never will pass; the device keeps
	// it aside with the reason and does not send it again.
	OutcomeRejected = "rejected"
)

// Receipt bounds. The JSON of a real receipt is about 250 bytes.
const (
	MaxReceipt       = 4096
	MaxReceiptReason = 1024
	MaxUploadID      = 128
)

// ReceiptHeader is the HTTP header of the final PATCH response that carries
// the receipt, base64url (no padding) of its JSON.
const ReceiptHeader = "Edge-Receipt"

// ErrReceipt marks a receipt that is not one.
var ErrReceipt = errors.New("uplink: bad receipt")

// Receipt is the hub's answer for one upload. It is not signed: the TLS
// session with the pinned hub certificate is what vouches for it.
type Receipt struct {
	UploadID   string    `json:"upload_id"`
	EnvelopeID string    `json:"envelope_id"`
	Outcome    string    `json:"outcome"`
	Reason     string    `json:"reason,omitempty"`
	Received   time.Time `json:"received"`
}

// Check tells whether r is a receipt a device may act on.
func (r *Receipt) Check() error {
	if n := len(r.UploadID); n == 0 || n > MaxUploadID {
		return fmt.Errorf("%w: upload id of %d bytes, want 1..%d", ErrReceipt, n, MaxUploadID)
	}
	for i := 0; i < len(r.UploadID); i++ {
		if c := r.UploadID[i]; !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c == '-') {
			return fmt.Errorf("%w: upload id %q has a character other than a-z, 0-9 and -", ErrReceipt, r.UploadID)
		}
	}
	if b, err := hex.DecodeString(r.EnvelopeID); err != nil || len(b) != 16 || hex.EncodeToString(b) != r.EnvelopeID {
		return fmt.Errorf("%w: envelope id %q is not 32 lowercase hex digits", ErrReceipt, r.EnvelopeID)
	}
	switch r.Outcome {
	case OutcomeStored, OutcomeDuplicate:
	case OutcomeRejected:
		if r.Reason == "" {
			return fmt.Errorf("%w: rejected without a reason", ErrReceipt)
		}
	default:
		return fmt.Errorf("%w: outcome %q, want %q, %q or %q", ErrReceipt, r.Outcome, OutcomeStored, OutcomeDuplicate, OutcomeRejected)
	}
	if len(r.Reason) > MaxReceiptReason || !utf8.ValidString(r.Reason) {
		return fmt.Errorf("%w: reason of %d bytes is not UTF-8 under %d bytes", ErrReceipt, len(r.Reason), MaxReceiptReason)
	}
	return nil
}

// MarshalReceipt checks r and encodes it as JSON.
func MarshalReceipt(r *Receipt) ([]byte, error) {
	if err := r.Check(); err != nil {
		return nil, err
	}
	return json.Marshal(r)
}

// ParseReceipt decodes and checks a receipt: exactly one JSON object with
// only the keys above, at most MaxReceipt bytes.
func ParseReceipt(b []byte) (*Receipt, error) {
	if len(b) > MaxReceipt {
		return nil, fmt.Errorf("%w: %d bytes, more than %d", ErrReceipt, len(b), MaxReceipt)
	}
	d := json.NewDecoder(bytes.NewReader(b))
	d.DisallowUnknownFields()
	r := new(Receipt)
	if err := d.Decode(r); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrReceipt, err)
	}
	if _, err := d.Token(); err != io.EOF {
		return nil, fmt.Errorf("%w: data after the receipt object", ErrReceipt)
	}
	if err := r.Check(); err != nil {
		return nil, err
	}
	return r, nil
}

// EncodeReceiptHeader gives the value of ReceiptHeader for r.
func EncodeReceiptHeader(r *Receipt) (string, error) {
	b, err := MarshalReceipt(r)
	if err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// ParseReceiptHeader decodes a ReceiptHeader value.
func ParseReceiptHeader(v string) (*Receipt, error) {
	if len(v) > base64.RawURLEncoding.EncodedLen(MaxReceipt) {
		return nil, fmt.Errorf("%w: header of %d bytes, more than a %d-byte receipt", ErrReceipt, len(v), MaxReceipt)
	}
	b, err := base64.RawURLEncoding.DecodeString(v)
	if err != nil {
		return nil, fmt.Errorf("%w: header: %v", ErrReceipt, err)
	}
	return ParseReceipt(b)
}
