// Package minutiae is a fingerprint matcher built from the published
// methods: it finds the ridge endings and bifurcations of a print, stores
// them as an ISO/IEC 19794-2:2005 finger minutiae record, and compares two
// prints with the Minutia Cylinder-Code.
//
// # Use
//
//	t, quality, err := minutiae.Extract(img, 500) // *QualityError: no usable fingerprint
//	rec, _ := t.Encode()                          // ≤ 606 bytes; biometric data: store sealed, 0600
//	t, err = minutiae.Decode(rec)                 // *FormatError on a malformed record
//	e, _ := minutiae.Enroll([]*minutiae.Template{t1, t2, t3})
//	score := e.Score(minutiae.Prepare(probe))     // in [0, 1]; match when ≥ the calibrated threshold
//	hits, _ := minutiae.Identify(ctx, minutiae.Prepare(probe), gallery)
//	ev, _ := minutiae.Evaluate(ctx, samples, 3)   // EER, FMR100, FMR1000, ZeroFMR, FTE
//
// Prepare builds the cylinders of a template once (about 1–3 ms); a
// Prepared compares in well under a millisecond and is safe for concurrent
// use. The threshold is not a constant of this package: it comes from
// measured genuine and impostor scores (Evaluate's EERThreshold or
// ZeroFMRThreshold), as the caller's calibration does for any matcher.
//
// # Extraction
//
// Every print is first resampled to 500 dpi (WorkDPI), so that all sizes
// below are physical. In 8×8-pixel blocks the package computes the grey
// level spread (segmentation: blocks above a quarter of the 90th-percentile
// spread, a majority vote, holes filled, the largest region kept) and the
// gradient structure tensor over 24×24 pixels, whose doubled-angle vector
// gives the ridge orientation and its coherence; the vectors are smoothed
// over 5×5 blocks. The ridge period is the median, over the blocks, of the
// peak spacing of the grey-level signature taken across the ridges. The
// image is normalised to zero mean and unit variance over one period and
// filtered, pixel by pixel, with the even-symmetric Gabor filter of the
// local orientation (16 steps) and the print's period, σ = 0.45 period
// (Hong, Wan and Jain 1998); its sign is the binary ridge map, which
// Zhang–Suen thinning reduces to one-pixel curves.
//
// Minutiae are skeleton pixels with crossing number 1 (ending) or 3
// (bifurcation), at least 1.2 periods inside the print and the filter's
// reach from the image edge. False ones are removed by walking the skeleton
// from each: an ending that reaches another minutia within 1.5 periods is a
// spur or a short ridge, two forks joined within 1.2 periods a bridge or a
// hole (all removed in pairs); then two endings facing each other across
// less than 1.6 periods (a broken ridge), any two minutiae closer than half
// a period, and minutiae in blocks of coherence below 0.2 go. A minutia's
// direction follows ISO/IEC 19794-2: from an ending into its ridge, from a
// fork along the valley between its branches; the orientation field gives
// it precisely, the walk its sense. Quality is the block's coherence. At
// most MaxMinutiae, the best, are kept.
//
// The image quality (0–100) multiplies four clamped terms: mean coherence
// ((c − 0.15)/0.45), mean ridge–valley clarity ((k − 0.1)/0.4), foreground
// area (up to 150×150 pixels, about 58 mm²) and the share of blocks with a
// measurable period (up to 0.6). Clarity is, per block, the best over
// periods near the print's of half the difference of the signature's
// normalised autocorrelation one period and half a period apart: near 1
// for ridges and valleys, near 0 for noise, flat shading and single edges,
// which is what separates a print from, say, an MR slice, whose coherence
// is as high as a finger's. A print below MinQuality, or with fewer than
// MinMinutiae minutiae (a pattern of parallel lines has quality 100 and
// none), is refused with a *QualityError, which errors.Is matches to
// ErrNoFingerprint.
//
// # Matching
//
// Minutia Cylinder-Code (Cappelli, Ferrara and Maltoni 2010), bit-based:
// around each minutia a cylinder of radius 70 pixels, 16×16 cells × 6
// angular sections, aligned with the minutia's direction, so it is
// invariant to translation and rotation. A cell is set when the spatial
// (σS = 28/3) and directional (σD = 2π/9) contributions of the neighbouring
// minutiae exceed 0.01; it is valid inside the minutiae's convex hull
// widened by 50 pixels, which is what lets partially overlapping prints
// match. Cylinders with under 75 % valid cells or under 2 neighbours are
// dropped. Two cylinders' similarity is 1 − ‖a⊕b‖/(‖a‖+‖b‖) over the cells
// valid in both (at least 60 % of a base), 0 when their minutiae differ in
// direction by more than 90°. The global score is the paper's Local
// Similarity Sort with Relaxation: the min(nA, nB) best pairs (each
// minutia once), five rounds of relaxation rewarding pairs whose mutual
// distances, relative directions and radial angles agree, and the mean
// relaxed similarity of the 4–12 pairs that kept their similarity best.
// An enrollment of several impressions scores the best of them.
//
// # Record format (ISO/IEC 19794-2:2005 finger minutiae record)
//
// Big-endian throughout. Encode writes one finger view, no extended data:
//
//	offset size  field
//	0      4     format identifier "FMR\x00"
//	4      4     version " 20\x00"
//	8      4     total record length in bytes
//	12     2     capture equipment: certification (4 bits), device type (12 bits); written 0
//	14     2     image width in pixels (≤ 16383)
//	16     2     image height in pixels (≤ 16383)
//	18     2     horizontal resolution, pixels per cm (197 = 500 dpi)
//	20     2     vertical resolution, pixels per cm
//	22     1     number of finger views (≥ 1)
//	23     1     reserved, 0
//	then per view:
//	+0     1     finger position (0 unknown … 10); written 0
//	+1     1     view number (4 bits), impression type (4 bits: 0–3 or 8); written 0, 0 (live-scan plain)
//	+2     1     finger quality 0–100: the image quality
//	+3     1     number of minutiae n
//	+4     6·n   minutiae: type (2 bits: 0 other, 1 ending, 2 bifurcation) and x (14 bits);
//	             2 reserved bits (0) and y (14 bits); angle in 360/256° units,
//	             counter-clockwise from the x axis as seen on screen; quality 0–100
//	+4+6n  2     extended data length e, then e bytes
//
// Decode checks, in order: at most MaxRecordLen bytes; the 24-byte header
// present; identifier; version; the length field equal to the bytes given;
// size, resolution (98–600 px/cm), view count and reserved byte; the size
// scaled to 500 dpi within 16383. Then for each view: its header present,
// position, impression type and quality in range, and its n minutiae and
// extended-data length present before any is read; each minutia's type,
// reserved bits, position inside the image and quality; finally no bytes
// left over. Only then is a view's minutia slice (at most 255 entries)
// allocated. The first view becomes the template, its coordinates scaled
// to 500 dpi; the others are checked and skipped. A record of MaxMinutiae
// minutiae is 606 bytes.
//
// # Determinism
//
// No result depends on map order, goroutine scheduling or the core count:
// every sort has a total order, and the Gabor filter's sums are written
// with explicit conversions so that no compiler fuses a multiply and an
// add there. Scores are float64 and may differ in their last bits between
// architectures (the math package's functions and fused multiply–adds
// elsewhere); TestDeterministicOutput checks digests of the sample records
// and of the scores rounded to 1e-9 against those recorded on amd64, and
// the arm64 and 32-bit arm test binaries under qemu-user reproduce them.
package minutiae
