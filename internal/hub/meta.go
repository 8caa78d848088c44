package hub

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/tus/tusd/v2/pkg/handler"
)

// Upload-Metadata keys a device sends on creation; doc.go describes them.
const (
	MetaEnvelopeID = "envelope_id"
	MetaDeviceID   = "device_id"
)

// maxMetadataHeader bounds the Upload-Metadata header checked: two keys with
// base64 values are about 100 bytes.
const maxMetadataHeader = 512

// uploadMeta is what the hub takes from a creation request.
type uploadMeta struct {
	EnvelopeID string
	DeviceID   string
}

// parseUploadMeta checks the Upload-Metadata header of a creation request
// from the device whose client certificate has id certDevice. It wants
// exactly the two keys, the envelope id as 32 lowercase hex digits and the
// device id equal to the certificate's. What it returns is only what the
// device claims: the envelope id is verified when the envelope is opened.
func parseUploadMeta(header, certDevice string) (uploadMeta, error) {
	if len(header) > maxMetadataHeader {
		return uploadMeta{}, fmt.Errorf("Upload-Metadata is %d bytes, more than %d", len(header), maxMetadataHeader)
	}
	var m uploadMeta
	pairs := strings.Split(header, ",")
	md := handler.ParseMetadataHeader(header)
	if len(pairs) != 2 || len(md) != 2 {
		return m, fmt.Errorf("Upload-Metadata has %d entries, want exactly %q and %q", len(pairs), MetaEnvelopeID, MetaDeviceID)
	}
	for k := range md {
		if k != MetaEnvelopeID && k != MetaDeviceID {
			return m, fmt.Errorf("Upload-Metadata key %q is not %q or %q", k, MetaEnvelopeID, MetaDeviceID)
		}
	}
	m.EnvelopeID, m.DeviceID = md[MetaEnvelopeID], md[MetaDeviceID]
	if b, err := hex.DecodeString(m.EnvelopeID); err != nil || len(b) != 16 || hex.EncodeToString(b) != m.EnvelopeID || m.EnvelopeID == strings.Repeat("0", 32) {
		return m, fmt.Errorf("Upload-Metadata %s %q is not 32 lowercase hex digits, not all zero", MetaEnvelopeID, m.EnvelopeID)
	}
	if b, err := hex.DecodeString(m.DeviceID); err != nil || len(b) != 8 || hex.EncodeToString(b) != m.DeviceID {
		return m, fmt.Errorf("Upload-Metadata %s %q is not 16 lowercase hex digits", MetaDeviceID, m.DeviceID)
	}
	if m.DeviceID != certDevice {
		return m, fmt.Errorf("Upload-Metadata %s %q is not the client certificate's device %q", MetaDeviceID, m.DeviceID, certDevice)
	}
	return m, nil
}

// newUploadID names an upload DEVICE-ENVELOPE-RANDOM: the device prefix is
// what the hub checks a request's certificate against, the envelope id lets
// a person find the upload of an envelope, and the random part keeps two
// uploads of one envelope apart and upload URLs unguessable.
func newUploadID(m uploadMeta) (string, error) {
	var r [8]byte
	if _, err := rand.Read(r[:]); err != nil {
		return "", fmt.Errorf("hub: upload id: %w", err)
	}
	return m.DeviceID + "-" + m.EnvelopeID + "-" + hex.EncodeToString(r[:]), nil
}

// uploadDevice is the device prefix of an upload id, "" if it has none.
func uploadDevice(id string) string {
	d, _, ok := strings.Cut(id, "-")
	if !ok || len(d) != 16 {
		return ""
	}
	return d
}
