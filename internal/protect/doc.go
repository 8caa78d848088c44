// Package protect is the pipeline: the one place that turns an image and a
// clinician's features into a sealed envelope and back. The command line, the
// appliance, the hub and the evaluation all call it, so none of them
// re-assembles the stages.
//
// Scheme v1 (the default):
//
//	payload  = version | feature code (2048 bits) | clinician id | CRC-32C
//	K_bio    = HKDF-SHA256(feature code, per-image random salt, "edge K_bio v1")
//	marked   = embed(image, payload, HKDF-Expand(K_bio, "edge embed v1"))
//	body     = predictive Huffman(marked) XOR chaos keystream(HKDF-Expand(K_bio, "edge chaos v1"))
//	envelope = signed header | HPKE seal(K_bio, salt, geometry, DICOM data set, SHA-256 of original pixels, body)
//
// Scheme paper reproduces the publication: the marked image's pixel positions
// are permuted by the chaotic map and the permuted values coded with
// zero-order Huffman. Both schemes restore the original exactly.
//
// Recover checks, in order: the envelope's signature and seal (uplink), the
// body decodes to the sealed geometry, the mark extracts with K_bio's
// embedding key, the payload's CRC, that the extracted feature code derives
// the sealed K_bio with the sealed salt (the image carries the features the
// key came from), and that the restored pixels hash to the sealed SHA-256.
// Any failure is an error and no result: a wrong image is never returned.
// A failed check after the seal opened is an *IntegrityError, matched by
// errors.Is with ErrIntegrity and with the check (ErrBodyCorrupt,
// ErrMarkInvalid, ErrPayloadCRC, ErrKeyMismatch, ErrPixelSHA256).
//
// A Sealer and an Opener keep their coder's buffers from one image to the
// next and run the coder's stripes on up to GOMAXPROCS goroutines; each is
// for one goroutine at a time (make one per worker; they may share keys).
// The bytes they make do not depend on the number of cores.
package protect
