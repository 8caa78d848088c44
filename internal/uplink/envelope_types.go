package uplink

// Only the byte-slice methods are generated: UnmarshalMsg reads from a slice
// whose length bounds every allocation, while the stream decoders (-io) would
// allocate whatever length a hostile stream declares.
//
//go:generate go tool msgp -file envelope_types.go -o envelope_types_gen.go -io=false

// Header is the clear part of an envelope: what the hub needs to route,
// deduplicate and verify it before opening the seal. It carries no patient or
// clinician data; anything that names a person goes in Contents.
type Header struct {
	// FormatVersion repeats the version byte, so the signed header alone says
	// how to read the rest.
	FormatVersion uint8 `msg:"format_version"`
	// ID is random; the hub deduplicates retried uploads by it.
	ID [16]byte `msg:"id"`
	// DeviceID is the DeviceID of the key that signed the envelope.
	DeviceID string `msg:"device_id"`
	// HubKeyID is the Fingerprint of the hub key the contents are sealed to,
	// so a hub holding another key says so instead of failing to decrypt.
	HubKeyID string `msg:"hub_key_id"`
	// Created is when the image was sealed, in Unix nanoseconds of the device's clock.
	Created int64 `msg:"created"`
	// Scheme is SchemeV1 or SchemePaper.
	Scheme string `msg:"scheme"`
	// ModelHash is the SHA-256 of the feature model, zero when the features
	// came from a file.
	ModelHash [32]byte `msg:"model_hash"`
}

// Contents is the sealed part of an envelope.
type Contents struct {
	// KBio is the 256-bit key derived from the clinician's features; it keys
	// the embedding positions and the chaotic cipher.
	KBio []byte `msg:"k_bio"`
	// Salt is the per-image salt K_bio was derived with.
	Salt []byte `msg:"salt"`
	// ClinicianID names the clinician who captured the image.
	ClinicianID string `msg:"clinician_id"`
	// PayloadBits is how many bits of PayloadRef the hidden payload has.
	PayloadBits int `msg:"payload_bits"`
	// PayloadRef is the payload as embedded, for BER and NC at the hub.
	PayloadRef []byte `msg:"payload_ref"`

	Width         int    `msg:"width"`
	Height        int    `msg:"height"`
	Frames        int    `msg:"frames"`
	Channels      int    `msg:"channels"`
	BitsAllocated int    `msg:"bits_allocated"`
	BitsStored    int    `msg:"bits_stored"`
	Signed        bool   `msg:"signed"`
	Photometric   string `msg:"photometric"`

	// ContainerFormat is ContainerPNG or ContainerDICOM: what the hub writes back out.
	ContainerFormat string `msg:"container_format"`
	// DICOMHead and DICOMTail are the DICOM file's bytes before and after its
	// pixel data, so the hub can give it back as it was; empty for PNG.
	DICOMHead []byte `msg:"dicom_head"`
	DICOMTail []byte `msg:"dicom_tail"`

	// Restore is the embedder's restore record when the mark is not
	// self-contained (the carriers' original low bits), empty otherwise.
	Restore []byte `msg:"restore"`

	// PixelSHA256 is the SHA-256 of the original image's canonical raw bytes
	// (medimg.Image.RawBytes): the hub's proof of exact restore.
	PixelSHA256 [32]byte `msg:"pixel_sha256"`
	// Body is the encrypted, compressed marked image. Open returns it as a
	// view into the opened plaintext rather than a second copy of the largest field.
	Body []byte `msg:"body,zerocopy"`
}
