// Package protect is the pipeline: the one place that turns an image and a
// clinician's identity (biometric.Identity, made once at their login) into a
// sealed envelope and back. The command line, the
// appliance, the hub and the evaluation all call it, so none of them
// re-assembles the stages.
//
// Scheme v1 (the default):
//
//	payload  = version (2) | protected template (2048 bits) | clinician id | CRC-32C
//	K_bio    = HKDF-SHA256(feature code ‖ clinician key, per-image random salt, "edge K_bio v1")
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
// embedding key, the payload's CRC, that the extracted payload is the one
// sealed with it, that the restored pixels hash to the sealed SHA-256 and,
// with a registry, that the protected template matches the clinician's
// registration. Before any of that the Opener applies its model policy: a
// zero model hash (features from a file) or one it does not list is refused
// unless AllowUnverified. Any failure is an error: a wrong image is never
// returned.
//
// The feature code (the median-binarised features) is key material only:
// it enters K_bio together with a key derived from the clinician's template
// secret, and never leaves the device. What the image hides and the seal
// carries is the protected template (see package biometric), which the hub
// can compare but not invert, and which a new secret revokes.
// A failed check after the seal opened is an *IntegrityError, matched by
// errors.Is with ErrIntegrity and with the check (ErrBodyCorrupt,
// ErrMarkInvalid, ErrPayloadCRC, ErrPayloadMismatch, ErrPixelSHA256), and
// comes with no result.
//
// A Sealer and an Opener keep their coder's buffers from one image to the
// next and run the coder's stripes on up to GOMAXPROCS goroutines; each is
// for one goroutine at a time (make one per worker; they may share keys).
// The bytes they make do not depend on the number of cores.
package protect
