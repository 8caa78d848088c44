// Package biometric enrolls clinicians by fingerprint, verifies and
// identifies them, and measures how well the feature extractor separates
// fingers (FAR, FRR, EER, ROC).
//
// # Features and scores
//
// An Extractor turns a print into a feature vector (2048 float32 values for
// the ResNet152 of package infer). A template is the L2-normalised mean of the
// normalised feature vectors of the enrollment prints; the score of a probe is
// the cosine similarity between its features and the template's mean, in
// [-1, 1]. A probe matches when score ≥ threshold.
//
// # Threshold
//
// The threshold is never a guess: "edge eval-biometrics --store DIR" enrolls
// the first impressions of every finger in a folder of prints named F_I.png,
// scores the other impressions against every template (genuine: same finger,
// impostor: another finger) and stores the threshold at the equal-error point
// (or at a target FAR) in DIR/threshold.json, together with the SHA-256 of
// the model that produced the scores. The file carries an HMAC-SHA256 under a
// key derived from the store key, so that lowering the threshold by editing
// the file is detected. Verification refuses a threshold or a template made
// with another model.
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
//	DIR/threshold.json
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
//	| model SHA-256 (32 bytes) | mean (dim float32) | count × dim float32 (the enrollment vectors)
//
// Every float must be finite. The decoder checks the length the header
// implies against the bytes present before it allocates anything.
package biometric
