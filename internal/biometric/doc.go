// Package biometric enrolls clinicians by fingerprint, verifies and
// identifies them (the minutiae matcher decides, the ResNet152 features
// key), and measures how well both separate fingers (FAR, FRR, EER, ROC).
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
// with the SHA-256 of the model that produced the scores, and the
// protected templates' threshold. The file carries an HMAC-SHA256 under a
// key derived from the store key, so that lowering the threshold by editing
// it is detected, and a version counter, so that putting an older file back
// is. Enrollment and verification refuse a
// calibration or a template made with another model.
//
// The EER reported is min over thresholds t of max(FAR(t), FRR(t)): with
// finitely many scores the curves are steps and rarely cross exactly; this
// definition never reports a rate better than one that was observed at some
// threshold. Candidate thresholds are the midpoints between consecutive
// distinct scores, plus the lowest score (accept all) and the next float above
// the highest (reject all).
//
// # Protected templates (BioHashing)
//
// A fingerprint cannot be revoked, so nothing that leaves the device may be
// the features or anything computed from them alone. What an image carries
// and the hub keeps is a protected, cancellable template: BioHashing (Teoh,
// Ngo, Goh, "BioHashing: two factor authentication featuring fingerprint
// data and tokenised random numbers", Pattern Recognition 37 (2004)), here
// with ±1 projections:
//
//	z   = the feature vector, unit length, standardised by the calibration
//	R   = 2048 × len(z) signs from AES-256-CTR under HKDF-SHA256(secret, "edge biohash projection v1")
//	bit i of the template = [ Σ_j R_ij z_j > 0 ]
//
// The secret is 32 random bytes drawn at enrollment and kept only inside
// the clinician's sealed template in the device's store. The registration
// the hub keeps is the BioHash of the template's centre (the reference every
// login score is taken against); an image carries the BioHash of the login
// probe under the same secret. The hub compares the two by Hamming distance.
//
// Why this scheme. Sign random projection is angle-preserving: for a random
// direction the probability that two vectors' signs differ is θ/π, θ the
// angle between them, so the Hamming distance between two templates
// estimates the angle whose cosine is the login score. Recognition from the
// protected template therefore tracks recognition at the device's login
// rather than that of a cruder code; "edge eval-biometrics" measures both
// the protected template and the raw binarised code on the same prints.
// Only additions of float64 values in a fixed order happen, so the bits are
// the same on every architecture (golden test).
//
// What it protects, and what not:
//   - Irreversibility without the secret: the hub sees 2048 signs of
//     projections onto directions it does not know; they do not determine
//     the features, and a template cannot be turned back into a print.
//   - Unlinkability and revocation: templates of one finger under two
//     secrets are as far apart as two different fingers' (distance ≈ 0.5,
//     measured), so a registry leak does not link a clinician to another
//     system, and re-enrolling (a new secret, the next Generation) makes
//     every old image fail verification against the new registration.
//   - With the secret and a template (a stolen device's store key and
//     store, plus the hub's registry) an attacker knows which side of 2048
//     known hyperplanes the clinician's standardised features lie: enough
//     to search for feature vectors that pass, not to recover the print.
//     This is the "stolen token" case of the BioHashing literature; the
//     evaluation's impostor scores are taken in it (every impostor uses the
//     claimed clinician's secret), so the figures do not rest on the
//     secret staying secret.
//
// K_bio still comes from the features, as in the paper: its keying material
// is the raw feature code (median-binarised) followed by
// HKDF-SHA256(secret, "edge K_bio clinician v1"). The secret's part means
// that the hub, which holds each K_bio and its salt, cannot test a candidate
// feature code against them.
//
// An Identity (Store.Login, on a match only) holds the protected template
// and the K_bio keying material of one login; it is made once per session
// and used for every image. FileIdentity makes one from a feature file for
// tests and the evaluation: its model hash is zero and a hub refuses it
// unless configured otherwise.
//
// # Store layout
//
//	DIR/                    mode 0700
//	DIR.key                 the store key: 32 random bytes, mode 0600, made once (link semantics)
//	DIR.key.calver          the last calibration version, MACed under the store key, mode 0600
//	DIR/.lock               saves to the store take this lock (flock), one at a time
//	DIR/calibration.json    JSON, mode 0600: version, thresholds, centre, scale, model, mac
//	DIR/<id>.tmpl           one sealed template per clinician, mode 0600, created with link semantics
//	DIR/<id>.mnt            the minutiae records of the clinician's enrollment impressions, sealed, mode 0600
//
// The key lives beside the folder, not in it (its path can be chosen):
// whoever may write the store, to back it up or restore it, does not thereby
// hold the key that authenticates the calibration. A store that still has
// DIR/store.key is refused with a message to move it. The calibration's
// version is one more than the last saved, and a calibration.json older
// than DIR.key.calver is refused, so an old file with a valid MAC (say, a
// lower threshold) cannot be put back. Opening a store removes the
// temporary files a power loss left in it.
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
//	"EBT2" | dim (uint16, 1..4096) | count (uint8, 1..16) | 0 (uint8)
//	| model SHA-256 (32 bytes) | secret (32 bytes) | generation (uint32)
//	| count × dim float32 (the enrollment vectors)
//
// The first format, "EBT1", has no secret and generation; it still opens,
// but cannot make a protected template until the clinician is enrolled
// again. Every float must be finite. The decoder checks the length the
// header implies against the bytes present before it allocates anything.
//
// # Login by print: the minutiae matcher decides
//
// The ResNet152 features key the clinician (their protected template and
// the Identity's key material); they do not decide who the clinician is.
// With the default untrained weights their EER is several per cent, far
// from what a login needs. The decision is taken by the minutiae matcher of
// package minutiae: EnrollPrints checks that the enrollment impressions
// (at least 3) agree under the calibrated MinutiaeThreshold, SavePrints
// keeps their ISO/IEC 19794-2 records in <id>.mnt beside the template (the
// records first, so a template never sits beside an older enrollment's
// records), and VerifyPrint / IdentifyPrint (MatchPrint / FindPrint for
// the decision alone) compare a print's minutiae with them, best score over
// the impressions. An Identity is made, from the print's features, only on
// a minutiae match. A print the matcher cannot use is an error wrapping
// *minutiae.QualityError, never a decision. Login by features alone (Login)
// is kept for callers that have no print.
//
// The minutiae threshold is measured by Evaluate with Minutiae set: by
// default above every impostor comparison of any two impressions (the
// largest impostor set the prints give), halfway between the highest of
// them and the lowest genuine score of the split protocol (which scores as
// a login does), or at a target false match rate over the same impostors. The same
// evaluation measures score fusion with the ResNet152 score (z-normalised
// sum); the decision uses the minutiae score alone because fusion did not
// measurably help (README, Biometrics).
//
// A records file is "EBMS" | version 1 | nonce (12) | AES-256-GCM(store
// key, plaintext), additional data "edge biometric minutiae\x00" | id | the
// first 5 bytes; the plaintext is "EBM1" | count (1..16) | count × (length
// (uint16 LE) | ISO/IEC 19794-2:2005 record).
//
// # Registration file and the hub's registry
//
// Enrollment (and revocation) can write the clinician's registration for
// the hub, mode 0600, all integers little-endian:
//
//	"EBTR" | version (1) | generation (uint32) | calibration version (uint64) | threshold (float64 bits)
//	| model SHA-256 (32) | len(id) (1) | id | protected template (256) | CRC-32C of the rest (uint32)
//
// The threshold is the calibration's ProtectedThreshold: the Hamming
// distance at the equal-error point (or target FAR) of the protected
// templates of the calibration prints. A new calibration changes the
// standardisation and so every protected template: the device exports the
// registrations again ("edge registration"), and they carry the newer
// calibration version. The hub's Registry is a folder (0700) of such files,
// <id>.reg; Register replaces a registration only with a higher generation
// (a revocation) or, within a generation, a newer calibration, and refuses
// a lower generation, so a revoked template cannot be put back; Verify compares an image's protected
// template with the registration by Hamming distance.
package biometric
