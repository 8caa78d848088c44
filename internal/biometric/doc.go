// Package biometric enrolls clinicians by fingerprint, verifies and
// identifies them, and measures how well the feature extractor separates
// fingers (FAR, FRR, EER, ROC).
//
// # Features and scores
//
// An Extractor turns a print into a feature vector (2048 float32 values for
// the ResNet152 of package infer). A template keeps the raw feature vectors
// of a clinician's enrollment prints. To score a probe, every vector is
// scaled to unit length and standardised per dimension, (u − centre) /
// scale, with statistics of a cohort of enrollment prints; the template's
// centre is the unit-length mean of its standardised vectors, and the score
// is the cosine similarity of the standardised probe to that centre, in
// [−1, 1]. A probe matches when score ≥ threshold.
//
// Why standardise: the features of a network with ReLU activations are all
// positive and share one large common direction, so raw cosines of any two
// prints sit within a few 1e-4 of 1 and the threshold would be a fragile
// 0.9998. Removing the cohort mean and dividing by the cohort spread (floored
// at a tenth of the mean spread, so a unit the cohort never moves cannot
// dominate) spreads the scores over a usable range and separates fingers
// better: on the 8-finger × 8-impression set with the untrained (seeded)
// int8 ResNet152 of "edge model build", EER 15.0 % raw and 8.6 % standardised.
// The gain is not the cohort recognising its own fingers: fitted on four
// fingers and tested on the other four (fp32, both halves pooled), EER is
// 6.7 % against 15.0 % raw.
//
// # Calibration
//
// Neither the standardisation nor the threshold is a guess: "edge
// eval-biometrics --store DIR" enrolls the first impressions of every finger
// in a folder of prints named F_I.png, fits the standardisation on those
// enrollment impressions only (never on the probes), scores the other
// impressions against every template (genuine: same finger, impostor: another
// finger) and keeps the centre, the scale and the threshold at the
// equal-error point (or at a target FAR) in DIR/calibration.json, together
// with the SHA-256 of the model that produced the scores. The file carries
// an HMAC-SHA256 under a key derived from the store key, so that lowering the
// threshold by editing it is detected. Enrollment and verification refuse a
// calibration or a template made with another model.
//
// The EER reported is min over thresholds t of max(FAR(t), FRR(t)): with
// finitely many scores the curves are steps and rarely cross exactly; this
// definition never reports a rate better than one that was observed at some
// threshold. Candidate thresholds are the midpoints between consecutive
// distinct scores, plus the lowest score (accept all) and the next float above
// the highest (reject all).
//
// # Store layout
//
//	DIR/              mode 0700
//	DIR/store.key     32 random bytes, mode 0600, made on first use
//	DIR/calibration.json  JSON, mode 0600: threshold, centre, scale, model, mac
//	DIR/<id>.tmpl     one sealed template per clinician, mode 0600
//
// Clinician ids are 1 to 64 characters from [A-Za-z0-9._-], not starting with
// '.' or '-', so that an id is always a plain file name in DIR.
//
// # Template file
//
// A template file is
//
//	"EBTS" | version (1 byte, 1) | nonce (12 bytes) | AES-256-GCM(store key, plaintext)
//
// with additional data "edge biometric template\x00" | id | the first 5
// bytes, so that a template renamed to another clinician's id does not open.
// The plaintext, all integers little-endian, is
//
//	"EBT1" | dim (uint16, 1..4096) | count (uint8, 1..16) | 0 (uint8)
//	| model SHA-256 (32 bytes) | count × dim float32 (the enrollment vectors)
//
// Every float must be finite. The decoder checks the length the header
// implies against the bytes present before it allocates anything.
package biometric
