// Package embed hides a payload in a medical image reversibly: Extract returns
// the payload and the original samples bit for bit. Positions and order come
// from a 32-byte key; with another key nothing verifies and Extract fails.
//
// # Method
//
// Samples are offset to [0, m] (m = 2^bits stored − 1) and split, in every
// plane (each channel of each frame), into the two colours of a checkerboard.
// Pass 1 changes colour 0, predicted from its four colour-1 neighbours, which
// it leaves alone; pass 2 changes colour 1, predicted from the marked colour
// 0. Extraction undoes pass 2 first, seeing the same contexts.
//
// In each pass the samples are taken in order of a complexity measured on
// the other colour (twelve differences of nearby samples), smoothest first;
// equally smooth samples keep the colour's raster order (plane, row, column,
// channel) from a keyed first sample round to the one before it (SHA-256 in
// counter mode, seeded by HKDF-SHA256 of the key). Marks of version 1 kept a
// keyed Fisher–Yates order instead; Extract reads both. The raster order
// puts a mark's changes in a flat area next to each other, where a
// predictive coder spends fewer bits on them than on a shuffle's scattered
// changes (up to 59 % fewer on the sample images), and it needs no serial
// chain of swaps. Each sample's prediction error
// e = x − p, turned by a direction s = ±1 (fixed, or chosen from p so that
// samples near 0 move up and those near full scale move down), is expanded
// to ẽ·2^k + b when it lies in the window [−tn, tp), carrying k bits b, and
// shifted away from the window otherwise (prediction-error expansion /
// histogram shifting). A pass stops at the sample that takes its last bit.
// The embedder prices settings (k, direction, window, and the share of the
// stream each pass carries) by the squared change they cause and keeps the
// cheapest (on images of 2¹⁸ samples or more it stops at the first share
// that carries the stream); Capacity estimates the most an image can carry.
//
// Samples within reach of either end of the range are never changed. The
// extractor cannot tell such a sample from a changed one that ended in the
// same zone, so for each sample it meets in the zone a flag says which.
//
// # Layout
//
// The first R samples of a keyed sequence of distinct positions are reserved:
// they take no part in the passes, contexts read them with the low bit
// cleared, and their low bits are replaced, last, by
//
//	header (134 bits): version (4), R (30), payload bytes (16), L1 (30),
//	  per pass: k−1 (2), direction mode (2), window index (6), tp−tn (1),
//	  then 32 bits of HMAC-SHA256(mac key, the fields)
//	flags of pass 2, then of pass 1, then zeros up to R
//
// The stream the passes carry (pass 1 its first L1 bits, pass 2 the rest) is
//
//	payload ‖ the R reserved samples' original low bits ‖ tag (64 bits)
//
// XORed with a keyed keystream (so that saturated samples, whose low bits
// are all alike, do not bias it), with tag = HMAC-SHA256(mac key, "tag" ‖ payload length ‖ payload ‖
// SHA-256 of the original image's geometry and samples), truncated. Extract
// accepts nothing until the tag verifies over the image it restored, so a
// wrong key, an unmarked image or a changed sample is an error, never a
// wrong result. All decisions use integers only: the marked image is the
// same on every architecture.
//
// # Sealed marks
//
// Where expansion would leave the marked image below the product's quality
// floor (DefaultMinPSNR, DefaultMinSSIM) — small, evenly noisy 8-bit images,
// where about eight samples move per hidden bit — EmbedBest makes a sealed
// mark instead: the stream
//
//	payload length (16 bits) ‖ payload ‖ tag (64 bits), whitened as above
//
// replaces the lowest bit of that many keyed distinct samples (one level at
// most, never out of range), and the carriers' original low bits form the
// restore record
//
//	version (1) ‖ carriers (u32, big endian) ‖ original low bits, packed
//
// which the caller seals beside the image (the envelope's restore field).
// The payload comes out of the marked image alone; exact restore needs the
// record, and the same tag, verified over the restored image, binds the two.
package embed
